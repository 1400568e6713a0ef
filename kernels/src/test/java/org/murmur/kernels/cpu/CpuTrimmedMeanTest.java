package org.murmur.kernels.cpu;

import org.murmur.kernels.TrimmedMeanContract;
import org.murmur.kernels.api.Backend;

/** The TrimmedMeanContract suite on the CPU backend. */
class CpuTrimmedMeanTest extends TrimmedMeanContract {
    @Override
    protected Backend backend(int threads, int tileCoords) {
        return new CpuBackend(threads, tileCoords);
    }
}
