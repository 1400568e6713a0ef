package org.murmur.kernels.cpu;

import org.murmur.kernels.ScreeningContract;
import org.murmur.kernels.api.Backend;

/** The ScreeningContract suite on the CPU backend. */
class CpuScreeningTest extends ScreeningContract {
    @Override
    protected Backend backend(int threads, int tileCoords) {
        return new CpuBackend(threads, tileCoords);
    }
}
