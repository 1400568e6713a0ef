package org.murmur.kernels.cpu;

import org.murmur.kernels.MultiKrumContract;
import org.murmur.kernels.api.Backend;

/** The MultiKrumContract suite on the CPU backend. */
class CpuMultiKrumTest extends MultiKrumContract {
    @Override
    protected Backend backend(int threads, int tileCoords) {
        return new CpuBackend(threads, tileCoords);
    }
}
