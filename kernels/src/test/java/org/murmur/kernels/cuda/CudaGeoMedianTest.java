package org.murmur.kernels.cuda;

import org.junit.jupiter.api.BeforeEach;
import org.murmur.kernels.GeoMedianContract;
import org.murmur.kernels.api.Backend;

/**
 * The GeoMedianContract suite on the CUDA backend, which delegates this rule to the CPU backend for now;
 * skipped, with the reason, where CUDA cannot run.
 */
class CudaGeoMedianTest extends GeoMedianContract {
    @BeforeEach
    void requireCuda() {
        CudaTesting.assumeCuda();
    }

    @Override
    protected Backend backend(int threads, int tileCoords) {
        return CudaTesting.backend(tileCoords);
    }
}
