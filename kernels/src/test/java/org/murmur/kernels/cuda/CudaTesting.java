package org.murmur.kernels.cuda;

import org.junit.jupiter.api.Assumptions;
import org.murmur.kernels.api.Backend;

/** What the CUDA contract suites share: the skip where CUDA cannot run, and their backend. */
final class CudaTesting {
    /** Staging slots of 1 MiB: every suite's batches fit, and a dozen backends stay small. */
    private static final int SLOT_BYTES = 1 << 20;
    private static final int SLOTS = 3;
    private static final long DEVICE_BUDGET_BYTES = 64L << 20;

    private CudaTesting() {
    }

    /** Skips the calling suite, saying why, unless CUDA can run here. */
    static void assumeCuda() {
        Assumptions.assumeTrue(CudaProbe.available(), () -> "the CUDA suites run where a GPU is; here " + CudaProbe.description());
    }

    /** A CUDA backend with tiles of {@code tileCoords} coordinates (the device has no thread count). */
    static Backend backend(int tileCoords) {
        return CudaBackend.open(new CudaSettings(tileCoords, SLOT_BYTES, SLOTS, DEVICE_BUDGET_BYTES));
    }
}
