package org.murmur.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.kernels.api.RuleSpec.Bulyan;
import org.murmur.kernels.testing.Batches;
import org.murmur.kernels.testing.Batches.Built;
import org.murmur.kernels.testing.Batches.Dtypes;
import org.murmur.kernels.testing.Batches.Layout;
import org.murmur.kernels.testing.RandomUpdates;
import org.murmur.kernels.testing.SeededRandom;
import org.murmur.kernels.testing.Tolerances;

/**
 * bulyan(f): theta = n-2f Krum(f) selections on a shrinking set (max(0, r-f-2) neighbours, lowest
 * original index on a tie), then per coordinate the mean of the beta = theta-2f selected values
 * closest to their median; n >= 4f+3.
 */
public abstract class BulyanContract extends AggregationContract {

    /**
     * d = 1, f = 1, n = 7: x = 100, 0, 1, 3, 6, 10, 15; theta = 5, beta = 3.
     * r = 7, 4 neighbours: 0 -> 1+9+36+100 = 146; 1 -> 1+4+25+81 = 111; 3 -> 4+9+9+49 = 71;
     *   6 -> 9+16+25+36 = 86; 10 -> 16+25+49+81 = 171; 15 -> 25+81+144+196 = 446;
     *   100 -> 7225+8100+8836+9409 = 33570. Pick index 3 (x = 3).
     * r = 6, 3 neighbours: 0 -> 1+36+100 = 137; 1 -> 1+25+81 = 107; 6 -> 16+25+36 = 77;
     *   10 -> 16+25+81 = 122; 15 -> 25+81+196 = 302. Pick index 4 (x = 6).
     * r = 5, 2 neighbours: 0 -> 1+100 = 101; 1 -> 1+81 = 82; 10 -> 25+81 = 106; 15 -> 25+196 = 221.
     *   Pick index 2 (x = 1).
     * r = 4, 1 neighbour: 0 -> 100; 10 -> 25; 15 -> 25; 100 -> 7225. 10 and 15 tie exactly (their
     *   distance to each other): the lower index, 5 (x = 10), wins.
     * r = 3, 0 neighbours: every score is 0, the lowest index, 0 (x = 100, the outlier), wins.
     * Selection 3, 4, 2, 5, 0 = values 3, 6, 1, 10, 100; median 6; distances 3, 0, 5, 4, 94; the
     * beta = 3 closest are 6, 3, 10: (6 + 3 + 10) / 3 = 19/3.
     */
    @Test
    void goldenTailStepsTakeTheLowestIndexAndTheOutlierIsTrimmed() {
        double[][] x = {{100}, {0}, {1}, {3}, {6}, {10}, {15}};
        Run run = run(new Bulyan(1), x);
        assertGolden(new Bulyan(1), new double[] {19.0 / 3}, run);
        assertArrayEquals(new int[] {3, 4, 2, 5, 0}, run.report().selected());
        Tolerances.assertScores("bulyan(1) full-set scores", new double[] {33570, 146, 111, 71, 86, 171, 446}, run.report().krumScores());
    }

    @Test
    void goldenFZeroAveragesEverything() {
        // f = 0, n = 3: {6}, {1}, {2}. r = 3, 1 neighbour: 16, 1, 1 -> 1 (lower of the tied pair);
        // r = 2, 0 neighbours -> 0; then 2. Selection 1, 0, 2; beta = theta = 3: (6 + 1 + 2) / 3 = 3.
        Run run = run(new Bulyan(0), new double[][] {{6}, {1}, {2}});
        assertGolden(new Bulyan(0), new double[] {3}, run);
        assertArrayEquals(new int[] {1, 0, 2}, run.report().selected());
        Tolerances.assertScores("bulyan(0) scores", new double[] {16, 1, 1}, run.report().krumScores());
    }

    @ParameterizedTest(name = "n={0}")
    @ValueSource(ints = {7, 8, 11})
    void randomTailStepsWithExactTies(int n) {
        // f = 1 ends with a 1-neighbour step (the closest remaining pair ties exactly) and, for
        // n = 7, a 0-neighbour step; f = 2 (n = 11) ends with a 1-neighbour step.
        int f = n >= 11 ? 2 : 1;
        int[][] configs = {{1, SMALL_TILE}, {3, 7}, {2, DEFAULT_TILE}};
        for (int trial = 0; trial < 4; trial++) {
            SeededRandom random = SeededRandom.forCase("bulyan tail n=" + n + " trial " + trial);
            int d = new int[] {1, 33, 200, 1003}[trial];
            Layout layout = Layout.multi(d, random);
            Dtypes types = trial % 2 == 0 ? Dtypes.all(ElementType.F32) : Dtypes.mixed();
            double[][] x = RandomUpdates.tieFree(random, new Bulyan(f), n, layout, types, f);
            Built built = Batches.builder(x, layout).dtypes(types).build();
            for (int[] config : configs) {
                check(new Bulyan(f), built, null, random.where() + " config " + config[0] + "x" + config[1], config[0], config[1]);
            }
        }
    }

    static Stream<Case> randomCases() {
        return Case.grid(3, 7, 8, 11, 37);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("randomCases")
    void matchesTheReference(Case c) {
        checkRandom("bulyan", c, (n, random) -> new Bulyan(random.nextInt((n - 3) / 4 + 1)));
    }

    @Test
    void nBelowFourFPlusThreeIsRefused() {
        assertRefusedBeforeWriting(new Bulyan(1), 6);
        assertRefusedBeforeWriting(new Bulyan(2), 10);
        assertRefusedBeforeWriting(new Bulyan(0), 2);
        assertThrows(InvalidInputException.class, () -> new Bulyan(-1));
    }

    @Test
    void nOfFourFPlusThreeIsAccepted() {
        double[][] x = {{100}, {0}, {1}, {3}, {6}, {10}, {15}};
        assertArrayEquals(new int[] {3, 4, 2, 5, 0}, run(new Bulyan(1), x).report().selected());
    }

    @ParameterizedTest(name = "{0} as {1}")
    @MethodSource("nonFiniteValues")
    void nonFiniteInputIsRefused(float bad, ElementType type) {
        assertRejectsNonFinite(new Bulyan(1), 7, bad, type);
    }
}
