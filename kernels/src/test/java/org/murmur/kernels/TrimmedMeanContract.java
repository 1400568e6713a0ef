package org.murmur.kernels;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.kernels.api.RuleSpec.TrimmedMean;

/** trimmed_mean(k): per coordinate, drop the k largest and k smallest, average the rest; n > 2k. */
public abstract class TrimmedMeanContract extends AggregationContract {

    @Test
    void goldenTrimsTheOutlier() {
        // Coordinate 0 sorted {1, 2, 3, 4, 100}, k = 1: (2 + 3 + 4) / 3 = 3.
        // Coordinate 1 sorted {-50, 2, 4, 6, 9}, k = 1: (2 + 4 + 6) / 3 = 4.
        double[][] x = {{100, 4}, {4, -50}, {1, 9}, {3, 2}, {2, 6}};
        assertGolden(new TrimmedMean(1), new double[] {3, 4}, run(new TrimmedMean(1), x));
    }

    @Test
    void goldenLargestKLeavesTheMedian() {
        // k = 2 of 5: only the middle value is left: 3 and 4.
        double[][] x = {{100, 4}, {4, -50}, {1, 9}, {3, 2}, {2, 6}};
        assertGolden(new TrimmedMean(2), new double[] {3, 4}, run(new TrimmedMean(2), x));
    }

    @Test
    void goldenKZeroIsTheMean() {
        // (100 + 4 + 1 + 3 + 2) / 5 = 22 and (4 - 50 + 9 + 2 + 6) / 5 = -5.8.
        double[][] x = {{100, 4}, {4, -50}, {1, 9}, {3, 2}, {2, 6}};
        assertGolden(new TrimmedMean(0), new double[] {22, -5.8}, run(new TrimmedMean(0), x));
    }

    @Test
    void goldenEvenCount() {
        // Sorted {1, 2, 3, 100}, k = 1: (2 + 3) / 2 = 2.5.
        double[][] x = {{3}, {100}, {1}, {2}};
        assertGolden(new TrimmedMean(1), new double[] {2.5}, run(new TrimmedMean(1), x));
    }

    static Stream<Case> randomCases() {
        return Case.grid(1, 2, 3, 4, 7, 37);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("randomCases")
    void matchesTheReference(Case c) {
        checkRandom("trimmed_mean", c, (n, random) -> new TrimmedMean(random.nextInt((n - 1) / 2 + 1)));
    }

    @Test
    void singleUpdateIsReturned() {
        assertSingleUpdateReturned(new TrimmedMean(0));
    }

    @Test
    void nNotAboveTwoKIsRefused() {
        assertRefusedBeforeWriting(new TrimmedMean(1), 2);
        assertRefusedBeforeWriting(new TrimmedMean(2), 4);
        assertRefusedBeforeWriting(new TrimmedMean(3), 6);
        assertRefusedBeforeWriting(new TrimmedMean(1), 1);
        assertThrows(InvalidInputException.class, () -> new TrimmedMean(-1));
    }

    @Test
    void nJustAboveTwoKIsAccepted() {
        // n = 2k + 1 = 5, k = 2: the median, 3.
        double[][] x = {{100}, {4}, {1}, {3}, {2}};
        assertGolden(new TrimmedMean(2), new double[] {3}, run(new TrimmedMean(2), x));
    }

    @ParameterizedTest(name = "{0} as {1}")
    @MethodSource("nonFiniteValues")
    void nonFiniteInputIsRefused(float bad, ElementType type) {
        assertRejectsNonFinite(new TrimmedMean(1), 5, bad, type);
    }
}
