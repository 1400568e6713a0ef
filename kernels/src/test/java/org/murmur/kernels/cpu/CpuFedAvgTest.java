package org.murmur.kernels.cpu;

import org.murmur.kernels.FedAvgContract;
import org.murmur.kernels.api.Backend;

/** The FedAvgContract suite on the CPU backend. */
class CpuFedAvgTest extends FedAvgContract {
    @Override
    protected Backend backend(int threads, int tileCoords) {
        return new CpuBackend(threads, tileCoords);
    }
}
