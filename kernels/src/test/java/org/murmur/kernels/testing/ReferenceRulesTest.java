package org.murmur.kernels.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.RuleSpec;

/**
 * The reference itself against the hand-computed golden values the contract suites use, and the
 * near-tie checks and generators against inputs built to trip them.
 */
class ReferenceRulesTest {
    private static final double[][] FIVE_POINTS = {{11, 11}, {2, 1}, {1, 1}, {1, 3}, {4, 4}};
    private static final double[][] BULYAN_LINE = {{100}, {0}, {1}, {3}, {6}, {10}, {15}};

    @Test
    void coordinateWiseGoldens() {
        assertArrayEquals(new double[] {2.5}, ReferenceRules.median(new double[][] {{3}, {100}, {1}, {2}}));
        assertArrayEquals(new double[] {3}, ReferenceRules.median(new double[][] {{100}, {4}, {1}, {3}, {2}}));
        assertArrayEquals(new double[] {3, 4}, ReferenceRules.trimmedMean(new double[][] {{100, 4}, {4, -50}, {1, 9}, {3, 2}, {2, 6}}, 1));
        assertArrayEquals(new double[] {22, -5.8}, ReferenceRules.trimmedMean(new double[][] {{100, 4}, {4, -50}, {1, 9}, {3, 2}, {2, 6}}, 0), 1e-12);
        assertArrayEquals(new double[] {2, -2}, ReferenceRules.fedavg(new double[][] {{1, -1}, {2, -2}, {3, -3}, {100, 50}}, new double[] {1, 2, 1, 0}));
        assertArrayEquals(new double[] {26.5, 11}, ReferenceRules.mean(new double[][] {{1, -1}, {2, -2}, {3, -3}, {100, 50}}));
    }

    @Test
    void krumFamilyGoldens() {
        assertArrayEquals(new double[] {262, 6, 5, 9, 23}, ReferenceRules.krumScores(FIVE_POINTS, 1));
        assertArrayEquals(new double[] {443, 19, 23, 19, 41}, ReferenceRules.krumScores(FIVE_POINTS, 0));
        assertEquals(2, ReferenceRules.krum(FIVE_POINTS, 1));
        assertEquals(1, ReferenceRules.krum(FIVE_POINTS, 0));
        assertArrayEquals(new int[] {2, 1, 3}, ReferenceRules.multikrumSelection(FIVE_POINTS, 1, 3));
        assertArrayEquals(new int[] {1, 3, 2}, ReferenceRules.multikrumSelection(FIVE_POINTS, 0, 3));
        assertArrayEquals(new double[] {4.0 / 3, 5.0 / 3}, ReferenceRules.multikrum(FIVE_POINTS, 1, 3), 1e-12);
        assertEquals(1, ReferenceRules.krum(new double[][] {{6}, {1}, {2}}, 0));
        assertEquals(0, ReferenceRules.krum(new double[][] {{2}, {1}, {6}}, 0));
    }

    @Test
    void bulyanGoldens() {
        assertArrayEquals(new double[] {33570, 146, 111, 71, 86, 171, 446}, ReferenceRules.krumScores(BULYAN_LINE, 1));
        assertArrayEquals(new int[] {3, 4, 2, 5, 0}, ReferenceRules.bulyanSelection(BULYAN_LINE, 1));
        assertArrayEquals(new double[] {19.0 / 3}, ReferenceRules.bulyan(BULYAN_LINE, 1), 1e-12);
        assertArrayEquals(new int[] {1, 0, 2}, ReferenceRules.bulyanSelection(new double[][] {{6}, {1}, {2}}, 0));
        assertArrayEquals(new double[] {3}, ReferenceRules.bulyan(new double[][] {{6}, {1}, {2}}, 0), 1e-12);
    }

    @Test
    void iterativeGoldens() {
        ReferenceRules.Weiszfeld w = ReferenceRules.geomedian(new double[][] {{1}, {2}, {100}, {3}, {4}}, 100, 1e-8, 1e-7);
        assertEquals(3, w.z()[0], 1e-6);
        assertTrue(w.iterations() < 100, "converges: " + w.iterations());
        ReferenceRules.Weiszfeld two = ReferenceRules.geomedian(new double[][] {{0}, {0}, {3}}, 2, 1e-8, 0);
        assertEquals(1.0 / 3, two.z()[0], 1e-12);
        assertEquals(2, two.iterations());
        ReferenceRules.Weiszfeld plane = ReferenceRules.geomedian(new double[][] {{4, 5}, {-2, 5}, {1, -7}}, 1, 1e-8, 0);
        assertArrayEquals(new double[] {1, 15.0 / 7}, plane.z(), 1e-12);
        assertEquals(0, ReferenceRules.geomedian(new double[][] {{1}, {5}}, 0, 1e-8, 1e-7).iterations());
        double[][] line = {{0}, {0}, {10}, {0}};
        assertEquals(2.0, ReferenceRules.centeredClip(line, 1, 1, null)[0], 1e-12);
        assertEquals(1.0, ReferenceRules.centeredClip(line, 1, 3, null)[0], 1e-12);
        assertEquals(0.25, ReferenceRules.centeredClip(line, 1, 1, new double[] {0})[0], 1e-12);
        assertEquals(0.3125, ReferenceRules.centeredClip(line, 1, 2, new double[] {0})[0], 1e-12);
        assertArrayEquals(new double[] {1, 1.8}, ReferenceRules.centeredClip(new double[][] {{4, 5}, {-2, 5}, {1, -7}}, 4, 1, null), 1e-12);
        double[][] clip = {{3, 4}, {0, 0}, {0, 1}, {300, 400}};
        assertArrayEquals(new double[] {0.6, 1.05}, ReferenceRules.normClipMean(clip, 2), 1e-12);
        assertArrayEquals(new double[] {75.75, 101.25}, ReferenceRules.normClipMean(clip, 1000), 1e-12);
    }

    @Test
    void nearTiesAreFoundAndIntendedTiesAllowed() {
        // Two non-adjacent updates with scores within 1e-7 relative: krum must draw again.
        double[][] symmetric = {{0}, {10}, {20}, {30.000001}, {100}};
        assertNotNull(ReferenceRules.nearTie(new RuleSpec.Krum(1), symmetric));
        // f = 0, n = 3: the closest pair ties exactly, which the spec intends.
        assertNull(ReferenceRules.nearTie(new RuleSpec.Krum(0), new double[][] {{6}, {1}, {2}}));
        // ... unless one of the pair has a second neighbour as near.
        assertNotNull(ReferenceRules.nearTie(new RuleSpec.Krum(0), new double[][] {{0}, {1}, {2}}));
        // The Bulyan golden's ties are the intended ones; its coordinate has no beta cut tie.
        assertNull(ReferenceRules.nearTie(new RuleSpec.Bulyan(1), BULYAN_LINE));
        // Multikrum cut: scores 443, 19, 23, 19, 41 under f = 0 tie inside the first two.
        assertNotNull(ReferenceRules.multikrumNearTie(FIVE_POINTS, 0, 1));
        // A Bulyan coordinate where values on both sides of the median are equally far.
        // Selected -2, -1, 0, 2, 5 (median 0): -2 and 2 are both 2 away, at the 3rd/4th place.
        double[][] cut = {{-2}, {-1}, {0}, {2}, {5}, {50}, {60}};
        assertTrue(ReferenceRules.bulyanTiedCoordinates(cut, 1).length > 0);
        // Selected -2, -1, 0, 1, 3, 3 (median 0.5, beta = 4): -2, 3 and 3 are all 2.5 away; the
        // two at the cut are equal, but -2 could take either's place.
        double[][] threeWay = {{-2}, {-1}, {0}, {1}, {3}, {3}, {50}, {60}};
        assertArrayEquals(new int[] {0}, ReferenceRules.bulyanTiedCoordinates(threeWay, 1));
        // Equal values at the cut with nothing else as far are harmless: 3, 3 at 2.5, -1.5 at 2.
        double[][] equalPair = {{-1.5}, {-1}, {0}, {1}, {3}, {3}, {50}, {60}};
        assertArrayEquals(new int[0], ReferenceRules.bulyanTiedCoordinates(equalPair, 1));
    }

    @Test
    void tieFreeDrawsAreRepresentableAndTieFree() {
        for (ElementType type : ElementType.values()) {
            for (RuleSpec rule : new RuleSpec[] {new RuleSpec.Krum(3), new RuleSpec.MultiKrum(2, 9), new RuleSpec.Bulyan(2)}) {
                SeededRandom random = SeededRandom.forCase("tie-free " + type + " " + rule);
                Batches.Layout layout = Batches.Layout.multi(257, random);
                double[][] x = RandomUpdates.tieFree(random, rule, 13, layout, Batches.Dtypes.all(type), 2);
                assertNull(ReferenceRules.nearTie(rule, x), random.where());
                for (double[] row : x) {
                    for (double v : row) {
                        assertEquals(v, Batches.round(type, (float) v), 0.0, "representable in " + type);
                    }
                }
            }
        }
    }
}
