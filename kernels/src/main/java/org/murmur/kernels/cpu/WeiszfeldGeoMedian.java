package org.murmur.kernels.cpu;

import org.murmur.kernels.api.AggregationReport;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.UpdateBatch;

/**
 * The geometric median by Weiszfeld's iteration, one pass over the updates per z-update: the pass
 * that writes z_new also measures every ||x_i - z_new|| for the next step, ||z_new - z|| for the
 * stop test and ||z_new||. The iterate lives in the output vector and is updated tile by tile in
 * place.
 */
final class WeiszfeldGeoMedian {
    private WeiszfeldGeoMedian() {
    }

    static AggregationReport run(TileEngine engine, RuleSpec.GeoMedian rule, UpdateBatch batch, FloatVector out) {
        int n = batch.size();
        int[] rows = CoordinateRules.allRows(n);
        double[] ones = CoordinateRules.ones(n);
        // Partial layout: [0, n) squared distances to the new z, n: ||z_new - z||^2, n+1: ||z_new||^2.
        double[] sums = engine.pass(batch, rows, n + 2, (tile, partial) -> {
            float[] z = tile.floats(tile.length);
            tile.kernels.weightedSum(tile, 0, n, ones, n, z);
            finishTile(tile, z, partial, n);
            out.put(tile.start, z, 0, tile.length);
        });
        int iterations = 0;
        while (iterations < rule.maxIter()) {
            double[] weights = new double[n];
            double total = 0;
            for (int i = 0; i < n; i++) {
                weights[i] = 1.0 / Math.max(rule.eps(), Math.sqrt(sums[i]));
                total += weights[i];
            }
            double oldNorm = Math.sqrt(sums[n + 1]);
            double divisor = total;
            sums = engine.pass(batch, rows, n + 2, (tile, partial) -> {
                float[] z = tile.floats(2 * tile.length);
                out.get(tile.start, z, tile.length, tile.length);
                tile.kernels.weightedSum(tile, 0, n, weights, divisor, z);
                double step = 0;
                for (int x = 0; x < tile.length; x++) {
                    double d = (double) z[x] - z[tile.length + x];
                    step += d * d;
                }
                partial[n] += step;
                finishTile(tile, z, partial, n);
                out.put(tile.start, z, 0, tile.length);
            });
            iterations++;
            if (Math.sqrt(sums[n]) <= rule.tol() * oldNorm) {
                break;
            }
        }
        return new AggregationReport(new int[0], new double[0], iterations);
    }

    /** Adds every ||x_i - z||^2 over the tile to partial[i] and ||z||^2 to partial[n + 1]. */
    private static void finishTile(Tile tile, float[] z, double[] partial, int n) {
        tile.kernels.addDistancesTo(tile, z, partial);
        partial[n + 1] += tile.kernels.squaredNorm(tile, z, 0);
    }
}
