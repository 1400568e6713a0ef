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
        ComparatorNetwork network = ComparatorNetwork.selecting(n, middle);
        engine.pass(batch, allRows(n), 0, (tile, partial) -> {
            network.apply(tile);
            float[] result = tile.floats(tile.length);
            int a = tile.row(lower);
            int b = tile.row(upper);
            for (int x = 0; x < tile.length; x++) {
                result[x] = (float) (((double) tile.values[a + x] + tile.values[b + x]) * 0.5);
            }
            out.put(tile.start, result, 0, tile.length);
        });
        return AggregationReport.plain();
    }

    static AggregationReport trimmedMean(TileEngine engine, RuleSpec.TrimmedMean rule, UpdateBatch batch, FloatVector out) {
        int n = batch.size();
        int k = rule.k();
        if (k == 0) {
            return mean(engine, batch, out);
        }
        ComparatorNetwork network = ComparatorNetwork.selectingExtremes(n, k);
        engine.pass(batch, allRows(n), 0, (tile, partial) -> {
            network.apply(tile);
            double[] sum = tile.doubles(tile.length);
            Arrays.fill(sum, 0, tile.length, 0.0);
            for (int r = k; r < n - k; r++) {
                int base = tile.row(r);
                for (int x = 0; x < tile.length; x++) {
                    sum[x] += tile.values[base + x];
                }
            }
            float[] result = tile.floats(tile.length);
            int kept = n - 2 * k;
            for (int x = 0; x < tile.length; x++) {
                result[x] = (float) (sum[x] / kept);
            }
            out.put(tile.start, result, 0, tile.length);
        });
        return AggregationReport.plain();
    }

    /** The unweighted mean of all updates. */
    static AggregationReport mean(TileEngine engine, UpdateBatch batch, FloatVector out) {
        int n = batch.size();
        double[] ones = new double[n];
        Arrays.fill(ones, 1.0);
        weightedMean(engine, batch, allRows(n), ones, n, out);
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

    static int[] allRows(int n) {
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) {
            rows[i] = i;
        }
        return rows;
    }
}
