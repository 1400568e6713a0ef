package org.murmur.kernels.cpu;

import org.murmur.kernels.DenseLayerContract;
import org.murmur.kernels.api.Backend;

/** The DenseLayerContract suite on the CPU backend. */
class CpuDenseLayerTest extends DenseLayerContract {
    @Override
    protected Backend backend(int threads, int tileCoords) {
        return new CpuBackend(threads, tileCoords);
    }
}
