package org.murmur.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.RuleSpec.NormClipMean;
import org.murmur.kernels.testing.Batches;
import org.murmur.kernels.testing.RandomUpdates;
import org.murmur.kernels.testing.ReferenceRules;
import org.murmur.kernels.testing.SeededRandom;
import org.murmur.kernels.testing.Tolerances;

/** norm_clip_mean(c): the plain mean of the updates scaled by min(1, c / ||x_i||) (1 for zero); c > 0. */
public abstract class NormClipMeanContract extends AggregationContract {

    private static final double[][] WITH_OUTLIER = {{3, 4}, {0, 0}, {0, 1}, {300, 400}};

    @Test
    void goldenClipsTheOutlierByItsWholeNorm() {
        // c = 2, one tensor per coordinate: (3,4) has norm 5 -> x 0.4 = (1.2, 1.6); (0,0) stays
        // (factor 1); (0,1) has norm 1 -> stays; (300,400) has norm 500 -> x 0.004 = (1.2, 1.6).
        // Mean: (2.4 / 4, 4.2 / 4) = (0.6, 1.05). (Per-coordinate clipping would give (1, 1.25).)
        RuleSpec rule = new NormClipMean(2);
        assertGolden(rule, new double[] {0.6, 1.05}, runSplit(rule, WITH_OUTLIER));
    }

    @Test
    void goldenLargeCIsThePlainMean() {
        // c = 1000 clips nothing: (303 / 4, 405 / 4) = (75.75, 101.25).
        RuleSpec rule = new NormClipMean(1000);
        assertGolden(rule, new double[] {75.75, 101.25}, runSplit(rule, WITH_OUTLIER));
    }

    static Stream<Case> randomCases() {
        return Case.grid(1, 2, 3, 5, 8, 37);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("randomCases")
    void matchesTheReference(Case c) {
        // c between sqrt(d) and 4 sqrt(d), about half to twice an honest update's norm, so some clip.
        checkRandom("norm_clip_mean", c, (n, random) -> new NormClipMean(random.uniform(1, 4) * Math.sqrt(c.d())));
    }

    @Test
    void singleUpdateWithinCIsReturned() {
        assertSingleUpdateReturned(new NormClipMean(1e6));
    }

    @Test
    void singleUpdateAboveCIsScaled() {
        SeededRandom random = SeededRandom.forCase("norm_clip_mean n=1 clipped");
        Batches.Built built = Batches.builder(RandomUpdates.draw(random, 1, 100, 0), Batches.Layout.multi(100, random)).build();
        double c = ReferenceRules.norm(built.values()[0]) / 3;
        Tolerances.assertElementwise("norm_clip_mean n=1 " + random.where(),
                ReferenceRules.normClipMean(built.values(), c), run(new NormClipMean(c), built.batch()).out());
    }

    @Test
    void invalidParametersAreRefused() {
        assertThrows(InvalidInputException.class, () -> new NormClipMean(0));
        assertThrows(InvalidInputException.class, () -> new NormClipMean(-2));
        assertThrows(InvalidInputException.class, () -> new NormClipMean(Double.NaN));
        assertThrows(InvalidInputException.class, () -> new NormClipMean(Double.POSITIVE_INFINITY));
    }

    @ParameterizedTest(name = "{0} as {1}")
    @MethodSource("nonFiniteValues")
    void nonFiniteInputIsRefused(float bad, ElementType type) {
        assertRejectsNonFinite(new NormClipMean(1), 4, bad, type);
    }
}
