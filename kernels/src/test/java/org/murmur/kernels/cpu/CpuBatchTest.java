package org.murmur.kernels.cpu;

import org.murmur.kernels.BatchContract;
import org.murmur.kernels.api.Backend;

/** The BatchContract suite on the CPU backend. */
class CpuBatchTest extends BatchContract {
    @Override
    protected Backend backend(int threads, int tileCoords) {
        return new CpuBackend(threads, tileCoords);
    }
}
