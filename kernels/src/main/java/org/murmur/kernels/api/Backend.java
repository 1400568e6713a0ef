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

    /** Releases threads and device memory; the backend is unusable afterwards. */
    @Override
    void close();
}
