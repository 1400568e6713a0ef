package org.murmur.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.testing.Batches;
import org.murmur.kernels.testing.Batches.Built;
import org.murmur.kernels.testing.Batches.Dtypes;
import org.murmur.kernels.testing.Batches.Layout;
import org.murmur.kernels.testing.RandomUpdates;
import org.murmur.kernels.testing.ReferenceRules;
import org.murmur.kernels.testing.ReferenceRules.Expected;
import org.murmur.kernels.testing.SeededRandom;
import org.murmur.kernels.testing.Tolerances;

/**
 * Determinism across launch configurations (tile sizes 1, 7, 64, 4096 with 1, 2 and 3 threads):
 * the coordinate-wise rules bit for bit, the Krum family's selections exactly, the whole-vector
 * rules within the spec's tolerance of each other and of the reference.
 */
public abstract class CrossConfigurationContract extends AggregationContract {
    static final int[] TILES = {1, 7, SMALL_TILE, DEFAULT_TILE};
    static final int[] THREADS = {1, 2, 3};

    /** A few seeded trials: n, d, element types. */
    static Stream<Arguments> trials() {
        return Stream.of(
                Arguments.of(1, 5, 1003, "F32"),
                Arguments.of(2, 9, 4097, "MIXED"),
                Arguments.of(3, 37, 300, "F16"),
                Arguments.of(4, 8, 65, "BF16"));
    }

    private static Dtypes dtypes(String name) {
        return switch (name) {
            case "MIXED" -> Dtypes.mixed();
            case "F16" -> Dtypes.all(ElementType.F16);
            case "BF16" -> Dtypes.all(ElementType.BF16);
            default -> Dtypes.all(ElementType.F32);
        };
    }

    private Built batch(SeededRandom random, RuleSpec rule, int n, int d, String types) {
        Layout layout = Layout.multi(d, random);
        double[][] x = RandomUpdates.tieFree(random, rule, n, layout, dtypes(types), Math.max(1, n / 5));
        return Batches.builder(x, layout).dtypes(dtypes(types)).chunkElements(11).build();
    }

    @ParameterizedTest(name = "trial {0}: n={1} d={2} {3}")
    @MethodSource("trials")
    void coordinateWiseRulesAreBitIdenticalAcrossTilesAndThreads(int trial, int n, int d, String types) {
        SeededRandom random = SeededRandom.forCase("bit-identical trial " + trial);
        double[] weights = new double[n];
        for (int i = 0; i < n; i++) {
            weights[i] = random.uniform(0, 2);
        }
        List<RuleSpec> rules = List.of(new RuleSpec.FedAvg(null), new RuleSpec.FedAvg(weights), new RuleSpec.Median(),
                new RuleSpec.TrimmedMean(random.nextInt((n - 1) / 2 + 1)));
        Built built = batch(random, new RuleSpec.Median(), n, d, types);
        for (RuleSpec rule : rules) {
            Expected expected = ReferenceRules.apply(rule, built.values(), null);
            float[] baseline = run(rule, built.batch(), 1, 1).out();
            Tolerances.assertMatches(rule, "tile 1, 1 thread " + random.where(), expected.value(), baseline);
            for (int tile : TILES) {
                for (int threads : THREADS) {
                    float[] out = run(rule, built.batch(), threads, tile).out();
                    Tolerances.assertBitIdentical(rule + " tile " + tile + ", " + threads + " threads vs tile 1, 1 thread "
                            + random.where(), baseline, out);
                }
            }
        }
    }

    @ParameterizedTest(name = "trial {0}: n={1} d={2} {3}")
    @MethodSource("trials")
    void krumFamilySelectionsAreIdenticalAcrossTilesAndThreads(int trial, int n, int d, String types) {
        SeededRandom random = SeededRandom.forCase("selections trial " + trial);
        List<RuleSpec> rules = List.of(new RuleSpec.Krum(random.nextInt((n - 3) / 2 + 1)),
                new RuleSpec.MultiKrum(random.nextInt((n - 3) / 2 + 1), 1 + random.nextInt(n)),
                new RuleSpec.Bulyan(random.nextInt((n - 3) / 4 + 1)));
        for (RuleSpec rule : rules) {
            Built built = batch(random, rule, n, d, types);
            Expected expected = ReferenceRules.apply(rule, built.values(), null);
            Run baseline = run(rule, built.batch(), 1, 1);
            String where = random.where() + " layout " + built.layout();
            Tolerances.assertMatches(rule, "tile 1, 1 thread " + where, expected.value(), baseline.out());
            checkReport(rule, expected, baseline.report(), "tile 1, 1 thread " + where);
            for (int tile : TILES) {
                for (int threads : THREADS) {
                    Run other = run(rule, built.batch(), threads, tile);
                    String config = "tile " + tile + ", " + threads + " threads " + where;
                    assertArrayEquals(baseline.report().selected(), other.report().selected(), () -> rule + " selection " + config);
                    if (rule instanceof RuleSpec.Krum) {
                        Tolerances.assertBitIdentical(rule + " " + config, baseline.out(), other.out());
                    } else {
                        Tolerances.assertClose(rule, config, baseline.out(), other.out());
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "trial {0}: n={1} d={2} {3}")
    @MethodSource("trials")
    void wholeVectorRulesAgreeAcrossTilesAndThreads(int trial, int n, int d, String types) {
        SeededRandom random = SeededRandom.forCase("whole-vector trial " + trial);
        double norm = 2 * Math.sqrt(d);
        List<RuleSpec> rules = List.of(new RuleSpec.GeoMedian(), new RuleSpec.GeoMedian(3, 1e-8, 0),
                new RuleSpec.CenteredClip(norm, 3, null), new RuleSpec.NormClipMean(norm));
        Built built = batch(random, new RuleSpec.Median(), n, d, types);
        for (RuleSpec rule : rules) {
            Expected expected = ReferenceRules.apply(rule, built.values(), null);
            float[] baseline = run(rule, built.batch(), 1, 1).out();
            for (int tile : TILES) {
                for (int threads : THREADS) {
                    Run other = run(rule, built.batch(), threads, tile);
                    String config = "tile " + tile + ", " + threads + " threads " + random.where();
                    Tolerances.assertMatches(rule, config, expected.value(), other.out());
                    Tolerances.assertClose(rule, config + " vs tile 1, 1 thread", baseline, other.out());
                    checkReport(rule, expected, other.report(), config);
                }
            }
        }
    }
}
