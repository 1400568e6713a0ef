package org.murmur.kernels.cpu;

import java.util.Arrays;

/**
 * The Krum family's choices from a full n x n matrix of squared distances, shared by every backend
 * (the matrix is what differs): Krum scores over a candidate set, the winner, and Multi-Krum's m
 * best. Ties go to the lower index, as the spec requires.
 */
public final class KrumSelection {
    private KrumSelection() {
    }

    /**
     * Krum scores over the candidate set: each candidate's sum of its {@code max(0, r-f-2)}
     * smallest squared distances to the other candidates, summed smallest first. Indexed like
     * {@code candidates}.
     */
    public static double[] scores(double[] distances, int n, int[] candidates, int f) {
        int r = candidates.length;
        int neighbours = Math.max(0, r - f - 2);
        double[] scores = new double[r];
        double[] others = new double[Math.max(0, r - 1)];
        for (int a = 0; a < r; a++) {
            int o = 0;
            for (int b = 0; b < r; b++) {
                if (b != a) {
                    others[o++] = distances[candidates[a] * n + candidates[b]];
                }
            }
            Arrays.sort(others);
            double score = 0;
            for (int k = 0; k < neighbours; k++) {
                score += others[k];
            }
            scores[a] = score;
        }
        return scores;
    }

    /** The candidate with the lowest score; the first (lowest index) on a tie. */
    public static int lowestScore(double[] scores, int[] candidates) {
        int best = 0;
        for (int a = 1; a < scores.length; a++) {
            if (scores[a] < scores[best]) {
                best = a;
            }
        }
        return candidates[best];
    }

    /** The indices of the m lowest scores, lowest first; equal scores in ascending index order. */
    public static int[] lowestScores(double[] scores, int m) {
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        // Stable sort: equal scores keep ascending index order.
        Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
        int[] selected = new int[m];
        for (int i = 0; i < m; i++) {
            selected[i] = order[i];
        }
        return selected;
    }
}
