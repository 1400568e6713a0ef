package org.murmur.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import org.murmur.kernels.api.AggregationReport;
import org.murmur.kernels.api.Backend;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.UpdateBatch;
import org.murmur.kernels.cpu.CpuBackend;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Time for the CPU backend to aggregate n memory-mapped float32 updates of d coordinates by one
 * rule, on the data files the NumPy peer reads ({@link DataFiles}). One trial per fork; the 2 GB
 * case (n = 50, d = 10M) keeps iterations few. After the trial, a fingerprint of the output
 * (L2 norm and 16 sampled values) goes to {@code murmur-check-*.json} in the work directory, so
 * the table script can confirm that Murmur and NumPy computed the same thing.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class RuleBenchmark {
    /** Output samples taken for the cross-check, evenly spaced over [0, d). */
    static final int SAMPLES = 16;

    @Param({"fedavg", "median", "trimmed_mean", "krum", "multikrum", "bulyan", "geomedian", "centered_clip",
            "norm_clip_mean"})
    public String rule;

    @Param({"10", "50"})
    public int n;

    @Param({"1000000", "10000000"})
    public long d;

    private Backend backend;
    private RuleSpec spec;
    private UpdateBatch batch;
    private FloatVector out;
    private AggregationReport lastReport;

    @Setup(Level.Trial)
    public void setUp() {
        Path work = DataFiles.workDir();
        batch = DataFiles.batch(DataFiles.ensure(work, n, d), n, d);
        spec = BenchRules.spec(rule, n, d);
        out = FloatVector.allocate(d);
        backend = new CpuBackend();
    }

    @Benchmark
    public double aggregate() {
        AggregationReport report = backend.aggregate(spec, batch, out);
        lastReport = report;
        float[] probe = new float[1];
        out.get(d / 2, probe, 0, 1);
        return probe[0] + report.iterations() + report.selected().length;
    }

    @TearDown(Level.Trial)
    public void writeCheck() {
        if (lastReport == null) {
            return;
        }
        double sumSquares = 0;
        float[] block = new float[1 << 16];
        for (long at = 0; at < d; at += block.length) {
            int run = (int) Math.min(block.length, d - at);
            out.get(at, block, 0, run);
            for (int i = 0; i < run; i++) {
                sumSquares += (double) block[i] * block[i];
            }
        }
        float[] one = new float[1];
        StringBuilder samples = new StringBuilder();
        for (int s = 0; s < SAMPLES; s++) {
            out.get(sampleIndex(s, d), one, 0, 1);
            samples.append(s == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.9g", one[0]));
        }
        String json = String.format(Locale.ROOT,
                "{\"rule\": \"%s\", \"n\": %d, \"d\": %d, \"l2\": %.12g, \"samples\": [%s], \"selected\": %s, \"iterations\": %d}%n",
                rule, n, d, Math.sqrt(sumSquares), samples, Arrays.toString(lastReport.selected()), lastReport.iterations());
        Path file = DataFiles.workDir().resolve("murmur-check-" + rule + "-n" + n + "-d" + d + ".json");
        try {
            Files.writeString(file, json, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** The s-th sampled coordinate: {@code s * (d - 1) / (SAMPLES - 1)}, as the NumPy peer takes it. */
    static long sampleIndex(int s, long d) {
        return s * (d - 1) / (SAMPLES - 1);
    }
}
