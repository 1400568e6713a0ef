package org.murmur.kernels.cpu;

import org.murmur.kernels.api.AggregationReport;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.UpdateBatch;

/** norm_clip_mean: a pass for the norms, then the mean of the updates scaled to norm at most c. */
final class NormClipMean {
    private NormClipMean() {
    }

    static AggregationReport run(TileEngine engine, RuleSpec.NormClipMean rule, UpdateBatch batch, FloatVector out) {
        int n = batch.size();
        int[] rows = CoordinateRules.allRows(n);
        double[] squaredNorms = engine.pass(batch, rows, n, (tile, partial) -> {
            for (int r = 0; r < n; r++) {
                partial[r] += tile.kernels.squaredNorm(tile, tile.values, tile.row(r));
            }
        });
        double[] scales = new double[n];
        for (int i = 0; i < n; i++) {
            double norm = Math.sqrt(squaredNorms[i]);
            scales[i] = norm == 0 ? 1.0 : Math.min(1.0, rule.c() / norm);
        }
        CoordinateRules.weightedMean(engine, batch, rows, scales, n, out);
        return AggregationReport.plain();
    }
}
