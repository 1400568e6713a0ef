package org.murmur.kernels.cpu;

/**
 * A coordinate tile of several updates as one worker sees it: row r holds coordinates
 * {@code [start, start + length)} of the r-th update read, at {@code values[r * width ...]}; the
 * row stride {@code width} is a little more than the tile's coordinates, because rows a power of
 * two apart would all compete for the same cache sets. The
 * scratch arrays belong to the worker and are reused from tile to tile.
 */
final class Tile {
    final float[] values;
    final int rows;
    final int width;
    long start;
    int length;
    /** Lane partial sums for the kernels' reductions. */
    final double[] lanes = new double[ScalarKernels.LANES];
    final TileKernels kernels;
    private double[] doubles = new double[0];
    private float[] floats = new float[0];
    private int[] keys = new int[0];

    /** Floats added to each row so that consecutive rows start in different cache sets. */
    private static final int ROW_PADDING = 16;

    Tile(int rows, int coordinates, TileKernels kernels) {
        this.kernels = kernels;
        this.rows = rows;
        this.width = coordinates + ROW_PADDING;
        this.values = new float[Math.multiplyExact(rows, width)];
    }

    /** Offset of row r in {@link #values}. */
    int row(int r) {
        return r * width;
    }

    /** A worker-owned double scratch of at least {@code size} elements, contents undefined. */
    double[] doubles(int size) {
        if (doubles.length < size) {
            doubles = new double[size];
        }
        return doubles;
    }

    /** A worker-owned int scratch of at least {@code size} elements, contents undefined. */
    int[] keys(int size) {
        if (keys.length < size) {
            keys = new int[size];
        }
        return keys;
    }

    /** A worker-owned float scratch of at least {@code size} elements, contents undefined. */
    float[] floats(int size) {
        if (floats.length < size) {
            floats = new float[size];
        }
        return floats;
    }
}
