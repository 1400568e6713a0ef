package org.murmur.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.RuleSpec.GeoMedian;
import org.murmur.kernels.testing.Batches;
import org.murmur.kernels.testing.RandomUpdates;
import org.murmur.kernels.testing.SeededRandom;
import org.murmur.kernels.testing.Tolerances;

/**
 * geomedian(maxiter, eps, tol): Weiszfeld from the mean, at most maxiter z-updates, stop when
 * ||z_new - z|| <= tol ||z|| (old z), return the last z_new.
 */
public abstract class GeoMedianContract extends AggregationContract {

    @Test
    void goldenOneDimensionConvergesToTheMedianDespiteTheOutlier() {
        // In one dimension the geometric median of {1, 2, 3, 4, 100} is the median, 3; Weiszfeld
        // from the mean 22 converges there quickly (the pulls of 1, 2 and 4, 100 cancel near 3).
        Run run = run(new GeoMedian(), new double[][] {{1}, {2}, {100}, {3}, {4}});
        Tolerances.assertRelativeL2("geomedian golden", new double[] {3}, run.out());
        assertTrue(run.report().iterations() >= 1 && run.report().iterations() <= 100, "iterations " + run.report().iterations());
    }

    @Test
    void goldenTwoStepsCountedExactly() {
        // {0, 0, 3}, tol = 0 so no early stop: z0 = mean = 1; distances 1, 1, 2, weights 1, 1, 1/2:
        // z1 = 1.5 / 2.5 = 0.6; distances 0.6, 0.6, 2.4, weights 5/3, 5/3, 5/12 (sum 3.75):
        // z2 = 1.25 / 3.75 = 1/3.
        Run run = run(new GeoMedian(2, 1e-8, 0), new double[][] {{0}, {0}, {3}});
        Tolerances.assertRelativeL2("geomedian maxiter=2", new double[] {1.0 / 3}, run.out());
        assertEquals(2, run.report().iterations());
        Run one = run(new GeoMedian(1, 1e-8, 0), new double[][] {{0}, {0}, {3}});
        Tolerances.assertRelativeL2("geomedian maxiter=1", new double[] {0.6}, one.out());
        assertEquals(1, one.report().iterations());
    }

    @Test
    void goldenWeightsUseTheWholeUpdateNorm() {
        // Points (4,5), (-2,5), (1,-7), each coordinate its own tensor. Mean (1,1); offsets (3,4),
        // (-3,4), (0,-8) of norms 5, 5, 8; weights 1/5, 1/5, 1/8 (sum 0.525). One step:
        // z1 = (1,1) + (0, 4/5 + 4/5 - 1) / 0.525 = (1, 1 + 8/7) = (1, 15/7). (Per-tensor norms
        // would give (1, 2.6).)
        Run run = runSplit(new GeoMedian(1, 1e-8, 0), new double[][] {{4, 5}, {-2, 5}, {1, -7}});
        Tolerances.assertRelativeL2("geomedian whole-update norm", new double[] {1, 15.0 / 7}, run.out());
        assertEquals(1, run.report().iterations());
    }

    @Test
    void goldenMaxIterZeroReturnsTheMean() {
        // (1 + 2 + 100 + 3 + 4) / 5 = 22, no z-update.
        Run run = run(new GeoMedian(0, 1e-8, 1e-7), new double[][] {{1}, {2}, {100}, {3}, {4}});
        Tolerances.assertRelativeL2("geomedian maxiter=0", new double[] {22}, run.out());
        assertEquals(0, run.report().iterations());
    }

    @Test
    void goldenMeanOnAnUpdateUsesEps() {
        // (6,5), (4,5), (5,6), (5,4), (5,5): the mean (5,5) is the last update, whose weight is
        // 1/eps; every step returns (5,5).
        Run run = runSplit(new GeoMedian(), new double[][] {{6, 5}, {4, 5}, {5, 6}, {5, 4}, {5, 5}});
        Tolerances.assertRelativeL2("geomedian at a data point", new double[] {5, 5}, run.out());
    }

    static Stream<Case> randomCases() {
        return Case.grid(1, 2, 3, 5, 8, 37);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("randomCases")
    void matchesTheReference(Case c) {
        checkRandom("geomedian", c, GeoMedianContract::randomRule);
    }

    /** The defaults half the time; otherwise a few steps with no early stop, or a loose tol. */
    static RuleSpec randomRule(int n, SeededRandom random) {
        return switch (random.nextInt(4)) {
            case 0, 1 -> new GeoMedian();
            case 2 -> new GeoMedian(random.nextInt(4), 1e-8, 0);
            default -> new GeoMedian(50, 1e-6, 1e-3);
        };
    }

    @Test
    void singleUpdateIsReturned() {
        SeededRandom random = SeededRandom.forCase("geomedian n=1");
        double[][] x = RandomUpdates.draw(random, 1, 300, 0);
        Batches.Built built = Batches.builder(x, Batches.Layout.multi(300, random)).build();
        Run run = run(new GeoMedian(), built.batch());
        Tolerances.assertElementwise("geomedian n=1 " + random.where(), built.values()[0], run.out());
    }

    @Test
    void invalidParametersAreRefused() {
        assertThrows(InvalidInputException.class, () -> new GeoMedian(-1, 1e-8, 1e-7));
        assertThrows(InvalidInputException.class, () -> new GeoMedian(100, 0, 1e-7));
        assertThrows(InvalidInputException.class, () -> new GeoMedian(100, Double.NaN, 1e-7));
        assertThrows(InvalidInputException.class, () -> new GeoMedian(100, 1e-8, -1e-7));
        assertThrows(InvalidInputException.class, () -> new GeoMedian(100, 1e-8, Double.NaN));
    }

    @ParameterizedTest(name = "{0} as {1}")
    @MethodSource("nonFiniteValues")
    void nonFiniteInputIsRefused(float bad, ElementType type) {
        assertRejectsNonFinite(new GeoMedian(), 5, bad, type);
    }
}
