package org.murmur.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.kernels.api.RuleSpec.Krum;
import org.murmur.kernels.testing.Batches;
import org.murmur.kernels.testing.Batches.Built;
import org.murmur.kernels.testing.Batches.Dtypes;
import org.murmur.kernels.testing.Batches.Layout;
import org.murmur.kernels.testing.RandomUpdates;
import org.murmur.kernels.testing.ReferenceRules;
import org.murmur.kernels.testing.SeededRandom;
import org.murmur.kernels.testing.Tolerances;

/**
 * krum(f): the update whose n-f-2 nearest squared distances sum the least; the lowest index on a
 * tie; n >= 2f+3.
 */
public abstract class KrumContract extends AggregationContract {

    /**
     * Five points, the first an outlier: (11,11), (2,1), (1,1), (1,3), (4,4). Squared distances:
     * d01=181 d02=200 d03=164 d04=98 d12=1 d13=5 d14=13 d23=4 d24=18 d34=10. With f = 1 each score
     * sums the 5-1-2 = 2 smallest: s0 = 98+164 = 262, s1 = 1+5 = 6, s2 = 1+4 = 5, s3 = 4+5 = 9,
     * s4 = 10+13 = 23. Krum picks update 2, (1,1).
     */
    static final double[][] FIVE_POINTS = {{11, 11}, {2, 1}, {1, 1}, {1, 3}, {4, 4}};
    static final double[] FIVE_POINT_SCORES = {262, 6, 5, 9, 23};

    @Test
    void goldenPicksTheMostCentralUpdate() {
        Run run = run(new Krum(1), FIVE_POINTS);
        assertArrayEquals(floats(1, 1), run.out());
        assertArrayEquals(new int[] {2}, run.report().selected());
        Tolerances.assertScores("krum(1) scores", FIVE_POINT_SCORES, run.report().krumScores());
        assertEquals(0, run.report().iterations());
    }

    @Test
    void goldenFZeroSumsTheNearestTwo() {
        // f = 0: 5-0-2 = 3 neighbours. s0 = 98+164+181 = 443, s1 = 1+5+13 = 19, s2 = 1+4+18 = 23,
        // s3 = 4+5+10 = 19, s4 = 10+13+18 = 41. Updates 1 and 3 tie at 19 (not the closest pair:
        // avoided by random inputs, but exact here); the lower index, 1, wins: (2,1).
        Run run = run(new Krum(0), FIVE_POINTS);
        assertArrayEquals(floats(2, 1), run.out());
        assertArrayEquals(new int[] {1}, run.report().selected());
        Tolerances.assertScores("krum(0) scores", new double[] {443, 19, 23, 19, 41}, run.report().krumScores());
    }

    @Test
    void goldenExactTieOfTheClosestPairGoesToTheLowerIndex() {
        // f = 0, n = 3: one neighbour. {6}, {1}, {2}: s0 = min(25, 16) = 16, s1 = min(25, 1) = 1,
        // s2 = min(16, 1) = 1. Updates 1 and 2 tie; 1 wins: 1.
        Run run = run(new Krum(0), new double[][] {{6}, {1}, {2}});
        assertArrayEquals(floats(1), run.out());
        assertArrayEquals(new int[] {1}, run.report().selected());
        // Reversed, {2}, {1}, {6}: updates 0 and 1 tie at 1; 0 wins: 2.
        Run reversed = run(new Krum(0), new double[][] {{2}, {1}, {6}});
        assertArrayEquals(floats(2), reversed.out());
        assertArrayEquals(new int[] {0}, reversed.report().selected());
    }

    @ParameterizedTest(name = "d={0}")
    @ValueSource(ints = {1, 33, 1003})
    void randomExactTieOfTheClosestPairGoesToTheLowerIndex(int d) {
        int[][] configs = {{1, SMALL_TILE}, {3, 7}, {2, DEFAULT_TILE}};
        for (int trial = 0; trial < 6; trial++) {
            SeededRandom random = SeededRandom.forCase("krum exact tie d=" + d + " trial " + trial);
            Layout layout = Layout.multi(d, random);
            Dtypes types = trial % 2 == 0 ? Dtypes.all(ElementType.F32) : Dtypes.mixed();
            double[][] x = RandomUpdates.tieFree(random, new Krum(0), 3, layout, types, 0);
            double[] scores = ReferenceRules.krumScores(x, 0);
            int winner = ReferenceRules.krum(x, 0);
            Built built = Batches.builder(x, layout).dtypes(types).chunkElements(trial % 3 == 0 ? 5 : 0).build();
            for (int[] config : configs) {
                check(new Krum(0), built, null, random.where() + " scores " + java.util.Arrays.toString(scores)
                        + " winner " + winner + " config " + config[0] + "x" + config[1], config[0], config[1]);
            }
        }
    }

    static Stream<Case> randomCases() {
        return Case.grid(3, 4, 5, 8, 13, 37);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("randomCases")
    void matchesTheReference(Case c) {
        checkRandom("krum", c, (n, random) -> new Krum(random.nextInt((n - 3) / 2 + 1)));
    }

    @Test
    void nBelowTwoFPlusThreeIsRefused() {
        assertRefusedBeforeWriting(new Krum(0), 2);
        assertRefusedBeforeWriting(new Krum(1), 4);
        assertRefusedBeforeWriting(new Krum(2), 6);
        assertRefusedBeforeWriting(new Krum(0), 1);
        assertThrows(InvalidInputException.class, () -> new Krum(-1));
    }

    @Test
    void nOfTwoFPlusThreeIsAccepted() {
        assertArrayEquals(new int[] {2}, run(new Krum(1), FIVE_POINTS).report().selected());
    }

    @ParameterizedTest(name = "{0} as {1}")
    @MethodSource("nonFiniteValues")
    void nonFiniteInputIsRefused(float bad, ElementType type) {
        assertRejectsNonFinite(new Krum(1), 6, bad, type);
    }
}
