package org.murmur.server.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.murmur.proto.Wire;
import org.murmur.proto.safetensors.SafetensorsException;
import org.murmur.proto.safetensors.SafetensorsFile;
import org.murmur.proto.v1.Chunk;
import org.murmur.proto.v1.ModelInfo;
import org.murmur.proto.v1.PullModelRequest;
import org.murmur.proto.v1.PullModelResponse;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.server.model.ModelSchema;
import org.murmur.server.store.ModelStore;

/**
 * PullModel: streams a task's global model or a round's candidate from the {@link ModelStore}, a
 * {@code ModelInfo} first, then chunks from the requested offset to the end. Chunk boundaries sit
 * at multiples of {@link Wire#CHUNK_BYTES} (so a resumed download's first chunk may be shorter),
 * and each chunk wraps a slice of a read-only memory mapping of the file: no copy on the heap.
 * Chunks are sent only while the call is ready (the client's flow-control window has room); the
 * on-ready handler continues when it has room again, so a slow client holds at most a window's
 * worth of the model in the server's buffers. A client that reads nothing for the idle timeout
 * ({@link ServerConfig#idleTimeout()}) is ended: the server closes the file, sends no more chunks
 * and answers DEADLINE_EXCEEDED (STREAM_IDLE) after what is already queued, so a stalled download
 * never holds the model open; the node resumes from its offset.
 * Thread-safe.
 */
public final class ModelService {
    private static final System.Logger LOG = System.getLogger(ModelService.class.getName());
    /** Bytes per mapping: a multiple of the chunk size, so no chunk straddles two mappings. */
    static final long WINDOW_BYTES = 64L * Wire.CHUNK_BYTES;

    private final ModelCatalog catalog;
    private final ModelStore store;
    private final GrpcMetrics metrics;
    private final ScheduledExecutorService timer;
    private final Duration idleTimeout;

    /** @param timer runs the stall checks; owned by the caller */
    public ModelService(ModelCatalog catalog, ModelStore store, GrpcMetrics metrics, ScheduledExecutorService timer,
                        Duration idleTimeout) {
        this.catalog = Objects.requireNonNull(catalog, "catalog");
        this.store = Objects.requireNonNull(store, "store");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.timer = Objects.requireNonNull(timer, "timer");
        this.idleTimeout = Objects.requireNonNull(idleTimeout, "idleTimeout");
    }

    /** The PullModel handler: call from {@code MurmurImplBase#pullModel}. */
    public void pullModel(PullModelRequest request, StreamObserver<PullModelResponse> responseObserver) {
        ServerCallStreamObserver<PullModelResponse> call = (ServerCallStreamObserver<PullModelResponse>) responseObserver;
        String context = "PullModel of task " + request.getTaskId() + " " + request.getWhich()
                + (request.hasRound() ? " round " + Long.toUnsignedString(request.getRound()) : "");
        FileChannel channel = null;
        try {
            ModelCatalog.Entry entry = resolve(request);
            Path path = store.find(entry.sha256Hex()).orElseThrow(() -> new Refusal(RefusalReason.UNKNOWN_MODEL,
                    "model " + entry.sha256Hex() + " is not in the server's model store"));
            ModelInfo.Builder info = ModelInfo.newBuilder()
                    .setRound(entry.round())
                    .setInitial(entry.initial())
                    .setSha256(ByteString.copyFrom(HexFormat.of().parseHex(entry.sha256Hex())));
            try (SafetensorsFile file = SafetensorsFile.open(path)) {
                info.addAllManifest(ModelSchema.ofEntries(file.tensors()).toProto());
            }
            channel = FileChannel.open(path, StandardOpenOption.READ);
            long size = channel.size();
            long offset = request.getOffset();
            if (offset < 0 || offset > size) {
                throw new Refusal(RefusalReason.CHUNK_PAST_END, "offset " + Long.toUnsignedString(offset)
                        + " is past the end of the " + size + "-byte model; a download resumes at an offset up to "
                        + size);
            }
            info.setTotalBytes(size);
            Download download = new Download(call, channel, size, offset, info.build(), context);
            channel = null;
            call.setOnCancelHandler(download::cancelled);
            call.setOnReadyHandler(download::drain);
            download.drain(); // the call may already be ready: onReady fires only on a change
        } catch (Refusal refusal) {
            metrics.modelRefused(refusal.reason());
            LOG.log(System.Logger.Level.INFO, Refusal.logSafe(context + " refused: " + refusal.reason().name() + ": "
                    + refusal.getMessage()));
            call.onError(refusal.toStatusException());
        } catch (IOException | SafetensorsException | IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, Refusal.logSafe(context + " failed"), e);
            call.onError(Status.INTERNAL.withDescription("the server could not read the model: " + e.getMessage())
                    .asRuntimeException());
        } finally {
            closeQuietly(channel);
        }
    }

    private ModelCatalog.Entry resolve(PullModelRequest request) throws Refusal {
        String taskId = request.getTaskId();
        if (taskId.isEmpty()) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "task_id is empty");
        }
        if (request.getWhichValue() != 1 && request.getWhichValue() != 2) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "which must be MODEL_KIND_GLOBAL or"
                    + " MODEL_KIND_CANDIDATE, got " + request.getWhichValue());
        }
        boolean candidate = request.getWhichValue() == 2;
        if (candidate && !request.hasRound()) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "a candidate is named by its round: set round");
        }
        if (!catalog.hasTask(taskId)) {
            throw new Refusal(RefusalReason.UNKNOWN_TASK, "task " + taskId + " does not exist");
        }
        String round = Long.toUnsignedString(request.getRound());
        Optional<ModelCatalog.Entry> entry = candidate
                ? catalog.candidate(taskId, request.getRound())
                : catalog.global(taskId, request.hasRound() ? OptionalLong.of(request.getRound()) : OptionalLong.empty());
        return entry.orElseThrow(() -> new Refusal(RefusalReason.UNKNOWN_MODEL, candidate
                ? "task " + taskId + " has no candidate for round " + round + " (not aggregated yet, or the round"
                        + " failed)"
                : "task " + taskId + " has no global model" + (request.hasRound() ? " after round " + round : "")));
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // read-only: nothing lost
            }
        }
    }

    /** One download in progress; its methods run on the call's serialized callbacks. */
    private final class Download {
        private final ServerCallStreamObserver<PullModelResponse> call;
        private final FileChannel channel;
        private final long size;
        private final ModelInfo info;
        private final String context;
        private long position;
        private boolean infoSent;
        private boolean done;
        private MappedByteBuffer window;
        private long windowStart = -1;

        Download(ServerCallStreamObserver<PullModelResponse> call, FileChannel channel, long size, long offset,
                 ModelInfo info, String context) {
            this.call = call;
            this.channel = channel;
            this.size = size;
            this.position = offset;
            this.info = info;
            this.context = context;
        }

        synchronized void drain() {
            if (done) {
                return;
            }
            try {
                if (!infoSent) {
                    infoSent = true;
                    call.onNext(PullModelResponse.newBuilder().setInfo(info).build());
                }
                while (position < size && call.isReady()) {
                    int length = (int) Math.min(Wire.CHUNK_BYTES - position % Wire.CHUNK_BYTES, size - position);
                    ByteString data = UnsafeByteOperations.unsafeWrap(slice(position, length));
                    call.onNext(PullModelResponse.newBuilder()
                            .setChunk(Chunk.newBuilder().setOffset(position).setData(data))
                            .build());
                    position += length;
                    metrics.modelBytesSent(length);
                }
                if (position >= size) {
                    done = true;
                    closeQuietly(channel);
                    call.onCompleted();
                } else {
                    watchForStall(position);
                }
            } catch (IOException | RuntimeException e) {
                done = true;
                closeQuietly(channel);
                LOG.log(System.Logger.Level.WARNING, Refusal.logSafe(context + " failed at offset " + position), e);
                call.onError(Status.INTERNAL.withDescription("the server could not read the model at offset "
                        + position + ": " + e + "; resume the download from that offset").asRuntimeException());
            }
        }

        synchronized void cancelled() {
            done = true;
            closeQuietly(channel);
        }

        /** The client's window is full at {@code at}: cut it off if it is still there after the idle timeout. */
        private void watchForStall(long at) {
            try {
                timer.schedule(() -> stalled(at), idleTimeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                // the server is shutting down and cancels every call itself
            }
        }

        private synchronized void stalled(long at) {
            if (done || position != at) {
                return;
            }
            done = true;
            closeQuietly(channel);
            metrics.modelRefused(RefusalReason.STREAM_IDLE);
            LOG.log(System.Logger.Level.INFO, Refusal.logSafe(context + " refused: STREAM_IDLE at offset " + at));
            call.onError(new Refusal(RefusalReason.STREAM_IDLE, "the download read nothing for "
                    + idleTimeout.toSeconds() + " s at offset " + at + "; resume it from the offset of the bytes"
                    + " received").toStatusException());
        }

        /** A read-only view of [at, at + length), inside one window mapping (mappings outlive the channel). */
        private java.nio.ByteBuffer slice(long at, int length) throws IOException {
            long start = at - at % WINDOW_BYTES;
            if (start != windowStart) {
                window = channel.map(FileChannel.MapMode.READ_ONLY, start, Math.min(WINDOW_BYTES, size - start));
                windowStart = start;
            }
            return window.slice((int) (at - start), length).asReadOnlyBuffer();
        }
    }
}
