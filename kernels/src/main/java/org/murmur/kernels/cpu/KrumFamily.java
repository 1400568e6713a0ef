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
        double[] scores = KrumSelection.scores(distances, batch.size(), CoordinateRules.allRows(batch.size()), rule.f());
        int winner = KrumSelection.lowestScore(scores, CoordinateRules.allRows(batch.size()));
        engine.pass(batch, new int[] {winner}, 0, (tile, partial) -> out.put(tile.start, tile.values, 0, tile.length));
        return new AggregationReport(new int[] {winner}, scores, 0);
    }

    static AggregationReport multiKrum(TileEngine engine, RuleSpec.MultiKrum rule, UpdateBatch batch, FloatVector out) {
        int n = batch.size();
        double[] distances = pairDistances(engine, batch);
        double[] scores = KrumSelection.scores(distances, n, CoordinateRules.allRows(n), rule.f());
        int[] selected = KrumSelection.lowestScores(scores, rule.m());
        int[] rows = selected.clone();
        Arrays.sort(rows);
        CoordinateRules.weightedMean(engine, batch, rows, CoordinateRules.ones(rows.length), rows.length, out);
        return new AggregationReport(selected, scores, 0);
    }

    static AggregationReport bulyan(TileEngine engine, RuleSpec.Bulyan rule, UpdateBatch batch, FloatVector out) {
        int n = batch.size();
        int f = rule.f();
        double[] distances = pairDistances(engine, batch);
        double[] fullScores = KrumSelection.scores(distances, n, CoordinateRules.allRows(n), f);
        int theta = n - 2 * f;
        int beta = theta - 2 * f;
        List<Integer> remaining = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            remaining.add(i);
        }
        int[] selection = new int[theta];
        for (int s = 0; s < theta; s++) {
            int[] candidates = remaining.stream().mapToInt(Integer::intValue).toArray();
            double[] scores = KrumSelection.scores(distances, n, candidates, f);
            int winner = KrumSelection.lowestScore(scores, candidates);
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
}
