package org.murmur.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.murmur.kernels.api.AggregationReport;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.testing.Batches;
import org.murmur.kernels.testing.Batches.Built;
import org.murmur.kernels.testing.Batches.Dtypes;
import org.murmur.kernels.testing.Batches.Layout;
import org.murmur.kernels.testing.Batches.TensorSpec;
import org.murmur.kernels.testing.RandomUpdates;
import org.murmur.kernels.testing.ReferenceRules;
import org.murmur.kernels.testing.ReferenceRules.Expected;
import org.murmur.kernels.testing.SeededRandom;
import org.murmur.kernels.testing.Tolerances;

/**
 * What every rule must do with any well-formed batch, whatever its layout: overwrite the whole
 * output, cope with empty tensors and one-element chunks, stay exact at extreme magnitudes (the
 * rules are defined in float64), and give the same answers to concurrent callers.
 */
public abstract class BatchContract extends AggregationContract {

    /** One rule of each kind, valid for n = 9, with parameters scaled to values of size {@code scale}. */
    static List<RuleSpec> everyRule(int n, int d, double scale) {
        double[] weights = new double[n];
        for (int i = 0; i < n; i++) {
            weights[i] = 1 + i % 3;
        }
        double typicalNorm = 2 * scale * Math.sqrt(d);
        return List.of(new RuleSpec.FedAvg(null), new RuleSpec.FedAvg(weights), new RuleSpec.Median(),
                new RuleSpec.TrimmedMean(2), new RuleSpec.Krum(2), new RuleSpec.MultiKrum(1, 4), new RuleSpec.Bulyan(1),
                new RuleSpec.GeoMedian(), new RuleSpec.CenteredClip(typicalNorm, 3, null), new RuleSpec.NormClipMean(typicalNorm));
    }

    static Stream<RuleSpec> rules() {
        return everyRule(9, 70, 1).stream();
    }

    private Built tieFreeBatch(SeededRandom random, RuleSpec rule, int n, Layout layout, Dtypes types, int chunks) {
        double[][] x = RandomUpdates.tieFree(random, rule, n, layout, types, 2);
        return Batches.builder(x, layout).dtypes(types).chunkElements(chunks).build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rules")
    void overwritesEveryElementOfADirtyOutput(RuleSpec rule) {
        SeededRandom random = SeededRandom.forCase("dirty output " + rule);
        Layout layout = Layout.multi(70, random);
        Built built = tieFreeBatch(random, rule, 9, layout, Dtypes.all(ElementType.F32), 0);
        FloatVector out = FloatVector.allocate(70);
        float[] dirty = new float[70];
        java.util.Arrays.fill(dirty, Float.NaN);
        out.put(0, dirty, 0, 70);
        AggregationReport report = backendFor(2, SMALL_TILE).aggregate(rule, built.batch(), out);
        float[] values = new float[70];
        out.get(0, values, 0, 70);
        Expected expected = ReferenceRules.apply(rule, built.values(), null);
        Tolerances.assertMatches(rule, "over a NaN-filled output " + random.where(), expected.value(), values);
        checkReport(rule, expected, report, random.where());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rules")
    void emptyTensorsHoldNoCoordinates(RuleSpec rule) {
        SeededRandom random = SeededRandom.forCase("empty tensors " + rule);
        Layout layout = Layout.of(new TensorSpec("w", new long[] {5, 8}), new TensorSpec("empty", new long[] {0}),
                new TensorSpec("a.empty", new long[] {3, 0}), new TensorSpec("s", new long[0]),
                new TensorSpec("v", new long[] {29}));
        Built built = tieFreeBatch(random, rule, 9, layout, Dtypes.mixed(), 0);
        check(rule, built, null, random.where() + " layout " + layout, 2, 16);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rules")
    void oneElementChunks(RuleSpec rule) {
        SeededRandom random = SeededRandom.forCase("one-element chunks " + rule);
        Layout layout = Layout.multi(70, random);
        Built built = tieFreeBatch(random, rule, 9, layout, Dtypes.perUpdate(ElementType.F16, ElementType.F32, ElementType.BF16), 1);
        check(rule, built, null, random.where() + " layout " + layout, 3, 16);
    }

    static Stream<Arguments> ruleIndices() {
        List<RuleSpec> rules = everyRule(9, 33, 1);
        return java.util.stream.IntStream.range(0, rules.size()).mapToObj(i -> Arguments.of(i, rules.get(i).name()));
    }

    @ParameterizedTest(name = "{1} ({0})")
    @MethodSource("ruleIndices")
    void hugeValuesDoNotOverflow(int rule, String name) {
        checkScaled(rule, 0x1p64);
    }

    @ParameterizedTest(name = "{1} ({0})")
    @MethodSource("ruleIndices")
    void tinyValuesKeepTheirChoices(int rule, String name) {
        checkScaled(rule, 0x1p-64);
    }

    /**
     * The rule (re-parameterized for the scale) on tie-free values multiplied by a power of two:
     * exact in float32, and in float64 the rule's choices are the unscaled ones. A float32 sum of
     * squares would overflow at 2^64 and lose its digits to underflow at 2^-64.
     */
    private void checkScaled(int index, double scale) {
        RuleSpec unscaled = everyRule(9, 33, 1).get(index);
        RuleSpec rule = everyRule(9, 33, scale).get(index);
        SeededRandom random = SeededRandom.forCase("scaled " + scale + " " + rule);
        Layout layout = Layout.multi(33, random);
        double[][] x = RandomUpdates.tieFree(random, unscaled, 9, layout, Dtypes.all(ElementType.F32), 2);
        for (double[] row : x) {
            for (int j = 0; j < row.length; j++) {
                row[j] *= scale;
            }
        }
        Built built = Batches.builder(x, layout).build();
        Expected expected = ReferenceRules.apply(rule, built.values(), null);
        Run run = run(rule, built.batch());
        String where = "values scaled by " + scale + " " + random.where();
        Tolerances.assertMatches(rule, where, expected.value(), run.out());
        assertArrayEquals(expected.selected(), run.report().selected(), () -> rule + " selection " + where);
        if (scale < 1 && !Tolerances.iterative(rule)) {
            // The absolute tolerance would accept anything this small: compare relative to the scale.
            double[] rescaled = expected.value().clone();
            float[] actual = run.out().clone();
            for (int j = 0; j < rescaled.length; j++) {
                rescaled[j] /= scale;
                actual[j] = (float) (actual[j] / scale);
            }
            Tolerances.assertElementwise(rule + " rescaled " + where, rescaled, actual);
        }
    }

    /**
     * One Byzantine update of huge but finite float32 values (around 1e30) among honest ones: the
     * rules are defined in float64, where its squared distances (1e61) are ordinary numbers, so
     * the robust rules must still discard or clip it and every output must stay finite.
     */
    @ParameterizedTest(name = "{1} ({0})")
    @MethodSource("ruleIndices")
    void oneHugeByzantineUpdateIsHandledAsInFloat64(int index, String name) {
        RuleSpec rule = everyRule(9, 33, 1).get(index);
        SeededRandom random = SeededRandom.forCase("huge byzantine " + rule);
        Layout layout = Layout.multi(33, random);
        double[][] x = RandomUpdates.tieFree(random, rule, 9, layout, Dtypes.all(ElementType.F32), 0);
        int attacker = random.nextInt(9);
        for (int j = 0; j < 33; j++) {
            x[attacker][j] = (random.nextBoolean() ? 1e30 : -1e30) * random.uniform(0.5, 1);
        }
        Built built = Batches.builder(x, layout).build();
        String where = "update " + attacker + " of size 1e30 " + random.where();
        String tie = ReferenceRules.nearTie(rule, built.values());
        if (tie != null) {
            throw new IllegalStateException("the attacker made a near tie: " + tie + " " + where);
        }
        check(rule, built, null, where, 2, SMALL_TILE);
    }

    @Test
    void concurrentCallsOnOneBackendAgreeWithSequentialOnes() throws Exception {
        SeededRandom random = SeededRandom.forCase("concurrent calls");
        List<RuleSpec> rules = everyRule(9, 200, 1);
        List<Built> batches = new ArrayList<>();
        List<float[]> sequential = new ArrayList<>();
        for (RuleSpec rule : rules) {
            Layout layout = Layout.multi(200, random);
            Built built = tieFreeBatch(random, rule, 9, layout, Dtypes.mixed(), 0);
            batches.add(built);
            sequential.add(run(rule, built.batch(), 2, SMALL_TILE).out());
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<float[]>> futures = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                for (int r = 0; r < rules.size(); r++) {
                    int i = r;
                    futures.add(pool.submit(() -> run(rules.get(i), batches.get(i).batch(), 2, SMALL_TILE).out()));
                }
            }
            for (int f = 0; f < futures.size(); f++) {
                int r = f % rules.size();
                RuleSpec rule = rules.get(r);
                float[] concurrent = futures.get(f).get();
                String where = "concurrent call " + f + " " + random.where();
                if (rule.coordinateWise()) {
                    Tolerances.assertBitIdentical(rule + " " + where, sequential.get(r), concurrent);
                } else {
                    Tolerances.assertClose(rule, where, sequential.get(r), concurrent);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
