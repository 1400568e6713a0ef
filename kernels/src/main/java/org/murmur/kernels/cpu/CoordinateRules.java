package org.murmur.kernels.cpu;

import java.util.Arrays;
import java.util.BitSet;
import org.murmur.kernels.api.AggregationReport;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.UpdateBatch;

/**
 * fedavg, median and trimmed_mean: one pass, each output coordinate computed from the same
 * coordinate of every update with the same operations in the same order, whatever the tiling.
 */
final class CoordinateRules {
    private CoordinateRules() {
    }

    static AggregationReport fedAvg(TileEngine engine, RuleSpec.FedAvg rule, UpdateBatch batch, FloatVector out) {
        int n = batch.size();
        double[] weights = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++) {
            weights[i] = rule.weight(i);
            total += weights[i];
        }
        weightedMean(engine, batch, allRows(n), weights, total, out);
        return AggregationReport.plain();
    }

    static AggregationReport median(TileEngine engine, UpdateBatch batch, FloatVector out) {
        int n = batch.size();
        int lower = (n - 1) / 2;
        int upper = n / 2;
        BitSet middle = new BitSet(n);
        middle.set(lower);
        middle.set(upper);
        return meanOfSelectedRows(engine, batch, ComparatorNetwork.selecting(n, middle), lower, upper - lower + 1, out);
    }

    static AggregationReport trimmedMean(TileEngine engine, RuleSpec.TrimmedMean rule, UpdateBatch batch, FloatVector out) {
        int n = batch.size();
        int k = rule.k();
        if (k == 0) {
            return mean(engine, batch, out);
        }
        return meanOfSelectedRows(engine, batch, ComparatorNetwork.selectingExtremes(n, k), k, n - 2 * k, out);
    }

    /** Runs {@code network} on every tile, then averages rows {@code [first, first + count)}. */
    private static AggregationReport meanOfSelectedRows(TileEngine engine, UpdateBatch batch, ComparatorNetwork network,
                                                        int first, int count, FloatVector out) {
        int n = batch.size();
        double[] ones = ones(n);
        engine.pass(batch, allRows(n), 0, (tile, partial) -> {
            network.apply(tile);
            float[] result = tile.floats(tile.length);
            tile.kernels.weightedSum(tile, first, count, ones, count, result);
            out.put(tile.start, result, 0, tile.length);
        });
        return AggregationReport.plain();
    }

    /** The unweighted mean of all updates. */
    static AggregationReport mean(TileEngine engine, UpdateBatch batch, FloatVector out) {
        int n = batch.size();
        weightedMean(engine, batch, allRows(n), ones(n), n, out);
        return AggregationReport.plain();
    }

    /** {@code out = sum_r(coeffs[r] * x_rows[r]) / divisor}. */
    static void weightedMean(TileEngine engine, UpdateBatch batch, int[] rows, double[] coeffs, double divisor, FloatVector out) {
        engine.pass(batch, rows, 0, (tile, partial) -> {
            float[] result = tile.floats(tile.length);
            tile.kernels.weightedSum(tile, 0, tile.rows, coeffs, divisor, result);
            out.put(tile.start, result, 0, tile.length);
        });
    }

    /** n coefficients of 1. */
    static double[] ones(int n) {
        double[] ones = new double[n];
        Arrays.fill(ones, 1.0);
        return ones;
    }

    static int[] allRows(int n) {
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) {
            rows[i] = i;
        }
        return rows;
    }
}
