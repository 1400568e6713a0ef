package org.murmur.kernels.testing;

import org.junit.jupiter.api.Nested;
import org.murmur.kernels.BatchContract;
import org.murmur.kernels.BulyanContract;
import org.murmur.kernels.CenteredClipContract;
import org.murmur.kernels.CrossConfigurationContract;
import org.murmur.kernels.FedAvgContract;
import org.murmur.kernels.GeoMedianContract;
import org.murmur.kernels.KrumContract;
import org.murmur.kernels.MedianContract;
import org.murmur.kernels.MultiKrumContract;
import org.murmur.kernels.NormClipMeanContract;
import org.murmur.kernels.RuleIdentityContract;
import org.murmur.kernels.TrimmedMeanContract;
import org.murmur.kernels.api.Backend;

/**
 * Every contract suite against {@link ReferenceBackend}: the suites must accept the spec's own
 * definition, so a failure here is a bug in a suite or a generator, never in a backend.
 */
class ReferenceBackendTest {
    private static final Backend REFERENCE = new ReferenceBackend();

    @Nested
    class FedAvg extends FedAvgContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return REFERENCE;
        }
    }

    @Nested
    class Median extends MedianContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return REFERENCE;
        }
    }

    @Nested
    class TrimmedMean extends TrimmedMeanContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return REFERENCE;
        }
    }

    @Nested
    class Krum extends KrumContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return REFERENCE;
        }
    }

    @Nested
    class MultiKrum extends MultiKrumContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return REFERENCE;
        }
    }

    @Nested
    class Bulyan extends BulyanContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return REFERENCE;
        }
    }

    @Nested
    class GeoMedian extends GeoMedianContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return REFERENCE;
        }
    }

    @Nested
    class CenteredClip extends CenteredClipContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return REFERENCE;
        }
    }

    @Nested
    class NormClipMean extends NormClipMeanContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return REFERENCE;
        }
    }

    @Nested
    class Batch extends BatchContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return REFERENCE;
        }
    }

    @Nested
    class CrossConfiguration extends CrossConfigurationContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return REFERENCE;
        }
    }

    @Nested
    class RuleIdentity extends RuleIdentityContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return REFERENCE;
        }
    }
}
