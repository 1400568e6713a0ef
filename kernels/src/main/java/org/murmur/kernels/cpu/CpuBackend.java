package org.murmur.kernels.cpu;

import org.murmur.kernels.api.AggregationReport;
import org.murmur.kernels.api.Backend;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.UpdateBatch;

/** The pure-Java backend (being written). */
public final class CpuBackend implements Backend {
    public static final int DEFAULT_TILE_COORDS = 4096;

    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors(), DEFAULT_TILE_COORDS);
    }

    public CpuBackend(int threads, int tileCoords) {
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public AggregationReport aggregate(RuleSpec rule, UpdateBatch batch, FloatVector out) {
        throw new UnsupportedOperationException("not yet");
    }
}
