package org.murmur.kernels;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.RuleSpec.Median;

/** median: per coordinate; the mean of the two middle values for even n. */
public abstract class MedianContract extends AggregationContract {

    @Test
    void goldenEvenCountAveragesTheMiddlePair() {
        // Sorted {1, 2, 3, 100}: (2 + 3) / 2 = 2.5; sorted {-100, -3, -2, -1}: (-3 + -2) / 2 = -2.5.
        double[][] x = {{3, -3}, {100, -100}, {1, -1}, {2, -2}};
        assertGolden(new Median(), new double[] {2.5, -2.5}, run(new Median(), x));
    }

    @Test
    void goldenOddCountTakesTheMiddle() {
        // Sorted {1, 2, 3, 4, 100}: 3; sorted {-7, 0, 0.5, 9, 1e4}: 0.5.
        double[][] x = {{100, 0}, {4, 9}, {1, 1e4}, {3, -7}, {2, 0.5}};
        assertGolden(new Median(), new double[] {3, 0.5}, run(new Median(), x));
    }

    @Test
    void goldenTwoUpdatesGiveTheirMean() {
        // n = 2: (1 + 4) / 2 = 2.5 and (-6 + 2) / 2 = -2.
        double[][] x = {{1, -6}, {4, 2}};
        assertGolden(new Median(), new double[] {2.5, -2}, run(new Median(), x));
    }

    static Stream<Case> randomCases() {
        return Case.grid(1, 2, 3, 4, 7, 37);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("randomCases")
    void matchesTheReference(Case c) {
        checkRandom("median", c, (n, random) -> new Median());
    }

    @Test
    void singleUpdateIsReturned() {
        assertSingleUpdateReturned(new Median());
    }

    @ParameterizedTest(name = "{0} as {1}")
    @MethodSource("nonFiniteValues")
    void nonFiniteInputIsRefused(float bad, ElementType type) {
        assertRejectsNonFinite(new Median(), 5, bad, type);
    }
}
