package org.murmur.server.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.murmur.proto.identity.NodeId;
import org.murmur.proto.v1.UploadReceipt;
import org.murmur.server.store.UpdateStore;

/**
 * Opens {@link UploadStream}s and holds what they share: the settings, the update store, the
 * meters, the idle-deadline timer and each node's count of open streams. Thread-safe.
 */
final class UploadStreams {
    private static final System.Logger LOG = System.getLogger(UploadStreams.class.getName());

    final ServerConfig config;
    final UpdateStore store;
    final GrpcMetrics metrics;
    final ScheduledExecutorService timer;
    private final ConcurrentHashMap<NodeId, AtomicInteger> perNode = new ConcurrentHashMap<>();

    /** @param timer runs the idle-deadline checks; owned by the caller */
    UploadStreams(ServerConfig config, UpdateStore store, GrpcMetrics metrics, ScheduledExecutorService timer) {
        this.config = Objects.requireNonNull(config, "config");
        this.store = Objects.requireNonNull(store, "store");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.timer = Objects.requireNonNull(timer, "timer");
    }

    /** The request observer of a new upload call of {@code target}, with manual flow control. */
    <Q> StreamObserver<Q> open(UploadTarget<Q> target, StreamObserver<UploadReceipt> responseObserver) {
        ServerCallStreamObserver<UploadReceipt> call = (ServerCallStreamObserver<UploadReceipt>) responseObserver;
        UploadStream<Q> stream = new UploadStream<>(this, target, call);
        call.disableAutoRequest();
        call.setOnCancelHandler(stream::cancelled);
        stream.start();
        return stream;
    }

    /** Takes one of {@code node}'s stream slots; false when it has {@link ServerConfig#maxStreamsPerNode()} open. */
    boolean acquire(NodeId node) {
        AtomicInteger count = perNode.computeIfAbsent(node, n -> new AtomicInteger());
        while (true) {
            int open = count.get();
            if (open >= config.maxStreamsPerNode()) {
                return false;
            }
            if (count.compareAndSet(open, open + 1)) {
                metrics.streamOpened();
                return true;
            }
        }
    }

    void release(NodeId node) {
        perNode.get(node).decrementAndGet();
        metrics.streamClosed();
    }

    /** Counts a refusal by reason and logs it in one line with its context. */
    void refused(Refusal refusal, String context) {
        metrics.ingestRefused(refusal.reason());
        LOG.log(System.Logger.Level.INFO, Refusal.logSafe(context + " refused: " + refusal.reason().name() + ": "
                + refusal.getMessage()));
    }
}
