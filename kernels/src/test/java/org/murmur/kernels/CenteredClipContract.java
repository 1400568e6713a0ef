package org.murmur.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.RuleSpec.CenteredClip;
import org.murmur.kernels.api.Update;
import org.murmur.kernels.testing.Batches;
import org.murmur.kernels.testing.Batches.Built;
import org.murmur.kernels.testing.Batches.Dtypes;
import org.murmur.kernels.testing.Batches.Layout;
import org.murmur.kernels.testing.RandomUpdates;
import org.murmur.kernels.testing.SeededRandom;
import org.murmur.kernels.testing.Tolerances;

/**
 * centered_clip(tau, iters, center): from the center (the mean when none), iters times
 * {@code v <- v + mean_i((x_i - v) min(1, tau / ||x_i - v||))}, factor 1 at distance 0; tau > 0.
 */
public abstract class CenteredClipContract extends AggregationContract {

    private static final double[][] THREE_ZEROS_AND_TEN = {{0}, {0}, {10}, {0}};

    @Test
    void goldenEachIterationMovesHalfAStepTowardTheCluster() {
        // {0, 0, 10, 0}, tau = 1, from the mean 2.5: offsets -2.5 (x3) and 7.5, each clipped to
        // norm 1: (-1 -1 +1 -1) / 4 = -0.5 -> v = 2.0; then -2 (x3), 8 -> -0.5 -> 1.5; then 1.0.
        RuleSpec one = new CenteredClip(1, 1, null);
        assertGolden(one, new double[] {2.0}, run(one, THREE_ZEROS_AND_TEN));
        RuleSpec three = new CenteredClip(1, CenteredClip.DEFAULT_ITERS, null);
        Run run = run(three, THREE_ZEROS_AND_TEN);
        assertGolden(three, new double[] {1.0}, run);
        assertEquals(3, run.report().iterations());
        // iters = 0 returns the center, here the mean 2.5.
        assertGolden(new CenteredClip(1, 0, null), new double[] {2.5}, run(new CenteredClip(1, 0, null), THREE_ZEROS_AND_TEN));
    }

    @Test
    void goldenZeroDistanceHasFactorOne() {
        // Center 0: offsets 0, 0, 10, 0; distance 0 -> factor 1 (offset 0), 10 -> clipped to 1:
        // v = 0 + (0 + 0 + 1 + 0) / 4 = 0.25. Second iteration: offsets -0.25 (x3, within tau)
        // and 9.75 -> 1: (-0.75 + 1) / 4 = 0.0625 -> v = 0.3125.
        Built built = Batches.builder(THREE_ZEROS_AND_TEN, Layout.single(1)).build();
        Update center = centerFor(built, new double[] {0});
        Tolerances.assertRelativeL2("centered_clip center 0, 1 iteration", new double[] {0.25},
                run(new CenteredClip(1, 1, center), built.batch()).out());
        Tolerances.assertRelativeL2("centered_clip center 0, 2 iterations", new double[] {0.3125},
                run(new CenteredClip(1, 2, center), built.batch()).out());
    }

    @Test
    void goldenClipsByTheWholeUpdateNorm() {
        // Points (4,5), (-2,5), (1,-7), one tensor per coordinate, tau = 4. From the mean (1,1):
        // offsets (3,4), (-3,4), (0,-8) of norms 5, 5, 8 -> factors 0.8, 0.8, 0.5: (2.4,3.2),
        // (-2.4,3.2), (0,-4), mean (0, 0.8) -> v = (1, 1.8). (Per-coordinate or per-tensor clipping
        // would give (1, 7/3).)
        RuleSpec rule = new CenteredClip(4, 1, null);
        Tolerances.assertRelativeL2("centered_clip whole-update norm", new double[] {1, 1.8},
                runSplit(rule, new double[][] {{4, 5}, {-2, 5}, {1, -7}}).out());
    }

    static Stream<Case> randomCases() {
        return Case.grid(1, 2, 3, 5, 8, 37);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("randomCases")
    void matchesTheReference(Case c) {
        checkRandom("centered_clip", c, (n, random) -> new CenteredClip(tau(random, c.d()), iters(random), null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("randomCases")
    void matchesTheReferenceFromAGivenCenter(Case c) {
        Drawn drawn = draw("centered_clip center", c, (n, random) -> new CenteredClip(tau(random, c.d()), iters(random), null));
        CenteredClip drawnRule = (CenteredClip) drawn.rule();
        SeededRandom random = drawn.random();
        double[] center = new double[c.d()];
        for (int j = 0; j < c.d(); j++) {
            center[j] = (float) (drawn.built().values()[0][j] + random.gaussian());
        }
        Update centerUpdate = Batches.update("center.safetensors", floats(center), drawn.built().layout(), 0,
                Dtypes.all(ElementType.F32), c.chunkElements());
        RuleSpec rule = new CenteredClip(drawnRule.tau(), drawnRule.iters(), centerUpdate);
        check(rule, drawn.built(), center, drawn.where(), c.threads(), c.tileCoords());
    }

    /** tau between a third and three times the typical distance sqrt(d), so some updates clip. */
    private static double tau(SeededRandom random, int d) {
        return random.uniform(0.3, 3) * Math.sqrt(d);
    }

    private static int iters(SeededRandom random) {
        return new int[] {0, 1, 3, 3, 5}[random.nextInt(5)];
    }

    @Test
    void singleUpdateIsReturned() {
        assertSingleUpdateReturned(new CenteredClip(0.5, 3, null));
    }

    @Test
    void centerInHalfPrecisionIsAccepted() {
        Built built = Batches.builder(THREE_ZEROS_AND_TEN, Layout.single(1)).build();
        Update center = Batches.update("center.safetensors", new float[] {0}, built.layout(), 0, Dtypes.all(ElementType.BF16), 0);
        Tolerances.assertRelativeL2("centered_clip bf16 center", new double[] {0.25},
                run(new CenteredClip(1, 1, center), built.batch()).out());
    }

    @Test
    void invalidParametersAreRefused() {
        assertThrows(InvalidInputException.class, () -> new CenteredClip(0, 3, null));
        assertThrows(InvalidInputException.class, () -> new CenteredClip(-1, 3, null));
        assertThrows(InvalidInputException.class, () -> new CenteredClip(Double.NaN, 3, null));
        assertThrows(InvalidInputException.class, () -> new CenteredClip(Double.POSITIVE_INFINITY, 3, null));
        assertThrows(InvalidInputException.class, () -> new CenteredClip(1, -1, null));
    }

    @Test
    void centerWithOtherShapesOrNamesIsRefused() {
        SeededRandom random = SeededRandom.forCase("centered_clip center mismatch");
        Layout layout = Layout.multi(40, random);
        Built built = Batches.builder(RandomUpdates.draw(random, 4, 40, 1), layout).build();
        Update good = centerFor(built, built.values()[0]);
        String matrix = "layer.0.weight";
        long[] shape = layout.sorted().stream().filter(t -> t.name().equals(matrix)).findFirst().orElseThrow().shape();
        long[] flat = {shape[0] * shape[1]};
        Update[] bad = {
            Batches.reshaped(good, matrix, flat),
            Batches.reshaped(good, "temperature", new long[] {1}),
            Batches.without(good, "bias"),
            Batches.withExtra(good, "extra", 1f),
            Batches.renamed(good, "bias", "bias2"),
        };
        for (Update center : bad) {
            assertThrows(InvalidInputException.class, () -> run(new CenteredClip(1, 3, center), built.batch()),
                    () -> "a center with tensors " + center.tensors().stream().map(t -> t.name()
                            + java.util.Arrays.toString(t.shape())).toList() + " was accepted " + random.where());
        }
        run(new CenteredClip(1, 3, good), built.batch());
    }

    @Test
    void nonFiniteCenterIsRefused() {
        Built built = Batches.builder(THREE_ZEROS_AND_TEN, Layout.single(1)).build();
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            Update center = Batches.update("center.safetensors", new float[] {bad}, built.layout(), 0, Dtypes.all(ElementType.F32), 0);
            assertThrows(InvalidInputException.class, () -> run(new CenteredClip(1, 1, center), built.batch()),
                    () -> "center " + bad + " accepted");
        }
    }

    @ParameterizedTest(name = "{0} as {1}")
    @MethodSource("nonFiniteValues")
    void nonFiniteInputIsRefused(float bad, ElementType type) {
        assertRejectsNonFinite(new CenteredClip(1, 3, null), 5, bad, type);
    }
}
