package org.murmur.kernels.testing;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Random;

/**
 * The random source of every generated test input. One base seed is drawn per JVM (or fixed with
 * {@code -Dmurmur.seed=N}); each test case derives its own stream from the base seed and the case's
 * name, so a failing case is reproduced by rerunning with the base seed that {@link #where()}
 * prints, whatever order the cases run in. Not thread-safe: one instance per case.
 */
public final class SeededRandom {
    /** The system property that fixes the base seed. */
    public static final String PROPERTY = "murmur.seed";

    private static final long BASE = initialBase();

    private final String caseName;
    private final Random random;

    private SeededRandom(String caseName) {
        this.caseName = caseName;
        this.random = new Random(mix(BASE, caseName));
    }

    /** A stream for one named test case; equal names give equal streams under one base seed. */
    public static SeededRandom forCase(String caseName) {
        return new SeededRandom(caseName);
    }

    /** The base seed of this JVM. */
    public static long baseSeed() {
        return BASE;
    }

    /** What to put in every assertion message: the case, the base seed and how to rerun it. */
    public String where() {
        return "[case " + caseName + ", seed " + BASE + "; rerun with -D" + PROPERTY + "=" + BASE + "]";
    }

    public String caseName() {
        return caseName;
    }

    public double gaussian() {
        return random.nextGaussian();
    }

    /** Uniform in {@code [from, to)}. */
    public double uniform(double from, double to) {
        return from + (to - from) * random.nextDouble();
    }

    /** Uniform in {@code [0, bound)}. */
    public int nextInt(int bound) {
        return random.nextInt(bound);
    }

    public boolean nextBoolean() {
        return random.nextBoolean();
    }

    public long nextLong() {
        return random.nextLong();
    }

    private static long initialBase() {
        String fixed = System.getProperty(PROPERTY);
        if (fixed != null && !fixed.isBlank()) {
            return Long.parseLong(fixed.trim());
        }
        return new SecureRandom().nextLong() >>> 1;
    }

    private static long mix(long base, String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        long z = base + 0x9e3779b97f4a7c15L * (h | 1);
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
