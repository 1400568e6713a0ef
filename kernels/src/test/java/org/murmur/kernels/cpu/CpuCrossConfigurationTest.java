package org.murmur.kernels.cpu;

import org.murmur.kernels.CrossConfigurationContract;
import org.murmur.kernels.api.Backend;

/** The CrossConfigurationContract suite on the CPU backend. */
class CpuCrossConfigurationTest extends CrossConfigurationContract {
    @Override
    protected Backend backend(int threads, int tileCoords) {
        return new CpuBackend(threads, tileCoords);
    }
}
