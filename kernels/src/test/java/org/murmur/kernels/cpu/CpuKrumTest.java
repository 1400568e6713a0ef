package org.murmur.kernels.cpu;

import org.murmur.kernels.KrumContract;
import org.murmur.kernels.api.Backend;

/** The KrumContract suite on the CPU backend. */
class CpuKrumTest extends KrumContract {
    @Override
    protected Backend backend(int threads, int tileCoords) {
        return new CpuBackend(threads, tileCoords);
    }
}
