package org.murmur.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.RuleSpec.FedAvg;
import org.murmur.kernels.testing.Batches;
import org.murmur.kernels.testing.SeededRandom;

/** fedavg(weights): {@code sum(w_i x_i) / sum(w_i)}, weights finite, >= 0, positive sum, exactly n. */
public abstract class FedAvgContract extends AggregationContract {

    @Test
    void goldenUnweightedMeanIsPulledByTheOutlier() {
        // Coordinate 0: (1 + 2 + 3 + 100) / 4 = 26.5; coordinate 1: (-1 - 2 - 3 + 50) / 4 = 11.
        double[][] x = {{1, -1}, {2, -2}, {3, -3}, {100, 50}};
        assertGolden(new FedAvg(null), new double[] {26.5, 11}, run(new FedAvg(null), x));
    }

    @Test
    void goldenZeroWeightRemovesTheOutlier() {
        // Weights 1, 2, 1, 0: (1*1 + 2*2 + 1*3 + 0*100) / 4 = 2 and (-1 - 4 - 3 + 0) / 4 = -2.
        double[][] x = {{1, -1}, {2, -2}, {3, -3}, {100, 50}};
        RuleSpec rule = new FedAvg(new double[] {1, 2, 1, 0});
        assertGolden(rule, new double[] {2, -2}, run(rule, x));
    }

    @Test
    void goldenFractionalWeights() {
        // Weights 0.5, 0.25, 0.25: (0.5*4 + 0.25*8 + 0.25*-4) / 1 = 3.
        double[][] x = {{4}, {8}, {-4}};
        RuleSpec rule = new FedAvg(new double[] {0.5, 0.25, 0.25});
        assertGolden(rule, new double[] {3}, run(rule, x));
    }

    static Stream<Case> randomCases() {
        return Case.grid(1, 2, 3, 5, 8, 37);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("randomCases")
    void matchesTheReference(Case c) {
        checkRandom("fedavg", c, FedAvgContract::randomRule);
    }

    /** Half the cases unweighted, half with random weights (one of them zero when n > 1). */
    static RuleSpec randomRule(int n, SeededRandom random) {
        if (random.nextBoolean()) {
            return new FedAvg(null);
        }
        double[] w = new double[n];
        for (int i = 0; i < n; i++) {
            w[i] = random.uniform(0.1, 3);
        }
        if (n > 1) {
            w[random.nextInt(n)] = 0;
        }
        return new FedAvg(w);
    }

    @Test
    void singleUpdateIsReturned() {
        assertSingleUpdateReturned(new FedAvg(null));
        double[][] x = {{1.5, -2.25, 1e-3}};
        assertGolden(new FedAvg(new double[] {3}), x[0], run(new FedAvg(new double[] {3}), x));
    }

    @Test
    void weightCountOtherThanNIsRefused() {
        assertRefusedBeforeWriting(new FedAvg(new double[] {1, 1, 1}), 4);
        assertRefusedBeforeWriting(new FedAvg(new double[] {1, 1, 1, 1, 1}), 4);
        assertRefusedBeforeWriting(new FedAvg(new double[] {1}), 2);
    }

    @Test
    void negativeNonFiniteAndZeroSumWeightsAreRefused() {
        assertThrows(InvalidInputException.class, () -> new FedAvg(new double[] {1, -0.5, 1}));
        assertThrows(InvalidInputException.class, () -> new FedAvg(new double[] {1, Double.NaN, 1}));
        assertThrows(InvalidInputException.class, () -> new FedAvg(new double[] {1, Double.POSITIVE_INFINITY}));
        assertThrows(InvalidInputException.class, () -> new FedAvg(new double[] {Double.NEGATIVE_INFINITY, 1}));
        assertThrows(InvalidInputException.class, () -> new FedAvg(new double[] {0, 0, 0}));
        assertThrows(InvalidInputException.class, () -> new FedAvg(new double[0]));
    }

    @ParameterizedTest(name = "{0} as {1}")
    @MethodSource("nonFiniteValues")
    void nonFiniteInputIsRefused(float bad, ElementType type) {
        assertRejectsNonFinite(new FedAvg(null), 4, bad, type);
    }

    @Test
    void nonFiniteInputIsRefusedEvenWithWeightZero() {
        double[][] x = {{1, 2}, {3, 4}, {5, 6}};
        Batches.Built built = Batches.builder(x, Batches.Layout.single(2)).inject(2, 1, Float.NaN).build();
        assertThrows(InvalidInputException.class, () -> run(new FedAvg(new double[] {1, 1, 0}), built.batch()));
    }
}
