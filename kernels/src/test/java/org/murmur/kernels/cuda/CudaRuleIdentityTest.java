package org.murmur.kernels.cuda;

import org.junit.jupiter.api.BeforeEach;
import org.murmur.kernels.RuleIdentityContract;
import org.murmur.kernels.api.Backend;

/** The RuleIdentityContract suite on the CUDA backend; skipped, with the reason, where CUDA cannot run. */
class CudaRuleIdentityTest extends RuleIdentityContract {
    @BeforeEach
    void requireCuda() {
        CudaTesting.assumeCuda();
    }

    @Override
    protected Backend backend(int threads, int tileCoords) {
        return CudaTesting.backend(tileCoords);
    }
}
