package org.murmur.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.murmur.kernels.api.AggregationReport;
import org.murmur.kernels.api.Backend;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.Update;
import org.murmur.kernels.api.UpdateBatch;
import org.murmur.kernels.testing.Batches;
import org.murmur.kernels.testing.Batches.Built;
import org.murmur.kernels.testing.Batches.Dtypes;
import org.murmur.kernels.testing.Batches.Layout;
import org.murmur.kernels.testing.RandomUpdates;
import org.murmur.kernels.testing.ReferenceRules;
import org.murmur.kernels.testing.ReferenceRules.Expected;
import org.murmur.kernels.testing.SeedReporter;
import org.murmur.kernels.testing.SeededRandom;
import org.murmur.kernels.testing.Tolerances;

/**
 * What every rule's contract suite shares: the backend under test (one per thread count and tile
 * size, built by the subclass), running a rule into a fresh output vector, checking the output
 * and the report against {@link ReferenceRules}, and the grid of random cases (edge sizes around
 * the warp and a small tile, n from 1 up past 32, F32/F16/BF16 and mixed element types).
 */
@ExtendWith(SeedReporter.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class AggregationContract {
    /** A small tile so that every random case spans several tiles. */
    protected static final int SMALL_TILE = 64;
    /** The CPU backend's default tile, exercised once per rule. */
    protected static final int DEFAULT_TILE = 4096;
    /** 1, around a warp of 32, around the small tile, and a size that is no multiple of 8. */
    protected static final int[] EDGE_DIMENSIONS = {1, 31, 32, 33, SMALL_TILE - 1, SMALL_TILE, SMALL_TILE + 1, 1003};

    private final Map<String, Backend> backends = new ConcurrentHashMap<>();

    /** The backend under test with {@code threads} workers and tiles of {@code tileCoords} coordinates. */
    protected abstract Backend backend(int threads, int tileCoords);

    /** Closes the backends this suite built (their threads, their device memory). */
    @AfterAll
    final void closeBackends() {
        backends.values().forEach(Backend::close);
        backends.clear();
    }

    /** One backend per configuration, reused by every test of the suite. */
    protected final Backend backendFor(int threads, int tileCoords) {
        return backends.computeIfAbsent(threads + "x" + tileCoords, k -> backend(threads, tileCoords));
    }

    /** An output and the report it came with. */
    protected record Run(float[] out, AggregationReport report) {
    }

    protected final Run run(RuleSpec rule, UpdateBatch batch) {
        return run(rule, batch, 2, SMALL_TILE);
    }

    protected final Run run(RuleSpec rule, UpdateBatch batch, int threads, int tileCoords) {
        FloatVector out = FloatVector.allocate(batch.dimension());
        AggregationReport report = backendFor(threads, tileCoords).aggregate(rule, batch, out);
        float[] values = new float[Math.toIntExact(batch.dimension())];
        out.get(0, values, 0, values.length);
        return new Run(values, report);
    }

    /** Runs a rule on hand-written F32 values. */
    protected final Run run(RuleSpec rule, double[][] values) {
        return run(rule, Batches.f32(values).batch());
    }

    /**
     * Runs a rule on hand-written F32 values with one tensor per coordinate ({@code c0} 0-d, the
     * others of shape [1], handed over in reverse order): whole-update rules must take norms over
     * all tensors together.
     */
    protected final Run runSplit(RuleSpec rule, double[][] values) {
        return run(rule, Batches.builder(values, splitLayout(values[0].length)).build().batch());
    }

    /** One tensor per coordinate, see {@link #runSplit}. */
    protected static Layout splitLayout(int d) {
        Batches.TensorSpec[] tensors = new Batches.TensorSpec[d];
        for (int j = 0; j < d; j++) {
            tensors[d - 1 - j] = new Batches.TensorSpec("c" + j, j == 0 ? new long[0] : new long[] {1});
        }
        return Layout.of(tensors);
    }

    /** Float32 values of a literal vector, for assertArrayEquals on golden results. */
    protected static float[] floats(double... values) {
        float[] f = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }

    /** Asserts a golden result within the mean-like tolerance. */
    protected static void assertGolden(RuleSpec rule, double[] expected, Run run) {
        Tolerances.assertElementwise(rule + " golden", expected, run.out());
    }

    // ---------------------------------------------------------------- checking against the reference

    /** Runs {@code rule} on {@code built} and checks output and report against the reference. */
    protected final Expected check(RuleSpec rule, Built built, double[] center, String where, int threads, int tileCoords) {
        Expected expected = ReferenceRules.apply(rule, built.values(), center);
        Run run = run(rule, built.batch(), threads, tileCoords);
        Tolerances.assertMatches(rule, where, expected.value(), run.out());
        checkReport(rule, expected, run.report(), where);
        return expected;
    }

    /** The report: selection and full-set scores for the Krum family, iterations for the iterative rules. */
    protected static void checkReport(RuleSpec rule, Expected expected, AggregationReport report, String where) {
        boolean krumFamily = rule instanceof RuleSpec.Krum || rule instanceof RuleSpec.MultiKrum || rule instanceof RuleSpec.Bulyan;
        if (krumFamily) {
            assertArrayEquals(expected.selected(), report.selected(), () -> rule + " selected " + where + ": expected "
                    + Arrays.toString(expected.selected()) + " but was " + Arrays.toString(report.selected()));
            Tolerances.assertScores(rule + " krumScores " + where, expected.krumScores(), report.krumScores());
        } else {
            assertEquals(0, report.selected().length, () -> rule + " selects nothing " + where);
            assertEquals(0, report.krumScores().length, () -> rule + " has no Krum scores " + where);
        }
        if (rule instanceof RuleSpec.GeoMedian g) {
            if (clearStops(expected.stopRatios(), g.tol())) {
                assertEquals(expected.iterations(), report.iterations(), () -> rule + " iterations " + where
                        + "; reference stop ratios " + Arrays.toString(expected.stopRatios()));
            } else {
                assertTrue(report.iterations() >= (g.maxIter() == 0 ? 0 : 1) && report.iterations() <= g.maxIter(),
                        () -> rule + " iterations " + report.iterations() + " outside [1, maxiter] " + where);
            }
        } else if (rule instanceof RuleSpec.CenteredClip c) {
            assertEquals(c.iters(), report.iterations(), () -> rule + " iterations " + where);
        } else {
            assertEquals(0, report.iterations(), () -> rule + " iterations " + where);
        }
    }

    /**
     * True when float32 rounding cannot move Weiszfeld's stop decision: every reference ratio
     * ||z_new - z|| / ||z|| is far (10 % and 1e-5) from tol. Otherwise only the range is checked.
     */
    /** Whether every reference stop ratio is far enough from tol that a backend must stop at the same step. */
    private static boolean clearStops(double[] ratios, double tol) {
        for (double r : ratios) {
            if (Math.abs(r - tol) <= 0.1 * tol + 1e-5) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- the random grid

    /** The element types of a random case. */
    protected enum Types {
        F32, F16, BF16, MIXED_PER_TENSOR, MIXED_PER_FILE;

        Dtypes dtypes() {
            return switch (this) {
                case F32 -> Dtypes.all(ElementType.F32);
                case F16 -> Dtypes.all(ElementType.F16);
                case BF16 -> Dtypes.all(ElementType.BF16);
                case MIXED_PER_TENSOR -> Dtypes.mixed();
                case MIXED_PER_FILE -> Dtypes.perUpdate(ElementType.BF16, ElementType.F32, ElementType.F16);
            };
        }
    }

    /** One random case: sizes, element types, layout, chunking and launch configuration. */
    protected record Case(int n, int d, Types types, boolean multiLayout, int chunkElements, int threads, int tileCoords) {
        @Override
        public String toString() {
            return "n=" + n + " d=" + d + " " + types + (multiLayout ? " multi-tensor" : " one-tensor")
                    + (chunkElements > 0 ? " chunks of " + chunkElements : "") + " threads=" + threads + " tile=" + tileCoords;
        }

        /**
         * Every edge dimension with every n (F32), F16 and BF16 on some dimensions, types mixed per
         * tensor and per file, and one case on the default tile. Layouts, chunking and thread counts
         * rotate through the cases.
         */
        public static Stream<Case> grid(int... ns) {
            List<Case> cases = new ArrayList<>();
            int k = 0;
            for (int d : EDGE_DIMENSIONS) {
                for (int n : ns) {
                    cases.add(new Case(n, d, Types.F32, k % 2 == 1, k % 4 == 3 ? 7 : 0, 1 + k % 3, SMALL_TILE));
                    k++;
                }
            }
            for (int d : new int[] {1, 33, SMALL_TILE + 1, 1003}) {
                for (Types t : new Types[] {Types.F16, Types.BF16}) {
                    cases.add(new Case(ns[k % ns.length], d, t, k % 2 == 1, k % 4 == 3 ? 5 : 0, 1 + k % 3, SMALL_TILE));
                    k++;
                }
            }
            int largest = Arrays.stream(ns).max().orElseThrow();
            cases.add(new Case(largest, 1003, Types.MIXED_PER_TENSOR, true, 13, 2, SMALL_TILE));
            cases.add(new Case(ns[ns.length / 2], SMALL_TILE + 1, Types.MIXED_PER_FILE, true, 0, 3, SMALL_TILE));
            cases.add(new Case(ns[ns.length / 2], DEFAULT_TILE + 1, Types.F32, true, 0, 2, DEFAULT_TILE));
            return cases.stream();
        }
    }

    /** A drawn random case: its rule, the built batch (with exact values) and its random source. */
    protected record Drawn(RuleSpec rule, Built built, SeededRandom random) {
        String where() {
            return random.where() + " layout " + built.layout();
        }
    }

    /**
     * Draws a tie-free input for the case ({@code ruleFor} picks the rule's parameters for n) and
     * builds its batch.
     */
    protected static Drawn draw(String suite, Case c, BiFunction<Integer, SeededRandom, RuleSpec> ruleFor) {
        SeededRandom random = SeededRandom.forCase(suite + " " + c);
        RuleSpec rule = ruleFor.apply(c.n(), random);
        Layout layout = c.multiLayout() ? Layout.multi(c.d(), random) : Layout.single(c.d());
        int outliers = c.n() > 1 ? Math.max(1, c.n() / 5) : 0;
        double[][] values = RandomUpdates.tieFree(random, rule, c.n(), layout, c.types().dtypes(), outliers);
        Built built = Batches.builder(values, layout).dtypes(c.types().dtypes()).chunkElements(c.chunkElements()).build();
        return new Drawn(rule, built, random);
    }

    /** Draws a random case and checks the backend against the reference. */
    protected final void checkRandom(String suite, Case c, BiFunction<Integer, SeededRandom, RuleSpec> ruleFor) {
        Drawn drawn = draw(suite, c, ruleFor);
        check(drawn.rule(), drawn.built(), null, drawn.where(), c.threads(), c.tileCoords());
    }

    // ---------------------------------------------------------------- rejections

    /**
     * Asserts that the backend refuses {@code rule} on a batch of n updates for a reason that does
     * not depend on the values, before writing anything to the output.
     */
    protected final void assertRefusedBeforeWriting(RuleSpec rule, int n) {
        SeededRandom random = SeededRandom.forCase("refused " + rule + " n=" + n);
        UpdateBatch batch = Batches.f32(RandomUpdates.draw(random, n, 5, 0)).batch();
        FloatVector out = FloatVector.allocate(batch.dimension());
        float[] sentinel = {7f, 7f, 7f, 7f, 7f};
        out.put(0, sentinel, 0, 5);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> backendFor(2, SMALL_TILE).aggregate(rule, batch, out), () -> rule + " with n = " + n + " " + random.where());
        assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "the refusal says why");
        float[] after = new float[5];
        out.get(0, after, 0, 5);
        assertArrayEquals(sentinel, after, () -> rule + " wrote to the output before refusing n = " + n);
    }

    /**
     * Asserts that a NaN or infinity in one update, stored in {@code type}, fails the whole run
     * with a message naming that update, even where a robust rule would trim the value away: the
     * bad value goes to the last update, an outlier every robust rule discards, at its first and
     * last coordinates, the first of its last tensor, and one in the middle.
     */
    protected final void assertRejectsNonFinite(RuleSpec rule, int n, float bad, ElementType type) {
        SeededRandom random = SeededRandom.forCase("non-finite " + rule + " " + bad + " " + type);
        int d = 70;
        Layout layout = Layout.multi(d, random);
        double[][] values = RandomUpdates.draw(random, n, d, 0);
        for (int j = 0; j < d; j++) {
            values[n - 1][j] += 50; // the last update is the outlier every robust rule would discard
        }
        for (int coordinate : new int[] {0, d - 1, layout.start(layout.sorted().get(layout.sorted().size() - 1).name()), 37}) {
            Built built = Batches.builder(values, layout).dtype(type).chunkElements(9).inject(n - 1, coordinate, bad).build();
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> run(rule, built.batch()),
                    () -> rule + " accepted " + bad + " (" + type + ") at coordinate " + coordinate + " " + random.where());
            String label = built.updates().get(n - 1).label();
            assertTrue(e.getMessage().contains(label), () -> "the message names the update " + label + ": " + e.getMessage());
        }
    }

    /** NaN, +Inf and -Inf in each element type. */
    protected static Stream<Object[]> nonFiniteValues() {
        List<Object[]> cases = new ArrayList<>();
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            for (ElementType type : ElementType.values()) {
                cases.add(new Object[] {bad, type});
            }
        }
        return cases.stream();
    }

    /** Asserts that n = 1 returns that update bit for bit. */
    protected final void assertSingleUpdateReturned(RuleSpec rule) {
        SeededRandom random = SeededRandom.forCase("n=1 " + rule);
        Layout layout = Layout.multi(41, random);
        Built built = Batches.builder(RandomUpdates.draw(random, 1, 41, 0), layout).dtypes(Dtypes.mixed()).build();
        Run run = run(rule, built.batch());
        float[] expected = floats(built.values()[0]);
        Tolerances.assertBitIdentical(rule + " with n = 1 " + random.where(), expected, run.out());
    }

    /** A center update with the layout of {@code built}. */
    protected static Update centerFor(Built built, double[] values) {
        float[] row = floats(values);
        return Batches.update("center.safetensors", row, built.layout(), 0, Dtypes.all(ElementType.F32), 0);
    }
}
