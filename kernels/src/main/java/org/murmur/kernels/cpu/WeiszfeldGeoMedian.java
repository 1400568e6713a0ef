package org.murmur.kernels.cpu;

import org.murmur.kernels.api.AggregationReport;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.UpdateBatch;

/**
 * The geometric median by Weiszfeld's iteration, one pass over the updates per z-update: the pass
 * that computes z_new also measures every ||x_i - z_new|| for the next step, ||z_new - z|| for the
 * stop test and ||z_new||. The iterate is kept in float64 as two float32 vectors, its rounding
 * (the output vector, so the result is z cast to float32 as the spec defines) and the remainder:
 * a float32 iterate would drift from the float64 definition near a data point, where the weights
 * 1 / max(eps, ||x_i - z||) are most sensitive, and change when the iteration stops.
 */
final class WeiszfeldGeoMedian {
    private WeiszfeldGeoMedian() {
    }

    static AggregationReport run(TileEngine engine, RuleSpec.GeoMedian rule, UpdateBatch batch, FloatVector out) {
        int n = batch.size();
        int[] rows = CoordinateRules.allRows(n);
        double[] ones = CoordinateRules.ones(n);
        FloatVector remainder = FloatVector.allocate(batch.dimension());
        // Partial layout: [0, n) squared distances to the new z, n: ||z_new - z||^2, n+1: ||z_new||^2.
        double[] sums = engine.pass(batch, rows, n + 2, (tile, partial) -> {
            double[] z = tile.kernels.rowSums(tile, 0, n, ones);
            for (int x = 0; x < tile.length; x++) {
                z[x] /= n;
            }
            finishTile(tile, z, partial, n, out, remainder);
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
                int length = tile.length;
                float[] old = tile.floats(2 * length);
                out.get(tile.start, old, 0, length);
                remainder.get(tile.start, old, length, length);
                double[] z = tile.kernels.rowSums(tile, 0, n, weights);
                double step = 0;
                for (int x = 0; x < length; x++) {
                    z[x] /= divisor;
                    double d = z[x] - ((double) old[x] + old[length + x]);
                    step += d * d;
                }
                partial[n] += step;
                finishTile(tile, z, partial, n, out, remainder);
            });
            iterations++;
            if (Math.sqrt(sums[n]) <= rule.tol() * oldNorm) {
                break;
            }
        }
        return new AggregationReport(new int[0], new double[0], iterations);
    }

    /**
     * Adds every ||x_i - z||^2 over the tile to partial[i] and ||z||^2 to partial[n + 1], then
     * stores z as its float32 rounding (in {@code out}) plus the float32 remainder.
     */
    private static void finishTile(Tile tile, double[] z, double[] partial, int n, FloatVector out, FloatVector remainder) {
        int length = tile.length;
        tile.kernels.addDistancesTo(tile, z, partial);
        float[] split = tile.floats(2 * length);
        double norm = 0;
        for (int x = 0; x < length; x++) {
            norm += z[x] * z[x];
            float rounded = (float) z[x];
            split[x] = rounded;
            split[length + x] = (float) (z[x] - rounded);
        }
        partial[n + 1] += norm;
        out.put(tile.start, split, 0, length);
        remainder.put(tile.start, split, length, length);
    }
}
