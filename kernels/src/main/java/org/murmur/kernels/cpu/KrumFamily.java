package org.murmur.kernels.cpu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.murmur.kernels.api.AggregationReport;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.UpdateBatch;

/**
 * krum, multikrum and bulyan: a first pass computes every pairwise squared distance once (so
 * d(i,j) and d(j,i) are the same bits and exact ties resolve to the lower index), the selection
 * runs on that n x n matrix, and a second pass reads only the selected updates.
 */
final class KrumFamily {
    private KrumFamily() {
    }

    static AggregationReport krum(TileEngine engine, RuleSpec.Krum rule, UpdateBatch batch, FloatVector out) {
        double[] distances = pairDistances(engine, batch);
        double[] scores = scores(distances, batch.size(), CoordinateRules.allRows(batch.size()), rule.f());
        int winner = lowestScore(scores, CoordinateRules.allRows(batch.size()));
        engine.pass(batch, new int[] {winner}, 0, (tile, partial) -> out.put(tile.start, tile.values, 0, tile.length));
        return new AggregationReport(new int[] {winner}, scores, 0);
    }

    static AggregationReport multiKrum(TileEngine engine, RuleSpec.MultiKrum rule, UpdateBatch batch, FloatVector out) {
        int n = batch.size();
        double[] distances = pairDistances(engine, batch);
        double[] scores = scores(distances, n, CoordinateRules.allRows(n), rule.f());
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        // Stable sort: equal scores keep ascending index order.
        Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
        int[] selected = new int[rule.m()];
        for (int i = 0; i < selected.length; i++) {
            selected[i] = order[i];
        }
        int[] rows = selected.clone();
        Arrays.sort(rows);
        CoordinateRules.weightedMean(engine, batch, rows, CoordinateRules.ones(rows.length), rows.length, out);
        return new AggregationReport(selected, scores, 0);
    }

    static AggregationReport bulyan(TileEngine engine, RuleSpec.Bulyan rule, UpdateBatch batch, FloatVector out) {
        int n = batch.size();
        int f = rule.f();
        double[] distances = pairDistances(engine, batch);
        double[] fullScores = scores(distances, n, CoordinateRules.allRows(n), f);
        int theta = n - 2 * f;
        int beta = theta - 2 * f;
        List<Integer> remaining = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            remaining.add(i);
        }
        int[] selection = new int[theta];
        for (int s = 0; s < theta; s++) {
            int[] candidates = remaining.stream().mapToInt(Integer::intValue).toArray();
            double[] scores = scores(distances, n, candidates, f);
            int winner = lowestScore(scores, candidates);
            selection[s] = winner;
            remaining.remove(Integer.valueOf(winner));
        }
        ComparatorNetwork sort = ComparatorNetwork.sorting(theta);
        engine.pass(batch, selection, 0, (tile, partial) -> {
            sort.apply(tile);
            float[] result = tile.floats(tile.length);
            for (int x = 0; x < tile.length; x++) {
                result[x] = closestToMedianMean(tile, x, theta, beta);
            }
            out.put(tile.start, result, 0, tile.length);
        });
        return new AggregationReport(selection, fullScores, 0);
    }

    /**
     * The mean of the beta values closest to the median, for coordinate x of a tile whose theta
     * rows are sorted: those values are a contiguous run around the median, grown one at a time
     * towards the nearer side.
     */
    private static float closestToMedianMean(Tile tile, int x, int theta, int beta) {
        float[] v = tile.values;
        int w = tile.width;
        double median = ((double) v[((theta - 1) / 2) * w + x] + v[(theta / 2) * w + x]) * 0.5;
        int left = (theta - 1) / 2;
        int right = left + 1;
        double sum = 0;
        for (int taken = 0; taken < beta; taken++) {
            boolean takeLeft = right >= theta
                    || (left >= 0 && median - v[left * w + x] <= v[right * w + x] - median);
            if (takeLeft) {
                sum += v[left * w + x];
                left--;
            } else {
                sum += v[right * w + x];
                right++;
            }
        }
        return (float) (sum / beta);
    }

    /** The full symmetric matrix of squared distances, zero on the diagonal. */
    static double[] pairDistances(TileEngine engine, UpdateBatch batch) {
        int n = batch.size();
        double[] distances = engine.pass(batch, CoordinateRules.allRows(n), n * n, (tile, partial) -> tile.kernels.addPairDistances(tile, partial));
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                distances[j * n + i] = distances[i * n + j];
            }
        }
        return distances;
    }

    /**
     * Krum scores over the candidate set: each candidate's sum of its {@code max(0, r-f-2)}
     * smallest squared distances to the other candidates, summed smallest first. Indexed like
     * {@code candidates}.
     */
    static double[] scores(double[] distances, int n, int[] candidates, int f) {
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
    private static int lowestScore(double[] scores, int[] candidates) {
        int best = 0;
        for (int a = 1; a < scores.length; a++) {
            if (scores[a] < scores[best]) {
                best = a;
            }
        }
        return candidates[best];
    }
}
