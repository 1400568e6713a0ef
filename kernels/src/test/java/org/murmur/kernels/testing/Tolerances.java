package org.murmur.kernels.testing;

import org.murmur.kernels.api.RuleSpec;

/**
 * The two checks of the spec's "Tolerances" section, with a failure message that names the rule,
 * the seed, the index, the expected and the actual value. Here {@code b} is the float64 reference
 * cast to float32, as the spec defines it.
 */
public final class Tolerances {
    public static final double ABSOLUTE = 1e-5;
    public static final double RELATIVE = 1e-4;
    public static final double RELATIVE_L2 = 1e-4;

    private Tolerances() {
    }

    /** True for the rules checked by relative L2 error (geomedian, centered_clip). */
    public static boolean iterative(RuleSpec rule) {
        return rule instanceof RuleSpec.GeoMedian || rule instanceof RuleSpec.CenteredClip;
    }

    /** The check the spec assigns to {@code rule}, after requiring every output element finite. */
    public static void assertMatches(RuleSpec rule, String where, double[] expected, float[] actual) {
        if (iterative(rule)) {
            assertRelativeL2(rule + " " + where, expected, actual);
        } else {
            assertElementwise(rule + " " + where, expected, actual);
        }
    }

    /** Every element: {@code |a - b| <= 1e-5 + 1e-4 |b|}. */
    public static void assertElementwise(String what, double[] expected, float[] actual) {
        assertAllFinite(what, actual);
        requireLength(what, expected, actual);
        for (int i = 0; i < expected.length; i++) {
            double b = (float) expected[i];
            double a = actual[i];
            if (!(Math.abs(a - b) <= ABSOLUTE + RELATIVE * Math.abs(b))) {
                throw new AssertionError(what + ": element " + i + " expected " + b + " (float64 " + expected[i]
                        + ") but was " + a + "; |a-b| = " + Math.abs(a - b) + " > " + (ABSOLUTE + RELATIVE * Math.abs(b)));
            }
        }
    }

    /** The whole vector: {@code ||a - b|| / ||b|| <= 1e-4} (and {@code a == b} when b is zero). */
    public static void assertRelativeL2(String what, double[] expected, float[] actual) {
        assertAllFinite(what, actual);
        requireLength(what, expected, actual);
        double diff = 0;
        double ref = 0;
        int worst = 0;
        double worstGap = -1;
        for (int i = 0; i < expected.length; i++) {
            double b = (float) expected[i];
            double gap = actual[i] - b;
            diff += gap * gap;
            ref += b * b;
            if (Math.abs(gap) > worstGap) {
                worstGap = Math.abs(gap);
                worst = i;
            }
        }
        double error = Math.sqrt(diff);
        double scale = Math.sqrt(ref);
        if (!(error <= RELATIVE_L2 * scale)) {
            throw new AssertionError(what + ": relative L2 error " + (error / scale) + " > " + RELATIVE_L2
                    + " (||a-b|| = " + error + ", ||b|| = " + scale + "); worst element " + worst + " expected "
                    + (float) expected[worst] + " but was " + actual[worst]);
        }
    }

    /**
     * Krum scores (float64 sums of squared distances, which may exceed the float32 range) by the
     * element-wise rule, in float64.
     */
    public static void assertScores(String what, double[] expected, double[] actual) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": expected " + expected.length + " scores but got " + actual.length);
        }
        for (int i = 0; i < expected.length; i++) {
            double b = expected[i];
            double a = actual[i];
            if (!(Math.abs(a - b) <= ABSOLUTE + RELATIVE * Math.abs(b))) {
                throw new AssertionError(what + ": score " + i + " expected " + b + " but was " + a);
            }
        }
    }

    /** Every element finite. */
    public static void assertAllFinite(String what, float[] actual) {
        for (int i = 0; i < actual.length; i++) {
            if (!Float.isFinite(actual[i])) {
                throw new AssertionError(what + ": element " + i + " of the output is " + actual[i]);
            }
        }
    }

    /** Bit-for-bit equality, naming the first element that differs. */
    public static void assertBitIdentical(String what, float[] expected, float[] actual) {
        requireLength(what, expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError(what + ": element " + i + " differs: " + expected[i] + " ("
                        + Integer.toHexString(Float.floatToRawIntBits(expected[i])) + ") vs " + actual[i] + " ("
                        + Integer.toHexString(Float.floatToRawIntBits(actual[i])) + ")");
            }
        }
    }

    /**
     * Two float32 outputs of the same rule within the rule's tolerance of each other, with the
     * first taken as b (used to compare launch configurations).
     */
    public static void assertClose(RuleSpec rule, String what, float[] baseline, float[] actual) {
        double[] b = new double[baseline.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = baseline[i];
        }
        assertMatches(rule, what, b, actual);
    }

    private static void requireLength(String what, double[] expected, float[] actual) {
        requireLength(what, expected.length, actual.length);
    }

    private static void requireLength(String what, int expected, int actual) {
        if (expected != actual) {
            throw new AssertionError(what + ": expected " + expected + " elements but got " + actual);
        }
    }
}
