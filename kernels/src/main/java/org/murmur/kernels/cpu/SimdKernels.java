package org.murmur.kernels.cpu;

import java.util.Arrays;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Tile arithmetic on explicit SIMD vectors (the JDK's incubating vector module, present when the
 * JVM runs with {@code --add-modules jdk.incubator.vector}). Row sums convert floats to doubles and
 * use the same operations in the same order as {@link ScalarKernels}, so coordinate-wise results
 * are bit-identical to it. Distances and norms accumulate float32 products in registers over
 * blocks of {@value #BLOCK} coordinates and add the blocks in float64: the spec's tolerances
 * allow float32 arithmetic, and this is what makes the Krum family as fast as a BLAS Gram matrix.
 */
final class SimdKernels implements TileKernels {
    /** True when the vector module is in the boot layer, so this class can load. */
    static final boolean AVAILABLE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    /**
     * Coordinates per float32 partial sum (64 terms per lane at 16 lanes). Widening to float64 is
     * slow, so it happens once a block; the lane sums stay within about 1e-6 relative.
     */
    private static final int BLOCK = 1024;
    /** Pairs of rows handled together, so each load of row i feeds four distances. */
    private static final int PAIRS = 4;

    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
    /** Floats with as many lanes as {@link #DOUBLES}, for the widening conversion. */
    private static final VectorSpecies<Float> HALF_FLOATS =
            VectorSpecies.of(float.class, VectorShape.forBitSize(Math.max(64, DOUBLES.vectorBitSize() / 2)));

    /** Double vectors one float vector widens into. */
    private static final int WIDENING_PARTS = FLOATS.length() / DOUBLES.length();

    private SimdKernels() {
    }

    static TileKernels create() {
        boolean shapesFit = HALF_FLOATS.length() == DOUBLES.length() && FLOATS.length() % DOUBLES.length() == 0
                && ScalarKernels.LANES >= DOUBLES.length();
        return shapesFit ? new SimdKernels() : new ScalarKernels();
    }

    @Override
    public void weightedSum(Tile tile, int firstRow, int rowCount, double[] coeffs, double divisor, float[] dst) {
        int length = tile.length;
        double[] acc = tile.doubles(length);
        Arrays.fill(acc, 0, length, 0.0);
        float[] values = tile.values;
        int step = DOUBLES.length();
        int bulk = length - length % step;
        for (int r = firstRow; r < firstRow + rowCount; r++) {
            double c = coeffs[r];
            int base = tile.row(r);
            int x = 0;
            for (; x < bulk; x += step) {
                DoubleVector v = (DoubleVector) FloatVector.fromArray(HALF_FLOATS, values, base + x)
                        .convertShape(VectorOperators.F2D, DOUBLES, 0);
                DoubleVector.fromArray(DOUBLES, acc, x).add(v.mul(c)).intoArray(acc, x);
            }
            for (; x < length; x++) {
                acc[x] += c * values[base + x];
            }
        }
        int x = 0;
        for (; x < bulk; x += step) {
            ((FloatVector) DoubleVector.fromArray(DOUBLES, acc, x).div(divisor)
                    .convertShape(VectorOperators.D2F, HALF_FLOATS, 0)).intoArray(dst, x);
        }
        for (; x < length; x++) {
            dst[x] = (float) (acc[x] / divisor);
        }
    }

    @Override
    public void addPairDistances(Tile tile, double[] dist) {
        int rows = tile.rows;
        float[] v = tile.values;
        double[] sums = new double[PAIRS];
        for (int i = 0; i < rows; i++) {
            int j = i + 1;
            for (; j + PAIRS <= rows; j += PAIRS) {
                fourDistances(v, tile.row(i), tile.row(j), tile.width, tile.length, sums, tile.lanes);
                for (int p = 0; p < PAIRS; p++) {
                    dist[i * rows + j + p] += checked(sums[p], tile, v, tile.row(i), v, tile.row(j + p));
                }
            }
            for (; j < rows; j++) {
                double sum = distance(v, tile.row(i), v, tile.row(j), tile.length, tile.lanes);
                dist[i * rows + j] += checked(sum, tile, v, tile.row(i), v, tile.row(j));
            }
        }
    }

    @Override
    public void addDistancesTo(Tile tile, float[] point, double[] dist) {
        for (int r = 0; r < tile.rows; r++) {
            double sum = distance(tile.values, tile.row(r), point, 0, tile.length, tile.lanes);
            dist[r] += checked(sum, tile, tile.values, tile.row(r), point, 0);
        }
    }

    @Override
    public double squaredNorm(Tile tile, float[] v, int offset) {
        int length = tile.length;
        int step = FLOATS.length();
        DoubleVector total = DoubleVector.zero(DOUBLES);
        float tail = 0f;
        for (int block = 0; block < length; block += BLOCK) {
            int end = Math.min(length, block + BLOCK);
            FloatVector acc = FloatVector.zero(FLOATS);
            int x = block;
            for (; x + step <= end; x += step) {
                FloatVector e = FloatVector.fromArray(FLOATS, v, offset + x);
                acc = e.fma(e, acc);
            }
            for (; x < end; x++) {
                tail = Math.fma(v[offset + x], v[offset + x], tail);
            }
            total = widenAdd(total, acc);
        }
        double sum = laneSum(total, tile.lanes) + tail;
        return trustworthy(sum) ? sum : ScalarKernels.squaredNorm(tile, v, offset, tile.lanes);
    }

    @Override
    public boolean anyNonFinite(float[] v, int offset, int length) {
        int step = FLOATS.length();
        IntVector exponents = IntVector.zero(INTS);
        int x = 0;
        for (; x + step <= length; x += step) {
            IntVector bits = FloatVector.fromArray(FLOATS, v, offset + x).reinterpretAsInts();
            exponents = exponents.max(bits.lanewise(VectorOperators.AND, 0x7f800000));
        }
        int largest = exponents.reduceLanes(VectorOperators.MAX);
        for (; x < length; x++) {
            largest = Math.max(largest, Float.floatToRawIntBits(v[offset + x]) & 0x7f800000);
        }
        return largest == 0x7f800000;
    }

    @Override
    public void toKeys(float[] values, int[] keys, int count) {
        int step = FLOATS.length();
        int x = 0;
        for (; x + step <= count; x += step) {
            IntVector bits = FloatVector.fromArray(FLOATS, values, x).reinterpretAsInts();
            sortable(bits).intoArray(keys, x);
        }
        for (; x < count; x++) {
            keys[x] = TileKernels.sortableKey(Float.floatToRawIntBits(values[x]));
        }
    }

    @Override
    public void fromKeys(int[] keys, float[] values, int count) {
        int step = INTS.length();
        int x = 0;
        for (; x + step <= count; x += step) {
            sortable(IntVector.fromArray(INTS, keys, x)).reinterpretAsFloats().intoArray(values, x);
        }
        for (; x < count; x++) {
            values[x] = Float.intBitsToFloat(TileKernels.sortableKey(keys[x]));
        }
    }

    @Override
    public void compareExchange(int[] keys, int a, int b, int length) {
        int step = INTS.length();
        int x = 0;
        for (; x + step <= length; x += step) {
            IntVector u = IntVector.fromArray(INTS, keys, a + x);
            IntVector w = IntVector.fromArray(INTS, keys, b + x);
            u.min(w).intoArray(keys, a + x);
            u.max(w).intoArray(keys, b + x);
        }
        for (; x < length; x++) {
            int u = keys[a + x];
            int w = keys[b + x];
            keys[a + x] = Math.min(u, w);
            keys[b + x] = Math.max(u, w);
        }
    }

    private static IntVector sortable(IntVector bits) {
        return bits.lanewise(VectorOperators.XOR,
                bits.lanewise(VectorOperators.ASHR, 31).lanewise(VectorOperators.AND, 0x7fffffff));
    }

    /**
     * A float32-accumulated sum of squares is exact enough unless a square overflowed (a hostile
     * update of huge values) or underflowed wholesale (values near 1e-19 and below); outside
     * that range the sum is redone in float64.
     */
    private static boolean trustworthy(double sumOfSquares) {
        return sumOfSquares >= 1e-25 && sumOfSquares <= 1e30;
    }

    private static double checked(double sum, Tile tile, float[] a, int aOffset, float[] b, int bOffset) {
        return trustworthy(sum) ? sum : ScalarKernels.squaredDistance(tile, a, aOffset, b, bOffset, tile.lanes);
    }

    /** {@code ||a[aOffset ...] - b[bOffset ...]||^2} over {@code length} coordinates. */
    private static double distance(float[] a, int aOffset, float[] b, int bOffset, int length, double[] scratch) {
        int step = FLOATS.length();
        DoubleVector total = DoubleVector.zero(DOUBLES);
        float tail = 0f;
        for (int block = 0; block < length; block += BLOCK) {
            int end = Math.min(length, block + BLOCK);
            FloatVector acc = FloatVector.zero(FLOATS);
            int x = block;
            for (; x + step <= end; x += step) {
                FloatVector d = FloatVector.fromArray(FLOATS, a, aOffset + x).sub(FloatVector.fromArray(FLOATS, b, bOffset + x));
                acc = d.fma(d, acc);
            }
            for (; x < end; x++) {
                float d = a[aOffset + x] - b[bOffset + x];
                tail = Math.fma(d, d, tail);
            }
            total = widenAdd(total, acc);
        }
        return laneSum(total, scratch) + tail;
    }

    /** The squared distances from row i to rows j, j+1, j+2, j+3 (rows {@code width} apart). */
    private static void fourDistances(float[] v, int i, int j, int width, int length, double[] sums, double[] scratch) {
        int step = FLOATS.length();
        DoubleVector s0 = DoubleVector.zero(DOUBLES);
        DoubleVector s1 = s0;
        DoubleVector s2 = s0;
        DoubleVector s3 = s0;
        float t0 = 0f;
        float t1 = 0f;
        float t2 = 0f;
        float t3 = 0f;
        for (int block = 0; block < length; block += BLOCK) {
            int end = Math.min(length, block + BLOCK);
            FloatVector c0 = FloatVector.zero(FLOATS);
            FloatVector c1 = c0;
            FloatVector c2 = c0;
            FloatVector c3 = c0;
            int x = block;
            for (; x + step <= end; x += step) {
                FloatVector a = FloatVector.fromArray(FLOATS, v, i + x);
                FloatVector d0 = a.sub(FloatVector.fromArray(FLOATS, v, j + x));
                FloatVector d1 = a.sub(FloatVector.fromArray(FLOATS, v, j + width + x));
                FloatVector d2 = a.sub(FloatVector.fromArray(FLOATS, v, j + 2 * width + x));
                FloatVector d3 = a.sub(FloatVector.fromArray(FLOATS, v, j + 3 * width + x));
                c0 = d0.fma(d0, c0);
                c1 = d1.fma(d1, c1);
                c2 = d2.fma(d2, c2);
                c3 = d3.fma(d3, c3);
            }
            for (; x < end; x++) {
                float a = v[i + x];
                float d0 = a - v[j + x];
                float d1 = a - v[j + width + x];
                float d2 = a - v[j + 2 * width + x];
                float d3 = a - v[j + 3 * width + x];
                t0 = Math.fma(d0, d0, t0);
                t1 = Math.fma(d1, d1, t1);
                t2 = Math.fma(d2, d2, t2);
                t3 = Math.fma(d3, d3, t3);
            }
            s0 = widenAdd(s0, c0);
            s1 = widenAdd(s1, c1);
            s2 = widenAdd(s2, c2);
            s3 = widenAdd(s3, c3);
        }
        sums[0] = laneSum(s0, scratch) + t0;
        sums[1] = laneSum(s1, scratch) + t1;
        sums[2] = laneSum(s2, scratch) + t2;
        sums[3] = laneSum(s3, scratch) + t3;
    }

    /** Adds every float lane of {@code block} to the double lanes of {@code total}, lane-wise. */
    private static DoubleVector widenAdd(DoubleVector total, FloatVector block) {
        for (int part = 0; part < WIDENING_PARTS; part++) {
            total = total.add((DoubleVector) block.convertShape(VectorOperators.F2D, DOUBLES, part));
        }
        return total;
    }

    /**
     * Sums the lanes in lane order. {@code reduceLanes(ADD)} may associate differently in
     * interpreted and compiled code, which would make results depend on timing.
     */
    private static double laneSum(DoubleVector v, double[] scratch) {
        v.intoArray(scratch, 0);
        double sum = 0;
        for (int l = 0; l < DOUBLES.length(); l++) {
            sum += scratch[l];
        }
        return sum;
    }
}
