package org.murmur.kernels.cpu;

/**
 * The per-tile arithmetic the rules share. Sums over rows run in row order in float64, so the
 * coordinate-wise results of every implementation are bit-identical to each other and
 * independent of tiling; reductions over coordinates (distances, norms) may differ in the last
 * bits between implementations and tile widths, within the rules' tolerances.
 */
interface TileKernels {

    /**
     * {@code sum over rows r in [firstRow, firstRow + rowCount) of coeffs[r] * row_r[x]} for every
     * coordinate, accumulated in float64 in row order, in the tile's double scratch (returned).
     */
    double[] rowSums(Tile tile, int firstRow, int rowCount, double[] coeffs);

    /** {@link #rowSums} divided by {@code divisor} and rounded to float32 into {@code dst}. */
    void weightedSum(Tile tile, int firstRow, int rowCount, double[] coeffs, double divisor, float[] dst);

    /** Adds the squared distance between rows i < j to {@code dist[i * rows + j]}, once per pair. */
    void addPairDistances(Tile tile, double[] dist);

    /** Adds {@code ||row_r - point||^2} to {@code dist[r]} for every row. */
    void addDistancesTo(Tile tile, float[] point, double[] dist);

    /** Adds {@code ||row_r - point||^2} to {@code dist[r]}, for a float64 point, in float64. */
    void addDistancesTo(Tile tile, double[] point, double[] dist);

    /** {@code ||v[offset, offset + tile.length)||^2}. */
    double squaredNorm(Tile tile, float[] v, int offset);

    /** Whether any of {@code v[offset, offset + length)} is NaN or infinite. */
    boolean anyNonFinite(float[] v, int offset, int length);

    /** Maps floats to ints of the same order (for non-NaN values): see {@link #sortableKey}. */
    void toKeys(float[] values, int[] keys, int count);

    /** The inverse of {@link #toKeys}. */
    void fromKeys(int[] keys, float[] values, int count);

    /**
     * Runs the comparators {@code (low[c], high[c])} in order over rows of {@code width} keys,
     * coordinates {@code [0, length)}: the smaller key of each pair goes to row low[c].
     */
    void compareExchange(int[] keys, int[] low, int[] high, int width, int length);

    /** Float bits to an int of the same order; its own inverse. */
    static int sortableKey(int bits) {
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }

    /** The fastest implementation this JVM runs: SIMD where the vector module is present. */
    static TileKernels best() {
        boolean vectorModule = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        return vectorModule ? SimdKernels.create() : new ScalarKernels();
    }
}
