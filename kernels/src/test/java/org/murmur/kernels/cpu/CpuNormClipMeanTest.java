package org.murmur.kernels.cpu;

import org.murmur.kernels.NormClipMeanContract;
import org.murmur.kernels.api.Backend;

/** The NormClipMeanContract suite on the CPU backend. */
class CpuNormClipMeanTest extends NormClipMeanContract {
    @Override
    protected Backend backend(int threads, int tileCoords) {
        return new CpuBackend(threads, tileCoords);
    }
}
