package org.murmur.kernels.cpu;

import java.util.Arrays;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.Screening;
import org.murmur.kernels.api.UpdateBatch;

/**
 * The screening pass: per update its squared norm, its dot product with the candidate and its
 * squared distance from it, and the candidate's squared norm, each reduced in float64 lanes.
 */
final class Screen {
    private Screen() {
    }

    static Screening run(TileEngine engine, UpdateBatch batch, FloatVector candidate) {
        if (candidate.length() != batch.dimension()) {
            throw new IllegalArgumentException("the candidate holds " + candidate.length() + " floats, the updates "
                    + batch.dimension());
        }
        int n = batch.size();
        // partial: [0, n) squared norms, [n, 2n) dots, [2n, 3n) squared distances, [3n] ||c||^2
        double[] sums = engine.pass(batch, CoordinateRules.allRows(n), 3 * n + 1, (tile, partial) -> {
            float[] point = tile.floats(tile.length);
            candidate.get(tile.start, point, 0, tile.length);
            for (int r = 0; r < n; r++) {
                partial[r] += tile.kernels.squaredNorm(tile, tile.values, tile.row(r));
                partial[n + r] += dot(tile, tile.row(r), point);
            }
            double[] distances = tile.doubles(n);
            Arrays.fill(distances, 0, n, 0.0);
            tile.kernels.addDistancesTo(tile, point, distances);
            for (int r = 0; r < n; r++) {
                partial[2 * n + r] += distances[r];
            }
            partial[3 * n] += tile.kernels.squaredNorm(tile, point, 0);
        });
        return Screening.of(Arrays.copyOfRange(sums, 0, n), Arrays.copyOfRange(sums, n, 2 * n), sums[3 * n],
                Arrays.copyOfRange(sums, 2 * n, 3 * n));
    }

    /** {@code <row, point>} over the tile, in float64 lanes (independent sums the JIT can keep in registers). */
    private static double dot(Tile tile, int offset, float[] point) {
        double[] lanes = tile.lanes;
        Arrays.fill(lanes, 0.0);
        int x = 0;
        for (; x + ScalarKernels.LANES <= tile.length; x += ScalarKernels.LANES) {
            for (int l = 0; l < ScalarKernels.LANES; l++) {
                lanes[l] += (double) tile.values[offset + x + l] * point[x + l];
            }
        }
        for (int l = 0; x < tile.length; x++, l++) {
            lanes[l] += (double) tile.values[offset + x] * point[x];
        }
        double sum = 0;
        for (double lane : lanes) {
            sum += lane;
        }
        return sum;
    }
}
