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
 * JVM runs with {@code --add-modules jdk.incubator.vector}; without it this class cannot load, so
 * only {@link TileKernels#best} touches it, after checking). Row sums convert floats to doubles and
 * use the same operations in the same order as {@link ScalarKernels}, so coordinate-wise results
 * are bit-identical to it. Distances and norms accumulate float32 products in registers over
 * blocks of {@value #BLOCK} coordinates and add the blocks in float64: the spec's tolerances
 * allow float32 arithmetic, and this is what makes the Krum family as fast as a BLAS Gram matrix.
 */
final class SimdKernels implements TileKernels {
    /**
     * Coordinates per float32 partial sum (64 terms per lane at 16 lanes). Widening to float64 is
     * slow, so it happens once a block; the lane sums stay within about 1e-6 relative.
     */
    private static final int BLOCK = 1024;
    /** Rows per side of a block of pairs: 4 x 4 pairs share 8 row loads. */
    private static final int QUAD = 4;

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
    public double[] rowSums(Tile tile, int firstRow, int rowCount, double[] coeffs) {
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
        return acc;
    }

    @Override
    public void weightedSum(Tile tile, int firstRow, int rowCount, double[] coeffs, double divisor, float[] dst) {
        double[] acc = rowSums(tile, firstRow, rowCount, coeffs);
        int length = tile.length;
        int step = DOUBLES.length();
        int bulk = length - length % step;
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
    public void addDistancesTo(Tile tile, double[] point, double[] dist) {
        int length = tile.length;
        int step = DOUBLES.length();
        int bulk = length - length % step;
        for (int r = 0; r < tile.rows; r++) {
            int base = tile.row(r);
            DoubleVector total = DoubleVector.zero(DOUBLES);
            int x = 0;
            for (; x < bulk; x += step) {
                DoubleVector d = ((DoubleVector) FloatVector.fromArray(HALF_FLOATS, tile.values, base + x)
                        .convertShape(VectorOperators.F2D, DOUBLES, 0)).sub(DoubleVector.fromArray(DOUBLES, point, x));
                total = d.fma(d, total);
            }
            double tail = 0;
            for (; x < length; x++) {
                double d = tile.values[base + x] - point[x];
                tail += d * d;
            }
            dist[r] += laneSum(total, tile.lanes) + tail;
        }
    }

    /**
     * Pairs of rows in 4 x 4 blocks: each step loads 8 row vectors and feeds 16 distances, so the
     * pass is bound by arithmetic rather than cache traffic. Every pair is still computed once.
     */
    @Override
    public void addPairDistances(Tile tile, double[] dist) {
        int rows = tile.rows;
        float[] v = tile.values;
        int blocked = rows - rows % QUAD;
        double[] sums = new double[QUAD * QUAD];
        double[] laneSums = new double[QUAD * QUAD * FLOATS.length()];
        for (int i = 0; i < blocked; i += QUAD) {
            for (int j = i + QUAD; j < blocked; j += QUAD) {
                sixteenDistances(v, tile.row(i), tile.row(j), tile.width, tile.length, laneSums, sums);
                for (int a = 0; a < QUAD; a++) {
                    for (int b = 0; b < QUAD; b++) {
                        dist[(i + a) * rows + j + b] += checked(sums[a * QUAD + b], tile, v, tile.row(i + a), v, tile.row(j + b));
                    }
                }
            }
        }
        for (int i = 0; i < rows; i++) {
            for (int j = i + 1; j < rows; j++) {
                boolean inBlocks = j < blocked && i / QUAD != j / QUAD;
                if (!inBlocks) {
                    double sum = distance(v, tile.row(i), v, tile.row(j), tile.length, tile.lanes);
                    dist[i * rows + j] += checked(sum, tile, v, tile.row(i), v, tile.row(j));
                }
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

    /**
     * Runs the network strip by strip: four vectors of coordinates at a time, so all rows of a
     * strip stay in the L1 cache while every comparator passes over them. Over whole rows the
     * network would be bound by L2 traffic, not by the min/max.
     */
    @Override
    public void compareExchange(int[] keys, int[] low, int[] high, int width, int length) {
        int step = INTS.length();
        int strip = 4 * step;
        int x = 0;
        for (; x + strip <= length; x += strip) {
            for (int c = 0; c < low.length; c++) {
                int a = low[c] * width + x;
                int b = high[c] * width + x;
                IntVector u0 = IntVector.fromArray(INTS, keys, a);
                IntVector u1 = IntVector.fromArray(INTS, keys, a + step);
                IntVector u2 = IntVector.fromArray(INTS, keys, a + 2 * step);
                IntVector u3 = IntVector.fromArray(INTS, keys, a + 3 * step);
                IntVector w0 = IntVector.fromArray(INTS, keys, b);
                IntVector w1 = IntVector.fromArray(INTS, keys, b + step);
                IntVector w2 = IntVector.fromArray(INTS, keys, b + 2 * step);
                IntVector w3 = IntVector.fromArray(INTS, keys, b + 3 * step);
                u0.min(w0).intoArray(keys, a);
                u1.min(w1).intoArray(keys, a + step);
                u2.min(w2).intoArray(keys, a + 2 * step);
                u3.min(w3).intoArray(keys, a + 3 * step);
                u0.max(w0).intoArray(keys, b);
                u1.max(w1).intoArray(keys, b + step);
                u2.max(w2).intoArray(keys, b + 2 * step);
                u3.max(w3).intoArray(keys, b + 3 * step);
            }
        }
        for (int c = 0; c < low.length; c++) {
            int a = low[c] * width;
            int b = high[c] * width;
            for (int y = x; y < length; y++) {
                int u = keys[a + y];
                int w = keys[b + y];
                keys[a + y] = Math.min(u, w);
                keys[b + y] = Math.max(u, w);
            }
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

    /**
     * The squared distances between rows i..i+3 and rows j..j+3 (rows {@code width} apart) into
     * {@code sums[a * 4 + b]}; {@code laneSums} is scratch for the per-lane float64 totals.
     */
    private static void sixteenDistances(float[] v, int i, int j, int width, int length, double[] laneSums, double[] sums) {
        int step = FLOATS.length();
        Arrays.fill(laneSums, 0.0);
        int bulk = length - length % step;
        for (int block = 0; block < bulk; block += BLOCK) {
            int end = Math.min(bulk, block + BLOCK);
            FloatVector c00 = FloatVector.zero(FLOATS);
            FloatVector c01 = c00;
            FloatVector c02 = c00;
            FloatVector c03 = c00;
            FloatVector c10 = c00;
            FloatVector c11 = c00;
            FloatVector c12 = c00;
            FloatVector c13 = c00;
            FloatVector c20 = c00;
            FloatVector c21 = c00;
            FloatVector c22 = c00;
            FloatVector c23 = c00;
            FloatVector c30 = c00;
            FloatVector c31 = c00;
            FloatVector c32 = c00;
            FloatVector c33 = c00;
            for (int x = block; x < end; x += step) {
                FloatVector a0 = FloatVector.fromArray(FLOATS, v, i + x);
                FloatVector a1 = FloatVector.fromArray(FLOATS, v, i + width + x);
                FloatVector a2 = FloatVector.fromArray(FLOATS, v, i + 2 * width + x);
                FloatVector a3 = FloatVector.fromArray(FLOATS, v, i + 3 * width + x);
                FloatVector b0 = FloatVector.fromArray(FLOATS, v, j + x);
                FloatVector b1 = FloatVector.fromArray(FLOATS, v, j + width + x);
                FloatVector b2 = FloatVector.fromArray(FLOATS, v, j + 2 * width + x);
                FloatVector b3 = FloatVector.fromArray(FLOATS, v, j + 3 * width + x);
                FloatVector d = a0.sub(b0);
                c00 = d.fma(d, c00);
                d = a0.sub(b1);
                c01 = d.fma(d, c01);
                d = a0.sub(b2);
                c02 = d.fma(d, c02);
                d = a0.sub(b3);
                c03 = d.fma(d, c03);
                d = a1.sub(b0);
                c10 = d.fma(d, c10);
                d = a1.sub(b1);
                c11 = d.fma(d, c11);
                d = a1.sub(b2);
                c12 = d.fma(d, c12);
                d = a1.sub(b3);
                c13 = d.fma(d, c13);
                d = a2.sub(b0);
                c20 = d.fma(d, c20);
                d = a2.sub(b1);
                c21 = d.fma(d, c21);
                d = a2.sub(b2);
                c22 = d.fma(d, c22);
                d = a2.sub(b3);
                c23 = d.fma(d, c23);
                d = a3.sub(b0);
                c30 = d.fma(d, c30);
                d = a3.sub(b1);
                c31 = d.fma(d, c31);
                d = a3.sub(b2);
                c32 = d.fma(d, c32);
                d = a3.sub(b3);
                c33 = d.fma(d, c33);
            }
            widenInto(laneSums, 0, c00);
            widenInto(laneSums, 1, c01);
            widenInto(laneSums, 2, c02);
            widenInto(laneSums, 3, c03);
            widenInto(laneSums, 4, c10);
            widenInto(laneSums, 5, c11);
            widenInto(laneSums, 6, c12);
            widenInto(laneSums, 7, c13);
            widenInto(laneSums, 8, c20);
            widenInto(laneSums, 9, c21);
            widenInto(laneSums, 10, c22);
            widenInto(laneSums, 11, c23);
            widenInto(laneSums, 12, c30);
            widenInto(laneSums, 13, c31);
            widenInto(laneSums, 14, c32);
            widenInto(laneSums, 15, c33);
        }
        for (int p = 0; p < QUAD * QUAD; p++) {
            double sum = 0;
            for (int l = 0; l < step; l++) {
                sum += laneSums[p * step + l];
            }
            float tail = 0f;
            int a = i + (p / QUAD) * width;
            int b = j + (p % QUAD) * width;
            for (int x = bulk; x < length; x++) {
                float d = v[a + x] - v[b + x];
                tail = Math.fma(d, d, tail);
            }
            sums[p] = sum + tail;
        }
    }

    /** Adds the float lanes of {@code block} to {@code laneSums[pair * lanes ...]} in float64. */
    private static void widenInto(double[] laneSums, int pair, FloatVector block) {
        for (int part = 0; part < WIDENING_PARTS; part++) {
            int at = pair * FLOATS.length() + part * DOUBLES.length();
            DoubleVector.fromArray(DOUBLES, laneSums, at)
                    .add((DoubleVector) block.convertShape(VectorOperators.F2D, DOUBLES, part))
                    .intoArray(laneSums, at);
        }
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
