package org.murmur.kernels.cpu;

import org.murmur.kernels.api.AggregationReport;
import org.murmur.kernels.api.Backend;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.Screening;
import org.murmur.kernels.api.UpdateBatch;

/**
 * The pure-Java backend: every rule over coordinate tiles of memory-mapped updates, in parallel
 * across cores, in O(threads x n x tile) heap whatever d is. It runs SIMD kernels when the JVM has
 * the vector module ({@code --add-modules jdk.incubator.vector}, as the launcher and the tests
 * pass it) and portable ones otherwise; the two agree bit for bit on the coordinate-wise rules. Coordinate-wise rules are
 * bit-identical for any tile width and thread count; whole-vector rules are bit-identical for any
 * thread count at a given tile width. Thread-safe; {@link #close} stops its worker threads.
 */
public final class CpuBackend implements Backend, AutoCloseable {
    /** Coordinates per tile: n rows of this many floats should sit in a core's L2 cache. */
    public static final int DEFAULT_TILE_COORDS = 4096;

    private final TileEngine engine;

    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors(), DEFAULT_TILE_COORDS);
    }

    /** The fastest kernels this JVM offers: SIMD when the vector module is present. */
    public CpuBackend(int threads, int tileCoords) {
        this(new TileEngine(threads, tileCoords, TileKernels.best()));
    }

    private CpuBackend(TileEngine engine) {
        this.engine = engine;
    }

    /** A backend on the portable kernels, which need nothing beyond Java 17. */
    public static CpuBackend portable(int threads, int tileCoords) {
        return new CpuBackend(new TileEngine(threads, tileCoords, new ScalarKernels()));
    }

    /** {@code simd} or {@code portable}: which kernels this backend runs. */
    public String kernels() {
        return engine.kernels() instanceof SimdKernels ? "simd" : "portable";
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public AggregationReport aggregate(RuleSpec rule, UpdateBatch batch, FloatVector out) {
        if (out.length() != batch.dimension()) {
            throw new IllegalArgumentException("output holds " + out.length() + " floats, the updates " + batch.dimension());
        }
        rule.requireFits(batch.size());
        if (rule instanceof RuleSpec.FedAvg fedAvg) {
            return CoordinateRules.fedAvg(engine, fedAvg, batch, out);
        } else if (rule instanceof RuleSpec.Median) {
            return CoordinateRules.median(engine, batch, out);
        } else if (rule instanceof RuleSpec.TrimmedMean trimmedMean) {
            return CoordinateRules.trimmedMean(engine, trimmedMean, batch, out);
        } else if (rule instanceof RuleSpec.Krum krum) {
            return KrumFamily.krum(engine, krum, batch, out);
        } else if (rule instanceof RuleSpec.MultiKrum multiKrum) {
            return KrumFamily.multiKrum(engine, multiKrum, batch, out);
        } else if (rule instanceof RuleSpec.Bulyan bulyan) {
            return KrumFamily.bulyan(engine, bulyan, batch, out);
        } else if (rule instanceof RuleSpec.GeoMedian geoMedian) {
            return WeiszfeldGeoMedian.run(engine, geoMedian, batch, out);
        } else if (rule instanceof RuleSpec.CenteredClip centeredClip) {
            return CenteredClipping.run(engine, centeredClip, batch, out);
        } else if (rule instanceof RuleSpec.NormClipMean normClipMean) {
            return NormClipMean.run(engine, normClipMean, batch, out);
        }
        throw new AssertionError("unhandled rule " + rule);
    }

    @Override
    public Screening screen(UpdateBatch batch, FloatVector candidate) {
        return Screen.run(engine, batch, candidate);
    }

    @Override
    public void denseLayer(float[] w, float[] b, int out, int in, float[] x, int rows, float[] y, boolean relu) {
        DenseLayer.run(w, b, out, in, x, rows, y, relu);
    }

    @Override
    public void close() {
        engine.close();
    }
}
