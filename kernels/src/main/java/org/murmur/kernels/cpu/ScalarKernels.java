package org.murmur.kernels.cpu;

import java.util.Arrays;

/**
 * Plain-Java tile arithmetic that runs on any JVM. Reductions over coordinates use independent
 * lane sums the JIT can vectorize, added up in a fixed order.
 */
final class ScalarKernels implements TileKernels {
    /** Lane sums per reduction; also the size of {@link Tile#lanes}. */
    static final int LANES = 64;

    @Override
    public double[] rowSums(Tile tile, int firstRow, int rowCount, double[] coeffs) {
        int length = tile.length;
        double[] acc = tile.doubles(length);
        Arrays.fill(acc, 0, length, 0.0);
        float[] values = tile.values;
        for (int r = firstRow; r < firstRow + rowCount; r++) {
            double c = coeffs[r];
            int base = tile.row(r);
            for (int x = 0; x < length; x++) {
                acc[x] += c * values[base + x];
            }
        }
        return acc;
    }

    @Override
    public void weightedSum(Tile tile, int firstRow, int rowCount, double[] coeffs, double divisor, float[] dst) {
        double[] acc = rowSums(tile, firstRow, rowCount, coeffs);
        for (int x = 0; x < tile.length; x++) {
            dst[x] = (float) (acc[x] / divisor);
        }
    }

    @Override
    public void addDistancesTo(Tile tile, double[] point, double[] dist) {
        double[] lanes = tile.lanes;
        for (int r = 0; r < tile.rows; r++) {
            Arrays.fill(lanes, 0.0);
            int base = tile.row(r);
            int x = 0;
            for (; x + LANES <= tile.length; x += LANES) {
                for (int l = 0; l < LANES; l++) {
                    double d = tile.values[base + x + l] - point[x + l];
                    lanes[l] += d * d;
                }
            }
            for (int l = 0; x < tile.length; x++, l++) {
                double d = tile.values[base + x] - point[x];
                lanes[l] += d * d;
            }
            dist[r] += sum(lanes);
        }
    }

    @Override
    public void addPairDistances(Tile tile, double[] dist) {
        for (int i = 0; i < tile.rows; i++) {
            for (int j = i + 1; j < tile.rows; j++) {
                dist[i * tile.rows + j] += squaredDistance(tile, tile.values, tile.row(i), tile.values, tile.row(j), tile.lanes);
            }
        }
    }

    @Override
    public void addDistancesTo(Tile tile, float[] point, double[] dist) {
        for (int r = 0; r < tile.rows; r++) {
            dist[r] += squaredDistance(tile, tile.values, tile.row(r), point, 0, tile.lanes);
        }
    }

    @Override
    public double squaredNorm(Tile tile, float[] v, int offset) {
        return squaredNorm(tile, v, offset, tile.lanes);
    }

    /** {@code ||v[offset, offset + tile.length)||^2} in float64, using {@code lanes} as scratch. */
    static double squaredNorm(Tile tile, float[] v, int offset, double[] lanes) {
        Arrays.fill(lanes, 0.0);
        int length = tile.length;
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
        return sum(lanes);
    }

    @Override
    public boolean anyNonFinite(float[] v, int offset, int length) {
        float largest = 0f;
        for (int i = offset; i < offset + length; i++) {
            largest = Math.max(largest, Math.abs(v[i]));
        }
        return !(largest <= Float.MAX_VALUE);
    }

    @Override
    public void toKeys(float[] values, int[] keys, int count) {
        for (int x = 0; x < count; x++) {
            keys[x] = TileKernels.sortableKey(Float.floatToRawIntBits(values[x]));
        }
    }

    @Override
    public void fromKeys(int[] keys, float[] values, int count) {
        for (int x = 0; x < count; x++) {
            values[x] = Float.intBitsToFloat(TileKernels.sortableKey(keys[x]));
        }
    }

    @Override
    public void compareExchange(int[] keys, int[] low, int[] high, int width, int length) {
        for (int c = 0; c < low.length; c++) {
            int a = low[c] * width;
            int b = high[c] * width;
            for (int x = 0; x < length; x++) {
                int u = keys[a + x];
                int v = keys[b + x];
                keys[a + x] = Math.min(u, v);
                keys[b + x] = Math.max(u, v);
            }
        }
    }

    /** {@code ||a[aOffset ...] - b[bOffset ...]||^2} over the tile's length, in float64. */
    static double squaredDistance(Tile tile, float[] a, int aOffset, float[] b, int bOffset, double[] lanes) {
        Arrays.fill(lanes, 0.0);
        int length = tile.length;
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
        return sum(lanes);
    }

    private static double sum(double[] lanes) {
        double sum = 0;
        for (double lane : lanes) {
            sum += lane;
        }
        return sum;
    }
}
