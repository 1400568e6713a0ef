package org.murmur.kernels.cpu;

import org.murmur.kernels.CenteredClipContract;
import org.murmur.kernels.api.Backend;

/** The CenteredClipContract suite on the CPU backend. */
class CpuCenteredClipTest extends CenteredClipContract {
    @Override
    protected Backend backend(int threads, int tileCoords) {
        return new CpuBackend(threads, tileCoords);
    }
}
