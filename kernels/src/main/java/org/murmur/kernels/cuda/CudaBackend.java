package org.murmur.kernels.cuda;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.murmur.kernels.api.AggregationReport;
import org.murmur.kernels.api.Backend;
import org.murmur.kernels.api.BackendUnavailableException;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.Screening;
import org.murmur.kernels.api.UpdateBatch;
import org.murmur.kernels.cpu.CpuBackend;
import org.murmur.kernels.cpu.KrumSelection;
import org.murmur.kernels.cuda.CudaDriver.DeviceMemory;

/**
 * The rules on device 0, tile by tile through a pinned staging ring ({@link TilePipeline}):
 * <ul>
 * <li>fedavg and the mean: one pass of {@code murmur_weighted_mean};
 * <li>median and trimmed_mean: one pass of a rank-window kernel, a sorting network in registers
 *     for n up to 64 and radix selection above;
 * <li>krum and multikrum: a pass of {@code murmur_pair_distances} (each unordered pair once), the
 *     selection on the host ({@link KrumSelection}), then a host copy of krum's winner or a
 *     weighted-mean pass over multikrum's chosen updates;
 * <li>norm_clip_mean: a pass of {@code murmur_squared_norms}, then a weighted-mean pass.
 * </ul>
 * bulyan, geomedian and centered_clip have no kernels yet: each such call is delegated to a
 * {@link CpuBackend}, so this backend computes every rule; so are the screening pass and the dense
 * layers of server-side evaluation.
 *
 * <p>Sums over updates run in float64 in update order with no fused multiply-add, exactly as the
 * CPU backend's, so fedavg, the median and multikrum give the CPU's bits; trimmed_mean sums its
 * window in rank order and norms and distances are float64 tree sums, all within the spec's
 * tolerances. Every result is bit-identical from run to run for given {@link CudaSettings}.
 * Thread-safe: device work is serialized, one pass at a time.
 */
public final class CudaBackend implements Backend {
    private final CudaSettings settings;
    private final CudaDriver driver;
    private final CudaKernels kernels;
    private final TilePipeline pipeline;
    private final CpuBackend cpu;

    private CudaBackend(CudaSettings settings, CudaDriver driver) {
        this.settings = settings;
        this.driver = driver;
        this.kernels = new CudaKernels(driver);
        this.pipeline = new TilePipeline(driver, settings);
        this.cpu = new CpuBackend();
    }

    /** A backend with {@link CudaSettings#defaults()}. */
    public static CudaBackend open() {
        return open(CudaSettings.defaults());
    }

    /**
     * Opens device 0 with {@code settings}; throws {@link BackendUnavailableException} with the
     * reason when CUDA cannot run here ({@link CudaProbe#description()}).
     */
    public static CudaBackend open(CudaSettings settings) {
        if (!CudaProbe.available()) {
            throw new BackendUnavailableException("the cuda backend cannot run here: " + CudaProbe.description());
        }
        CudaDriver driver = CudaDriver.open(CudaKernels.fatbin());
        try {
            return new CudaBackend(settings, driver);
        } catch (RuntimeException | Error e) {
            driver.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public Screening screen(UpdateBatch batch, FloatVector candidate) {
        return cpu.screen(batch, candidate);
    }

    @Override
    public void denseLayer(float[] w, float[] b, int out, int in, float[] x, int rows, float[] y, boolean relu) {
        cpu.denseLayer(w, b, out, in, x, rows, y, relu);
    }

    /** The device this backend runs on, in words. */
    public String device() {
        return driver.description();
    }

    @Override
    public AggregationReport aggregate(RuleSpec rule, UpdateBatch batch, FloatVector out) {
        if (out.length() != batch.dimension()) {
            throw new IllegalArgumentException("output holds " + out.length() + " floats, the updates " + batch.dimension());
        }
        rule.requireFits(batch.size());
        int n = batch.size();
        if (rule instanceof RuleSpec.FedAvg fedAvg) {
            double[] weights = new double[n];
            double total = 0;
            for (int i = 0; i < n; i++) {
                weights[i] = fedAvg.weight(i);
                total += weights[i];
            }
            weightedMean(batch, allRows(n), weights, total, out);
        } else if (rule instanceof RuleSpec.Median) {
            rankWindowMean(batch, (n - 1) / 2, n / 2 + 1, out);
        } else if (rule instanceof RuleSpec.TrimmedMean trimmedMean) {
            int k = trimmedMean.k();
            if (k == 0) {
                weightedMean(batch, allRows(n), ones(n), n, out);
            } else {
                rankWindowMean(batch, k, n - k, out);
            }
        } else if (rule instanceof RuleSpec.Krum krum) {
            double[] scores = KrumSelection.scores(pairDistances(batch), n, allRows(n), krum.f());
            int winner = KrumSelection.lowestScore(scores, allRows(n));
            copyUpdate(batch, winner, out);
            return new AggregationReport(new int[] {winner}, scores, 0);
        } else if (rule instanceof RuleSpec.MultiKrum multiKrum) {
            double[] scores = KrumSelection.scores(pairDistances(batch), n, allRows(n), multiKrum.f());
            int[] selected = KrumSelection.lowestScores(scores, multiKrum.m());
            int[] rows = selected.clone();
            Arrays.sort(rows);
            weightedMean(batch, rows, ones(rows.length), rows.length, out);
            return new AggregationReport(selected, scores, 0);
        } else if (rule instanceof RuleSpec.NormClipMean normClipMean) {
            double[] squaredNorms = squaredNorms(batch);
            double[] scales = new double[n];
            for (int i = 0; i < n; i++) {
                double norm = Math.sqrt(squaredNorms[i]);
                scales[i] = norm == 0 ? 1.0 : Math.min(1.0, normClipMean.c() / norm);
            }
            weightedMean(batch, allRows(n), scales, n, out);
        } else {
            return cpu.aggregate(rule, batch, out);
        }
        return AggregationReport.plain();
    }

    private synchronized void weightedMean(UpdateBatch batch, int[] rows, double[] coeffs, double divisor, FloatVector out) {
        driver.makeCurrent();
        try (DeviceMemory deviceCoeffs = driver.allocate(8L * rows.length)) {
            pipeline.upload(coeffs, deviceCoeffs);
            pipeline.pass(batch, rows, tile -> kernels.weightedMean(tile, deviceCoeffs, divisor), out);
        }
    }

    private synchronized void rankWindowMean(UpdateBatch batch, int lo, int hi, FloatVector out) {
        driver.makeCurrent();
        pipeline.pass(batch, allRows(batch.size()), tile -> kernels.rankWindowMean(tile, lo, hi), out);
    }

    /** Every squared norm, accumulated on the device over the tiles. */
    private synchronized double[] squaredNorms(UpdateBatch batch) {
        int n = batch.size();
        driver.makeCurrent();
        long scratchBytes = CudaKernels.normScratchBytes(n, pipeline.width(n));
        requireBudget(scratchBytes + 8L * n, "the squared norms of " + n + " updates");
        try (DeviceMemory scratch = driver.allocate(scratchBytes); DeviceMemory sums = driver.allocate(8L * n)) {
            pipeline.clear(sums);
            pipeline.pass(batch, allRows(n), tile -> kernels.squaredNorms(tile, scratch, sums), null);
            double[] result = new double[n];
            sums.read(result);
            return result;
        }
    }

    /** The full symmetric n x n matrix of squared distances, each pair computed once on the device. */
    private synchronized double[] pairDistances(UpdateBatch batch) {
        int n = batch.size();
        int pairs = CudaKernels.pairs(n);
        driver.makeCurrent();
        long scratchBytes = CudaKernels.pairScratchBytes(n, pipeline.width(n));
        requireBudget(scratchBytes + 8L * pairs, "the pairwise distances of " + n + " updates");
        double[] upper = new double[pairs];
        try (DeviceMemory scratch = driver.allocate(scratchBytes); DeviceMemory sums = driver.allocate(8L * pairs)) {
            pipeline.clear(sums);
            pipeline.pass(batch, allRows(n), tile -> kernels.pairDistances(tile, scratch, sums), null);
            sums.read(upper);
        }
        double[] distances = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                distances[i * n + j] = upper[CudaKernels.pairIndex(i, j, n)];
                distances[j * n + i] = distances[i * n + j];
            }
        }
        return distances;
    }

    private void requireBudget(long scratchBytes, String what) {
        long left = settings.deviceBudgetBytes() - settings.ringBytes();
        if (scratchBytes > left) {
            throw new IllegalStateException(what + " need " + scratchBytes + " bytes of device scratch, but deviceBudgetBytes leaves "
                    + left + " beside the staging ring; raise deviceBudgetBytes");
        }
    }

    /** Krum's result is the winning update itself: its values are copied, not recomputed. */
    private static void copyUpdate(UpdateBatch batch, int index, FloatVector out) {
        float[] block = new float[1 << 16];
        for (long from = 0; from < batch.dimension(); from += block.length) {
            int count = (int) Math.min(block.length, batch.dimension() - from);
            batch.decode(index, from, count, block, 0);
            out.put(from, block, 0, count);
        }
    }

    private static int[] allRows(int n) {
        return IntStream.range(0, n).toArray();
    }

    private static double[] ones(int n) {
        double[] ones = new double[n];
        Arrays.fill(ones, 1.0);
        return ones;
    }

    @Override
    public synchronized void close() {
        cpu.close();
        pipeline.close();
        driver.close();
    }
}
