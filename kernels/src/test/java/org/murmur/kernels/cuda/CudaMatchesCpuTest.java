package org.murmur.kernels.cuda;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.murmur.kernels.api.Backend;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.cpu.CpuBackend;
import org.murmur.kernels.testing.Batches.Dtypes;
import org.murmur.kernels.testing.Batches.Layout;
import org.murmur.kernels.testing.Batches;
import org.murmur.kernels.testing.RandomUpdates;
import org.murmur.kernels.testing.SeedReporter;
import org.murmur.kernels.testing.SeededRandom;
import org.murmur.kernels.testing.Tolerances;

/**
 * The CUDA backend's documented bit-identity with the CPU backend: fedavg (weighted or not) and
 * the median sum in float64 in the same order with no fused multiply-add, so both backends give
 * the same bits, on either side of the largest sorting network. Skipped where CUDA cannot run.
 */
@ExtendWith(SeedReporter.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CudaMatchesCpuTest {
    private Backend cuda;
    private Backend cpu;

    @BeforeAll
    void open() {
        cpu = new CpuBackend();
        if (CudaProbe.available()) {
            cuda = CudaTesting.backend(CudaSettings.DEFAULT_TILE_COORDS);
        }
    }

    @AfterAll
    void close() {
        cpu.close();
        if (cuda != null) {
            cuda.close();
        }
    }

    @BeforeEach
    void requireCuda() {
        CudaTesting.assumeCuda();
    }

    @ParameterizedTest(name = "n = {0}")
    @ValueSource(ints = {1, 2, 5, 37, 64, 65, 150})
    void fedavgAndTheMedianGiveTheCpuBits(int n) {
        SeededRandom random = SeededRandom.forCase("cuda vs cpu n=" + n);
        int d = 3001;
        Layout layout = Layout.multi(d, random);
        Batches.Built built = Batches.builder(RandomUpdates.draw(random, n, d, n / 5), layout).dtypes(Dtypes.mixed())
                .chunkElements(257).build();
        double[] weights = new double[n];
        for (int i = 0; i < n; i++) {
            weights[i] = random.uniform(0, 3);
        }
        for (RuleSpec rule : List.of(new RuleSpec.FedAvg(null), new RuleSpec.FedAvg(weights), new RuleSpec.Median())) {
            Tolerances.assertBitIdentical(rule + " cuda vs cpu " + random.where(), run(cpu, rule, built), run(cuda, rule, built));
        }
    }

    private static float[] run(Backend backend, RuleSpec rule, Batches.Built built) {
        FloatVector out = FloatVector.allocate(built.batch().dimension());
        backend.aggregate(rule, built.batch(), out);
        float[] values = new float[(int) out.length()];
        out.get(0, values, 0, values.length);
        return values;
    }
}
