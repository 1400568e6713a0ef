package org.murmur.kernels.cuda;

import org.junit.jupiter.api.BeforeEach;
import org.murmur.kernels.ScreeningContract;
import org.murmur.kernels.api.Backend;

/**
 * The ScreeningContract suite on the CUDA backend
 * (whose screening pass runs on the CPU for now); skipped,
 * with the reason, where CUDA cannot run.
 */
class CudaScreeningTest extends ScreeningContract {
    @BeforeEach
    void requireCuda() {
        CudaTesting.assumeCuda();
    }

    @Override
    protected Backend backend(int threads, int tileCoords) {
        return CudaTesting.backend(tileCoords);
    }
}
