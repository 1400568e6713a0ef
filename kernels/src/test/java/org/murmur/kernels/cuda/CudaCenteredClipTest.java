package org.murmur.kernels.cuda;

import org.junit.jupiter.api.BeforeEach;
import org.murmur.kernels.CenteredClipContract;
import org.murmur.kernels.api.Backend;

/**
 * The CenteredClipContract suite on the CUDA backend, which delegates this rule to the CPU backend for now;
 * skipped, with the reason, where CUDA cannot run.
 */
class CudaCenteredClipTest extends CenteredClipContract {
    @BeforeEach
    void requireCuda() {
        CudaTesting.assumeCuda();
    }

    @Override
    protected Backend backend(int threads, int tileCoords) {
        return CudaTesting.backend(tileCoords);
    }
}
