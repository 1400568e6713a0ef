package org.murmur.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.kernels.api.RuleSpec.MultiKrum;
import org.murmur.kernels.testing.Tolerances;

/**
 * multikrum(f, m): the mean of the m updates with the lowest full-set Krum scores, lower index
 * first on a tie; n >= 2f+3 and 1 <= m <= n.
 */
public abstract class MultiKrumContract extends AggregationContract {

    @Test
    void goldenAveragesTheThreeBestScored() {
        // KrumContract.FIVE_POINTS with f = 1: scores 262, 6, 5, 9, 23. The three lowest, by
        // ascending score: 2 (5), 1 (6), 3 (9). Mean of (1,1), (2,1), (1,3) = (4/3, 5/3).
        Run run = run(new MultiKrum(1, 3), KrumContract.FIVE_POINTS);
        assertGolden(new MultiKrum(1, 3), new double[] {4.0 / 3, 5.0 / 3}, run);
        assertArrayEquals(new int[] {2, 1, 3}, run.report().selected());
        Tolerances.assertScores("multikrum scores", KrumContract.FIVE_POINT_SCORES, run.report().krumScores());
    }

    @Test
    void goldenMOfOneIsKrum() {
        Run run = run(new MultiKrum(1, 1), KrumContract.FIVE_POINTS);
        assertArrayEquals(floats(1, 1), run.out());
        assertArrayEquals(new int[] {2}, run.report().selected());
    }

    @Test
    void goldenMOfNIsTheMeanOfAll() {
        // All five, by ascending score 2, 1, 3, 4, 0: mean ((11+2+1+1+4)/5, (11+1+1+3+4)/5) = (3.8, 4).
        Run run = run(new MultiKrum(1, 5), KrumContract.FIVE_POINTS);
        assertGolden(new MultiKrum(1, 5), new double[] {3.8, 4}, run);
        assertArrayEquals(new int[] {2, 1, 3, 4, 0}, run.report().selected());
    }

    @Test
    void goldenExactTiesAreTakenLowerIndexFirst() {
        // f = 0 (3 neighbours): scores 443, 19, 23, 19, 41 (see KrumContract); 1 and 3 tie at 19,
        // so the order is 1, 3, 2: mean of (2,1), (1,3), (1,1) = (4/3, 5/3).
        Run run = run(new MultiKrum(0, 3), KrumContract.FIVE_POINTS);
        assertArrayEquals(new int[] {1, 3, 2}, run.report().selected());
        assertGolden(new MultiKrum(0, 3), new double[] {4.0 / 3, 5.0 / 3}, run);
        // f = 0, n = 3: {6}, {1}, {2} score 16, 1, 1: order 1, 2; mean of m = 2 is 1.5.
        Run pair = run(new MultiKrum(0, 2), new double[][] {{6}, {1}, {2}});
        assertArrayEquals(new int[] {1, 2}, pair.report().selected());
        assertGolden(new MultiKrum(0, 2), new double[] {1.5}, pair);
    }

    static Stream<Case> randomCases() {
        return Case.grid(3, 5, 8, 13, 37);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("randomCases")
    void matchesTheReference(Case c) {
        checkRandom("multikrum", c, (n, random) -> new MultiKrum(random.nextInt((n - 3) / 2 + 1), 1 + random.nextInt(n)));
    }

    @Test
    void nTooSmallOrMAboveNIsRefused() {
        assertRefusedBeforeWriting(new MultiKrum(1, 2), 4);
        assertRefusedBeforeWriting(new MultiKrum(0, 1), 2);
        assertRefusedBeforeWriting(new MultiKrum(1, 6), 5);
        assertRefusedBeforeWriting(new MultiKrum(0, 4), 3);
        assertThrows(InvalidInputException.class, () -> new MultiKrum(1, 0));
        assertThrows(InvalidInputException.class, () -> new MultiKrum(-1, 1));
    }

    @ParameterizedTest(name = "{0} as {1}")
    @MethodSource("nonFiniteValues")
    void nonFiniteInputIsRefused(float bad, ElementType type) {
        assertRejectsNonFinite(new MultiKrum(1, 3), 6, bad, type);
    }
}
