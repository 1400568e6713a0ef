package org.murmur.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.Screening;
import org.murmur.kernels.api.UpdateBatch;
import org.murmur.kernels.testing.Batches;
import org.murmur.kernels.testing.RandomUpdates;
import org.murmur.kernels.testing.ReferenceBackend;
import org.murmur.kernels.testing.SeededRandom;

/** screen: each update's norm, cosine similarity to the candidate and distance from it. */
public abstract class ScreeningContract extends AggregationContract {
    private static final double TOLERANCE = 1e-9;

    @Test
    void goldenNormsCosinesAndDistances() {
        // candidate c = (3, 4): ||c|| = 5. x0 = (3, 4): norm 5, cos 1, dist 0. x1 = (-3, -4): norm 5,
        // cos -1, dist 10. x2 = (4, -3): norm 5, cos 0, dist sqrt(50). x3 = (0, 0): norm 0, cos 0, dist 5.
        UpdateBatch batch = Batches.f32(new double[][] {{3, 4}, {-3, -4}, {4, -3}, {0, 0}}).batch();
        Screening s = screen(batch, new float[] {3, 4});
        assertClose(new double[] {5, 5, 5, 0}, s.norms(), "norms");
        assertClose(new double[] {1, -1, 0, 0}, s.cosines(), "cosines");
        assertClose(new double[] {0, 10, Math.sqrt(50), 5}, s.distances(), "distances");
    }

    @Test
    void aRobustCandidateFlagsAScaledOutlier() {
        // Four honest updates near (1, 1, 1) and one scaled by 50 in the other direction: against
        // their median the outlier has by far the largest norm and the only negative cosine. (Their
        // mean would point the outlier's way: that is why a plain mean needs screening.)
        double[][] x = {{1, 1.1, 0.9}, {0.9, 1, 1.1}, {1.1, 0.9, 1}, {1, 1, 1}, {-50, -50, -50}};
        UpdateBatch batch = Batches.f32(x).batch();
        FloatVector median = FloatVector.allocate(3);
        backendFor(2, SMALL_TILE).aggregate(new RuleSpec.Median(), batch, median);
        Screening s = backendFor(2, SMALL_TILE).screen(batch, median);
        for (int i = 0; i < 4; i++) {
            assertEquals(1, Math.signum(s.cosines()[i]), "honest update " + i + " points with the median");
            assertEquals(true, s.norms()[4] > 40 * s.norms()[i], "the outlier's norm dwarfs update " + i);
        }
        assertEquals(-1, Math.signum(s.cosines()[4]));
    }

    static Stream<Case> randomCases() {
        return Case.grid(1, 2, 5, 33);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("randomCases")
    void matchesTheDefinitions(Case c) {
        SeededRandom random = SeededRandom.forCase("screen " + c);
        Batches.Built built = Batches.builder(RandomUpdates.draw(random, c.n(), c.d(), c.n() > 2 ? 1 : 0),
                Batches.Layout.multi(c.d(), random)).build();
        float[] candidate = new float[c.d()];
        for (int j = 0; j < candidate.length; j++) {
            candidate[j] = (float) random.uniform(-1, 1);
        }
        Screening expected = new ReferenceBackend().screen(built.batch(), vector(candidate));
        for (int threads : new int[] {1, 3}) {
            Screening actual = backendFor(threads, SMALL_TILE).screen(built.batch(), vector(candidate));
            String where = random.where() + " threads=" + threads;
            assertRelative(expected.norms(), actual.norms(), "norms " + where);
            assertRelative(expected.distances(), actual.distances(), "distances " + where);
            for (int i = 0; i < c.n(); i++) {
                assertEquals(expected.cosines()[i], actual.cosines()[i], 1e-6, "cosine " + i + " " + where);
            }
        }
    }

    @Test
    void aCandidateOfAnotherLengthIsRefused() {
        UpdateBatch batch = Batches.f32(new double[][] {{1, 2}, {3, 4}}).batch();
        assertThrows(IllegalArgumentException.class, () -> screen(batch, new float[] {1, 2, 3}));
    }

    private Screening screen(UpdateBatch batch, float[] candidate) {
        return backendFor(2, SMALL_TILE).screen(batch, vector(candidate));
    }

    private static FloatVector vector(float[] values) {
        FloatVector v = FloatVector.allocate(values.length);
        v.put(0, values, 0, values.length);
        return v;
    }

    private static void assertClose(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], TOLERANCE * Math.max(1, Math.abs(expected[i])), what + "[" + i + "]");
        }
    }

    private static void assertRelative(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-6 * Math.max(1, Math.abs(expected[i])), what + "[" + i + "]");
        }
    }
}
