package org.murmur.kernels.cpu;

import org.murmur.kernels.RuleIdentityContract;
import org.murmur.kernels.api.Backend;

/** The RuleIdentityContract suite on the CPU backend. */
class CpuRuleIdentityTest extends RuleIdentityContract {
    @Override
    protected Backend backend(int threads, int tileCoords) {
        return new CpuBackend(threads, tileCoords);
    }
}
