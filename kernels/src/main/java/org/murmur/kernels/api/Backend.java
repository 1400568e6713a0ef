package org.murmur.kernels.api;

/**
 * A place where the rules run: the CPU (always present) or a CUDA device. Every backend computes
 * every rule of spec/aggregation-rules.md within its tolerances, and the coordinate-wise rules
 * bit-identically whatever its tile size and thread count. Implementations are thread-safe.
 */
public interface Backend extends AutoCloseable {

    /** The backend's name: {@code cpu} or {@code cuda}. */
    String name();

    /**
     * Aggregates {@code batch} by {@code rule} into {@code out}, whose length must be the batch's
     * dimension. Throws {@link InvalidInputException} for a batch or parameters the rule refuses
     * (before writing anything where the refusal does not depend on the values).
     */
    AggregationReport aggregate(RuleSpec rule, UpdateBatch batch, FloatVector out);

    /**
     * How each update of {@code batch} relates to {@code candidate} (usually their aggregate), whose
     * length must be the batch's dimension: norms, cosine similarities and distances.
     */
    Screening screen(UpdateBatch batch, FloatVector candidate);

    /**
     * One dense layer over a batch of rows: {@code y[r][o] = act(b[o] + sum_i w[o][i] * x[r][i])}
     * for every row r and output o, with {@code w} row-major [out][in], {@code x} row-major
     * [rows][in], {@code y} row-major [rows][out], and act ReLU when {@code relu}, else identity.
     * Products are summed in float64 (a classifier's logits do not depend on the summation order
     * beyond the last bits). The building block of server-side evaluation.
     */
    void denseLayer(float[] w, float[] b, int out, int in, float[] x, int rows, float[] y, boolean relu);

    /** Releases threads and device memory; the backend is unusable afterwards. */
    @Override
    void close();
}
