package org.murmur.kernels.cpu;

import org.murmur.kernels.BulyanContract;
import org.murmur.kernels.api.Backend;

/** The BulyanContract suite on the CPU backend. */
class CpuBulyanTest extends BulyanContract {
    @Override
    protected Backend backend(int threads, int tileCoords) {
        return new CpuBackend(threads, tileCoords);
    }
}
