package org.murmur.kernels.cpu;

import java.util.Arrays;

/**
 * The per-tile arithmetic the rules share, accumulated in float64 as the rules are defined. Sums
 * run over lane arrays (independent partial sums per position) that the JIT vectorizes, then over
 * the lanes in a fixed order, so results depend only on the tile's contents and width.
 */
final class TileMath {
    /** Independent partial sums per reduction; a multiple of every SIMD width in use. */
    static final int LANES = 64;

    private TileMath() {
    }

    /**
     * {@code dst[x] = sum_r(coeffs[r] * row_r[x]) / divisor} over the tile's rows; rows with a zero
     * coefficient still count (they were read and checked).
     */
    static void weightedSum(Tile tile, double[] coeffs, double divisor, float[] dst) {
        int length = tile.length;
        double[] acc = tile.doubles(length);
        Arrays.fill(acc, 0, length, 0.0);
        float[] values = tile.values;
        for (int r = 0; r < tile.rows; r++) {
            double c = coeffs[r];
            int base = tile.row(r);
            for (int x = 0; x < length; x++) {
                acc[x] += c * values[base + x];
            }
        }
        for (int x = 0; x < length; x++) {
            dst[x] = (float) (acc[x] / divisor);
        }
    }

    /**
     * Adds the squared distance between every pair of rows i < j to {@code dist[i * rows + j]};
     * each pair is computed once, so the symmetric entry can be copied bit for bit.
     */
    static void addPairDistances(Tile tile, double[] dist) {
        float[] values = tile.values;
        double[] lanes = tile.lanes;
        for (int i = 0; i < tile.rows; i++) {
            for (int j = i + 1; j < tile.rows; j++) {
                dist[i * tile.rows + j] += squaredDistance(values, tile.row(i), values, tile.row(j), tile.length, lanes);
            }
        }
    }

    /** Adds {@code ||row_r - point||^2} to {@code dist[r]} for every row of the tile. */
    static void addDistancesTo(Tile tile, float[] point, double[] dist) {
        double[] lanes = tile.lanes;
        for (int r = 0; r < tile.rows; r++) {
            dist[r] += squaredDistance(tile.values, tile.row(r), point, 0, tile.length, lanes);
        }
    }

    /** {@code sum_x (a[x] - b[x])^2} in float64, over {@code length} elements. */
    static double squaredDistance(float[] a, int aOffset, float[] b, int bOffset, int length, double[] lanes) {
        Arrays.fill(lanes, 0, LANES, 0.0);
        int x = 0;
        for (; x + LANES <= length; x += LANES) {
            for (int l = 0; l < LANES; l++) {
                double d = (double) a[aOffset + x + l] - (double) b[bOffset + x + l];
                lanes[l] += d * d;
            }
        }
        for (int l = 0; x < length; x++, l++) {
            double d = (double) a[aOffset + x] - (double) b[bOffset + x];
            lanes[l] += d * d;
        }
        double sum = 0;
        for (int l = 0; l < LANES; l++) {
            sum += lanes[l];
        }
        return sum;
    }

    /** {@code sum_x v[x]^2} in float64. */
    static double squaredNorm(float[] v, int offset, int length, double[] lanes) {
        Arrays.fill(lanes, 0, LANES, 0.0);
        int x = 0;
        for (; x + LANES <= length; x += LANES) {
            for (int l = 0; l < LANES; l++) {
                double e = v[offset + x + l];
                lanes[l] += e * e;
            }
        }
        for (int l = 0; x < length; x++, l++) {
            double e = v[offset + x];
            lanes[l] += e * e;
        }
        double sum = 0;
        for (int l = 0; l < LANES; l++) {
            sum += lanes[l];
        }
        return sum;
    }
}
