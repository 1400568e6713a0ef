package org.murmur.kernels.cuda;

import org.junit.jupiter.api.BeforeEach;
import org.murmur.kernels.DenseLayerContract;
import org.murmur.kernels.api.Backend;

/**
 * The DenseLayerContract suite on the CUDA backend
 * (whose dense layers run on the CPU for now); skipped,
 * with the reason, where CUDA cannot run.
 */
class CudaDenseLayerTest extends DenseLayerContract {
    @BeforeEach
    void requireCuda() {
        CudaTesting.assumeCuda();
    }

    @Override
    protected Backend backend(int threads, int tileCoords) {
        return CudaTesting.backend(tileCoords);
    }
}
