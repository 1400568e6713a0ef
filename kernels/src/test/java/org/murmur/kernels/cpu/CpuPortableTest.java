package org.murmur.kernels.cpu;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
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
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.testing.Batches;
import org.murmur.kernels.testing.Batches.Built;
import org.murmur.kernels.testing.Batches.Dtypes;
import org.murmur.kernels.testing.RandomUpdates;
import org.murmur.kernels.testing.SeedReporter;
import org.murmur.kernels.testing.SeededRandom;
import org.murmur.kernels.testing.Tolerances;

/**
 * Every contract suite on the CPU backend's portable kernels (what runs where the JVM lacks the
 * vector module), and the coordinate-wise rules bit-identical between portable and SIMD kernels.
 */
@ExtendWith(SeedReporter.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CpuPortableTest {

    @Test
    void coordinateWiseRulesAreBitIdenticalOnPortableAndSimdKernels() {
        SeededRandom random = SeededRandom.forCase("portable vs best kernels");
        double[] weights = {0.5, 1, 2, 0, 1, 3, 1, 1, 0.25};
        try (CpuBackend best = new CpuBackend(2, 64); CpuBackend portable = CpuBackend.portable(3, 7)) {
            for (int d : new int[] {1, 33, 1003}) {
                Batches.Layout layout = Batches.Layout.multi(d, random);
                Built built = Batches.builder(RandomUpdates.draw(random, 9, d, 2), layout).dtypes(Dtypes.mixed())
                        .chunkElements(5).build();
                for (RuleSpec rule : new RuleSpec[] {new RuleSpec.FedAvg(null), new RuleSpec.FedAvg(weights),
                        new RuleSpec.Median(), new RuleSpec.TrimmedMean(2)}) {
                    FloatVector a = FloatVector.allocate(d);
                    FloatVector b = FloatVector.allocate(d);
                    best.aggregate(rule, built.batch(), a);
                    portable.aggregate(rule, built.batch(), b);
                    float[] x = new float[d];
                    float[] y = new float[d];
                    a.get(0, x, 0, d);
                    b.get(0, y, 0, d);
                    Tolerances.assertBitIdentical(rule + " " + best.kernels() + " vs portable, d=" + d + " " + random.where(), x, y);
                }
            }
        }
    }

    private static Backend portable(int threads, int tileCoords) {
        return CpuBackend.portable(threads, tileCoords);
    }

    @Nested
    class FedAvg extends FedAvgContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return portable(threads, tileCoords);
        }
    }

    @Nested
    class Median extends MedianContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return portable(threads, tileCoords);
        }
    }

    @Nested
    class TrimmedMean extends TrimmedMeanContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return portable(threads, tileCoords);
        }
    }

    @Nested
    class Krum extends KrumContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return portable(threads, tileCoords);
        }
    }

    @Nested
    class MultiKrum extends MultiKrumContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return portable(threads, tileCoords);
        }
    }

    @Nested
    class Bulyan extends BulyanContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return portable(threads, tileCoords);
        }
    }

    @Nested
    class GeoMedian extends GeoMedianContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return portable(threads, tileCoords);
        }
    }

    @Nested
    class CenteredClip extends CenteredClipContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return portable(threads, tileCoords);
        }
    }

    @Nested
    class NormClipMean extends NormClipMeanContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return portable(threads, tileCoords);
        }
    }

    @Nested
    class Batch extends BatchContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return portable(threads, tileCoords);
        }
    }

    @Nested
    class CrossConfiguration extends CrossConfigurationContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return portable(threads, tileCoords);
        }
    }

    @Nested
    class RuleIdentity extends RuleIdentityContract {
        @Override
        protected Backend backend(int threads, int tileCoords) {
            return portable(threads, tileCoords);
        }
    }
}
