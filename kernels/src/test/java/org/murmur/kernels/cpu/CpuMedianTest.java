package org.murmur.kernels.cpu;

import org.murmur.kernels.MedianContract;
import org.murmur.kernels.api.Backend;

/** The MedianContract suite on the CPU backend. */
class CpuMedianTest extends MedianContract {
    @Override
    protected Backend backend(int threads, int tileCoords) {
        return new CpuBackend(threads, tileCoords);
    }
}
