package org.murmur.kernels.cpu;

import java.util.Arrays;
import org.murmur.kernels.api.AggregationReport;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.UpdateBatch;

/**
 * Centered clipping: v starts at the given center (checked like any update) or the mean, and each
 * of the {@code iters} passes moves it by the mean of the clipped differences while measuring the
 * distances the next pass needs. v lives in the output vector, updated tile by tile in place.
 */
final class CenteredClipping {
    private CenteredClipping() {
    }

    static AggregationReport run(TileEngine engine, RuleSpec.CenteredClip rule, UpdateBatch batch, FloatVector out) {
        int n = batch.size();
        int[] rows = CoordinateRules.allRows(n);
        UpdateBatch center = rule.center() == null ? null : centerOf(rule, batch);
        double[] ones = CoordinateRules.ones(n);
        double[] distances = engine.pass(batch, rows, n, (tile, partial) -> {
            float[] v = tile.floats(tile.length);
            if (center == null) {
                tile.kernels.weightedSum(tile, 0, n, ones, n, v);
            } else {
                center.read(0, tile.start, tile.length, v, 0);
            }
            tile.kernels.addDistancesTo(tile, v, partial);
            out.put(tile.start, v, 0, tile.length);
        });
        for (int step = 1; step <= rule.iters(); step++) {
            double[] factors = new double[n];
            for (int i = 0; i < n; i++) {
                double norm = Math.sqrt(distances[i]);
                factors[i] = norm == 0 ? 1.0 : Math.min(1.0, rule.tau() / norm);
            }
            boolean last = step == rule.iters();
            distances = engine.pass(batch, rows, n, (tile, partial) -> {
                float[] v = tile.floats(tile.length);
                out.get(tile.start, v, 0, tile.length);
                double[] shift = tile.doubles(tile.length);
                Arrays.fill(shift, 0, tile.length, 0.0);
                for (int r = 0; r < n; r++) {
                    double c = factors[r];
                    int base = tile.row(r);
                    for (int x = 0; x < tile.length; x++) {
                        shift[x] += c * ((double) tile.values[base + x] - v[x]);
                    }
                }
                for (int x = 0; x < tile.length; x++) {
                    v[x] = (float) (v[x] + shift[x] / n);
                }
                if (!last) {
                    tile.kernels.addDistancesTo(tile, v, partial);
                }
                out.put(tile.start, v, 0, tile.length);
            });
        }
        return new AggregationReport(new int[0], new double[0], rule.iters());
    }

    private static UpdateBatch centerOf(RuleSpec.CenteredClip rule, UpdateBatch batch) {
        UpdateBatch.requireSameLayout(batch.update(0), rule.center());
        return UpdateBatch.of(rule.center());
    }
}
