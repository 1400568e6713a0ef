package org.murmur.server.grpc;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.murmur.proto.v1.RefusalReason;

/**
 * The meters of the upload and download path. Tags have few values: a refusal reason, never a node
 * id, task or round (those go to the log line of each refusal).
 * <ul>
 *   <li>{@code murmur.ingest.refusals{reason}}: refused uploads and offset queries, by reason</li>
 *   <li>{@code murmur.ingest.updates}: updates admitted (complete, checked, durable)</li>
 *   <li>{@code murmur.ingest.models}: models stored by PutModel (complete, checked, durable)</li>
 *   <li>{@code murmur.ingest.bytes}: uploaded bytes (updates and models) received and written to the store</li>
 *   <li>{@code murmur.ingest.streams.active}: upload streams open now (past their header)</li>
 *   <li>{@code murmur.models.refusals{reason}}: refused downloads, by reason</li>
 *   <li>{@code murmur.models.bytes}: model bytes sent</li>
 * </ul>
 * Thread-safe.
 */
public final class GrpcMetrics {
    public static final String INGEST_REFUSALS = "murmur.ingest.refusals";
    public static final String INGEST_UPDATES = "murmur.ingest.updates";
    public static final String INGEST_MODELS = "murmur.ingest.models";
    public static final String INGEST_BYTES = "murmur.ingest.bytes";
    public static final String INGEST_STREAMS_ACTIVE = "murmur.ingest.streams.active";
    public static final String MODEL_REFUSALS = "murmur.models.refusals";
    public static final String MODEL_BYTES = "murmur.models.bytes";
    public static final String ROUND_REFUSALS = "murmur.rounds.refusals";

    private final MeterRegistry registry;
    private final Map<RefusalReason, Counter> ingestRefusals = new EnumMap<>(RefusalReason.class);
    private final Map<RefusalReason, Counter> modelRefusals = new EnumMap<>(RefusalReason.class);
    private final Map<RefusalReason, Counter> roundRefusals = new EnumMap<>(RefusalReason.class);
    private final Counter updates;
    private final Counter models;
    private final Counter ingestBytes;
    private final Counter modelBytes;
    private final AtomicInteger activeStreams = new AtomicInteger();

    public GrpcMetrics(MeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.updates = Counter.builder(INGEST_UPDATES)
                .description("Updates admitted: complete, checked and durable")
                .register(registry);
        this.models = Counter.builder(INGEST_MODELS)
                .description("Models stored by PutModel: complete, checked and durable")
                .register(registry);
        this.ingestBytes = Counter.builder(INGEST_BYTES).baseUnit("bytes")
                .description("Uploaded bytes (updates and models) received and written to the update store")
                .register(registry);
        this.modelBytes = Counter.builder(MODEL_BYTES).baseUnit("bytes")
                .description("Model bytes sent by PullModel")
                .register(registry);
        Gauge.builder(INGEST_STREAMS_ACTIVE, activeStreams, AtomicInteger::get)
                .description("Upload streams open past their header")
                .register(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }

    void ingestRefused(RefusalReason reason) {
        counter(ingestRefusals, INGEST_REFUSALS, "Refused uploads and upload-offset queries", reason).increment();
    }

    void modelRefused(RefusalReason reason) {
        counter(modelRefusals, MODEL_REFUSALS, "Refused model downloads", reason).increment();
    }

    void roundRefused(RefusalReason reason) {
        counter(roundRefusals, ROUND_REFUSALS, "Refused task, stake, join and vote requests", reason).increment();
    }

    void updateAdmitted() {
        updates.increment();
    }

    void modelStored() {
        models.increment();
    }

    void bytesIngested(long bytes) {
        ingestBytes.increment(bytes);
    }

    void modelBytesSent(long bytes) {
        modelBytes.increment(bytes);
    }

    void streamOpened() {
        activeStreams.incrementAndGet();
    }

    void streamClosed() {
        activeStreams.decrementAndGet();
    }

    /** Upload streams open now. */
    public int activeStreams() {
        return activeStreams.get();
    }

    private Counter counter(Map<RefusalReason, Counter> cache, String name, String description, RefusalReason reason) {
        synchronized (cache) {
            return cache.computeIfAbsent(reason, r -> Counter.builder(name)
                    .description(description)
                    .tag("reason", r.name())
                    .register(registry));
        }
    }
}
