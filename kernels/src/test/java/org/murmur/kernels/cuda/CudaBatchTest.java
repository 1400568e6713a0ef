package org.murmur.kernels.cuda;

import org.junit.jupiter.api.BeforeEach;
import org.murmur.kernels.BatchContract;
import org.murmur.kernels.api.Backend;

/** The BatchContract suite on the CUDA backend; skipped, with the reason, where CUDA cannot run. */
class CudaBatchTest extends BatchContract {
    @BeforeEach
    void requireCuda() {
        CudaTesting.assumeCuda();
    }

    @Override
    protected Backend backend(int threads, int tileCoords) {
        return CudaTesting.backend(tileCoords);
    }
}
