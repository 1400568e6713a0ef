package org.murmur.kernels.cuda;

import org.junit.jupiter.api.BeforeEach;
import org.murmur.kernels.NormClipMeanContract;
import org.murmur.kernels.api.Backend;

/** The NormClipMeanContract suite on the CUDA backend; skipped, with the reason, where CUDA cannot run. */
class CudaNormClipMeanTest extends NormClipMeanContract {
    @BeforeEach
    void requireCuda() {
        CudaTesting.assumeCuda();
    }

    @Override
    protected Backend backend(int threads, int tileCoords) {
        return CudaTesting.backend(tileCoords);
    }
}
