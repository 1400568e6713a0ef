package org.murmur.server.grpc;

import org.murmur.server.model.ModelSchema;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.murmur.proto.identity.CanonicalRequest;
import org.murmur.proto.identity.Ed25519;
import org.murmur.proto.identity.NodeId;
import org.murmur.proto.identity.Purpose;
import org.murmur.proto.identity.SignatureRejectedException;
import org.murmur.proto.identity.SignatureVerifier;
import org.murmur.proto.v1.Auth;
import org.murmur.proto.v1.Chunk;
import org.murmur.proto.v1.GetUploadOffsetRequest;
import org.murmur.proto.v1.PushUpdateRequest;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.UpdateHeader;
import org.murmur.proto.v1.UploadOffset;
import org.murmur.proto.v1.UploadReceipt;
import org.murmur.server.store.ChecksumMismatchException;
import org.murmur.server.store.ChunkOrderException;
import org.murmur.server.store.DuplicateUpdateException;
import org.murmur.server.store.InsufficientSpaceException;
import org.murmur.server.store.SizeMismatchException;
import org.murmur.server.store.UpdateKey;
import org.murmur.server.store.UpdateStore;
import org.murmur.server.store.Upload;
import org.murmur.server.store.UploadBusyException;
import org.murmur.server.store.UploadConflictException;
import org.murmur.server.store.UploadStatus;

/**
 * PushUpdate and GetUploadOffset: proposers stream their updates into the {@link UpdateStore}.
 *
 * <p>Per stream, in order: the header is checked (well-formed; signed by the node's registered key;
 * nonce not seen before; the round gate's verdict; manifest equal to the task's model schema;
 * total_bytes within what the manifest and the server's limits allow; not a duplicate; the node
 * under its limit of concurrent streams), then the store begins (or resumes) the upload. Each
 * chunk must start exactly where the upload stands and stay within total_bytes; its bytes go from
 * the message's read-only buffer view straight to the file, and only then is the next message
 * requested (manual flow control: at most one message is buffered per stream beyond the
 * transport's window). Writes are fsynced every {@link ServerConfig#syncIntervalBytes()}. When the
 * client half-closes at total_bytes the store verifies the SHA-256, the file is checked (size
 * implied by its header, tensors equal to the manifest, every value finite) before the store
 * publishes it, so a file that fails is deleted without ever being visible as complete; then the
 * gate records the contribution, and only then is the receipt sent.
 * A client that half-closes early gets {@code complete = false} with the durable offset.
 *
 * <p>A stream that stays idle for {@link ServerConfig#idleTimeout()} while the server waits for
 * it is refused with DEADLINE_EXCEEDED; a refused, cancelled or failed stream always aborts its
 * upload, leaving the bytes received resumable (except after a checksum or content refusal, where
 * the bytes are deleted). Every refusal is counted by reason, logged in one line with the node,
 * task and round, and sent with the {@code murmur-refusal} trailer. Thread-safe.
 */
public final class UploadService {
    private static final System.Logger LOG = System.getLogger(UploadService.class.getName());
    private static final HexFormat HEX = HexFormat.of();
    /** Length field plus the smallest JSON object, "{}". */
    private static final long MIN_FRAMING_BYTES = 8 + 2;

    private final ServerConfig config;
    private final UpdateStore store;
    private final RoundGate gate;
    private final RequestAuthenticator authenticator;
    private final NonceRegistry nonces;
    private final GrpcMetrics metrics;
    private final ScheduledExecutorService timer;
    private final long idleNanos;
    private final ConcurrentHashMap<NodeId, AtomicInteger> streamsPerNode = new ConcurrentHashMap<>();

    /**
     * @param timer runs the idle-deadline checks; owned by the caller, which shuts it down
     */
    public UploadService(ServerConfig config, UpdateStore store, RoundGate gate, NonceRegistry nonces,
                         GrpcMetrics metrics, ScheduledExecutorService timer) {
        this.config = Objects.requireNonNull(config, "config");
        this.store = Objects.requireNonNull(store, "store");
        this.gate = Objects.requireNonNull(gate, "gate");
        this.authenticator = new RequestAuthenticator(gate::publicKey);
        this.nonces = Objects.requireNonNull(nonces, "nonces");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.timer = Objects.requireNonNull(timer, "timer");
        this.idleNanos = config.idleTimeout().toNanos();
    }

    /** The PushUpdate handler: call from {@code MurmurImplBase#pushUpdate}. */
    public StreamObserver<PushUpdateRequest> pushUpdate(StreamObserver<UploadReceipt> responseObserver) {
        ServerCallStreamObserver<UploadReceipt> call = (ServerCallStreamObserver<UploadReceipt>) responseObserver;
        PushStream stream = new PushStream(call);
        call.disableAutoRequest();
        call.setOnCancelHandler(stream::cancelled);
        stream.start();
        return stream;
    }

    /** The GetUploadOffset handler: where an interrupted upload resumes. */
    public void getUploadOffset(GetUploadOffsetRequest request, StreamObserver<UploadOffset> response) {
        String context = "GetUploadOffset";
        try {
            switch (request.getTargetCase()) {
                case UPDATE -> {
                    org.murmur.proto.v1.UpdateKey target = request.getUpdate();
                    context = "GetUploadOffset from node " + target.getNodeId() + ", task " + target.getTaskId()
                            + ", round " + Long.toUnsignedString(target.getRound());
                    UpdateKey key = updateKey(target.getTaskId(), target.getRound(), target.getNodeId(), "update");
                    UploadStatus status = store.status(key);
                    UploadOffset.Builder offset = UploadOffset.newBuilder();
                    switch (status.state()) {
                        case ABSENT -> throw new Refusal(RefusalReason.NOTHING_TO_RESUME, "no bytes of this update ("
                                + key + ") are stored: start a new upload from offset 0");
                        case COMPLETE -> offset.setComplete(true).setDurableBytes(status.durableBytes())
                                .setTotalBytes(status.totalBytes());
                        case PARTIAL, ACTIVE -> offset.setDurableBytes(status.durableBytes())
                                .setTotalBytes(Math.max(0, status.totalBytes()));
                    }
                    response.onNext(offset.build());
                    response.onCompleted();
                }
                case MODEL_SHA256 -> response.onError(Status.UNIMPLEMENTED
                        .withDescription("model uploads (PutModel) are not served by this server yet")
                        .asRuntimeException());
                default -> throw new Refusal(RefusalReason.MALFORMED_REQUEST,
                        "set the request's target: update (task, round, node) or model_sha256");
            }
        } catch (Refusal refusal) {
            countAndLog(refusal, context);
            response.onError(refusal.toStatusException());
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, Refusal.logSafe(context + " failed"), e);
            response.onError(Status.INTERNAL.withDescription("the server could not read the upload's state: " + e)
                    .asRuntimeException());
        }
    }

    private void countAndLog(Refusal refusal, String context) {
        metrics.ingestRefused(refusal.reason());
        LOG.log(System.Logger.Level.INFO, Refusal.logSafe(context + " refused: " + refusal.reason().name() + ": "
                + refusal.getMessage()));
    }

    private static UpdateKey updateKey(String taskId, long round, String nodeId, String field) throws Refusal {
        if (round < 0) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, field + ".round " + Long.toUnsignedString(round)
                    + " is out of range");
        }
        try {
            NodeId.parse(nodeId);
            return new UpdateKey(taskId, round, nodeId);
        } catch (IllegalArgumentException e) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, field + ": " + e.getMessage());
        }
    }

    private boolean acquireStream(NodeId node) {
        AtomicInteger count = streamsPerNode.computeIfAbsent(node, n -> new AtomicInteger());
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

    private void releaseStream(NodeId node) {
        streamsPerNode.get(node).decrementAndGet();
        metrics.streamClosed();
    }

    /**
     * One PushUpdate call. Every callback and the idle check take {@link #lock}, so the state below
     * is only touched by one thread at a time; the idle check only tries the lock (a stream busy
     * writing or validating is not idle).
     */
    private final class PushStream implements StreamObserver<PushUpdateRequest> {
        private final ServerCallStreamObserver<UploadReceipt> call;
        private final ReentrantLock lock = new ReentrantLock();
        private boolean done;
        private UpdateHeader header;
        private NodeId node;
        private boolean holdsStream;
        private ModelSchema manifest;
        private Upload upload;
        private long unsynced;
        /** Whether the server has asked for a message and is waiting for it. */
        private boolean waiting;
        private long waitingSince;
        private volatile ScheduledFuture<?> idleCheck;

        PushStream(ServerCallStreamObserver<UploadReceipt> call) {
            this.call = call;
        }

        void start() {
            lock.lock();
            try {
                requestNext();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void onNext(PushUpdateRequest request) {
            lock.lock();
            try {
                if (done) {
                    return;
                }
                waiting = false;
                if (header == null) {
                    onHeader(request);
                } else {
                    onChunk(request);
                }
                requestNext();
            } catch (Refusal refusal) {
                refuse(refusal);
            } catch (IOException | RuntimeException e) {
                fail(e);
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void onCompleted() {
            lock.lock();
            try {
                if (done) {
                    return;
                }
                waiting = false;
                if (header == null) {
                    throw new Refusal(RefusalReason.MALFORMED_REQUEST,
                            "the stream ended without an UpdateHeader; send the header first");
                }
                if (upload.position() < upload.totalBytes()) {
                    upload.sync();
                    long durable = upload.durableOffset();
                    finish();
                    reply(UploadReceipt.newBuilder().setSha256(header.getSha256()).setDurableBytes(durable)
                            .setComplete(false).build());
                    return;
                }
                admit();
            } catch (Refusal refusal) {
                refuse(refusal);
            } catch (IOException | RuntimeException e) {
                fail(e);
            } finally {
                lock.unlock();
            }
        }

        /** The client cancelled or the connection dropped: keep what arrived for a resume. */
        @Override
        public void onError(Throwable t) {
            cancelled();
        }

        void cancelled() {
            lock.lock();
            try {
                if (done) {
                    return;
                }
                long at = upload == null ? 0 : upload.position();
                finish();
                if (header != null) {
                    LOG.log(System.Logger.Level.DEBUG, () -> Refusal.logSafe(context() + ": cancelled by the client at offset "
                            + at));
                }
            } finally {
                lock.unlock();
            }
        }

        private void onHeader(PushUpdateRequest request) throws Refusal, IOException {
            if (!request.hasHeader()) {
                throw new Refusal(RefusalReason.MALFORMED_REQUEST, "the first message of PushUpdate must be an"
                        + " UpdateHeader, got " + describe(request));
            }
            UpdateHeader h = request.getHeader();
            checkWellFormed(h);
            header = h;
            node = authenticator.authenticate(Purpose.PUSH_UPDATE, h.getTaskId(), h.getRound(), h, h.getAuth(),
                    "header.auth", false).node();
            if (!nonces.register(node, Purpose.PUSH_UPDATE, h.getAuth().getNonce().toByteArray())) {
                throw new Refusal(RefusalReason.REPLAYED_NONCE, "nonce " + HEX.formatHex(h.getAuth().getNonce()
                        .toByteArray()) + " was already used by node " + node + " for PushUpdate: sign every"
                        + " request, resumes included, with a fresh random nonce");
            }
            UploadVerdict verdict = gate.checkUpload(h.getTaskId(), h.getRound(), node);
            if (verdict != UploadVerdict.ALLOWED) {
                throw new Refusal(verdict.reason().orElseThrow(), explain(verdict));
            }
            ModelSchema schema = gate.schema(h.getTaskId()).orElseThrow(() ->
                    new Refusal(RefusalReason.UNKNOWN_TASK, "task " + h.getTaskId() + " does not exist"));
            Optional<String> difference = manifest.firstDifference(schema, "the manifest", "the task's model schema");
            if (difference.isPresent()) {
                throw new Refusal(RefusalReason.SCHEMA_MISMATCH, "the manifest does not match the model schema of"
                        + " task " + h.getTaskId() + ": " + difference.get());
            }
            checkTotalBytes(h.getTotalBytes());
            UpdateKey key = updateKey(h.getTaskId(), h.getRound(), node.hex(), "header");
            Optional<Path> existing = store.find(key);
            if (existing.isPresent()) {
                throw duplicate(key);
            }
            if (!acquireStream(node)) {
                throw new Refusal(RefusalReason.TOO_MANY_STREAMS, "node " + node + " already has "
                        + config.maxStreamsPerNode() + " upload stream(s) open, the server's limit ("
                        + ServerConfig.MAX_STREAMS_PER_NODE + "); finish or cancel one, then retry");
            }
            holdsStream = true;
            upload = begin(key, h);
        }

        /** Syntax only: every field besides the auth block present and in range. */
        private void checkWellFormed(UpdateHeader h) throws Refusal {
            if (!h.hasAuth()) {
                throw new Refusal(RefusalReason.MALFORMED_REQUEST, "header.auth is missing: sign the header");
            }
            if (h.getTaskId().isEmpty()) {
                throw new Refusal(RefusalReason.MALFORMED_REQUEST, "header.task_id is empty");
            }
            if (h.getSha256().size() != 32) {
                throw new Refusal(RefusalReason.MALFORMED_REQUEST, "header.sha256 must be the 32-byte SHA-256 of"
                        + " the file, got " + h.getSha256().size() + " bytes");
            }
            if (h.getNumSamples() < 1) {
                throw new Refusal(RefusalReason.MALFORMED_REQUEST, "header.num_samples must be at least 1, got "
                        + Long.toUnsignedString(h.getNumSamples()));
            }
            if (h.getTotalBytes() == 0) {
                throw new Refusal(RefusalReason.MALFORMED_REQUEST, "header.total_bytes is 0; announce the size of"
                        + " the whole file");
            }
            if (h.getManifestCount() == 0) {
                throw new Refusal(RefusalReason.MALFORMED_REQUEST, "header.manifest is empty; list every tensor of"
                        + " the update");
            }
            try {
                manifest = ModelSchema.fromProto(h.getManifestList());
            } catch (IllegalArgumentException e) {
                throw new Refusal(RefusalReason.MALFORMED_REQUEST, "header.manifest: " + e.getMessage());
            }
        }

        private String explain(UploadVerdict verdict) {
            String round = "round " + Long.toUnsignedString(header.getRound()) + " of task " + header.getTaskId();
            return switch (verdict) {
                case UNKNOWN_TASK -> "task " + header.getTaskId() + " does not exist";
                case UNKNOWN_ROUND -> "task " + header.getTaskId() + " has no round "
                        + Long.toUnsignedString(header.getRound());
                case NOT_ACCEPTING -> round + " is not accepting updates: its contribute phase is not open"
                        + " (watch the round's events for PHASE_CONTRIBUTE)";
                case DEADLINE_PASSED -> round + " no longer accepts updates: its contribute deadline has passed";
                case NODE_REMOVED -> "node " + node + " was removed from task " + header.getTaskId()
                        + " (stake below the minimum)";
                case NOT_STAKED -> "node " + node + " has no stake in task " + header.getTaskId() + ": stake first";
                case NOT_PROPOSER -> "node " + node + " is not a proposer of " + round
                        + " (see GetAssignment for its role)";
                case ALLOWED -> throw new IllegalArgumentException("not a refusal");
            };
        }

        private void checkTotalBytes(long total) throws Refusal {
            if (total < 0 || total > config.maxUpdateBytes()) {
                throw new Refusal(RefusalReason.SIZE_MISMATCH, "total_bytes " + Long.toUnsignedString(total)
                        + " exceeds this server's limit of " + config.maxUpdateBytes() + " bytes ("
                        + ServerConfig.MAX_UPDATE_BYTES + ")");
            }
            long data = manifest.dataBytes();
            long smallest = saturatingAdd(MIN_FRAMING_BYTES, data);
            if (total < smallest) {
                throw new Refusal(RefusalReason.SIZE_MISMATCH, "total_bytes " + total + " is too small for the"
                        + " manifest: its tensors alone take " + data + " bytes, so the file is at least " + smallest
                        + " bytes (8-byte length field, a header, the tensor data)");
            }
            long largest = saturatingAdd(saturatingAdd(8, config.maxHeaderBytes()), data);
            if (total > largest) {
                throw new Refusal(RefusalReason.SIZE_MISMATCH, "total_bytes " + total + " is too large for the"
                        + " manifest: its tensors take " + data + " bytes, which leaves " + (total - 8 - data)
                        + " bytes for the header, more than this server's limit of " + config.maxHeaderBytes()
                        + " (" + ServerConfig.MAX_HEADER_BYTES + ")");
            }
        }

        private Upload begin(UpdateKey key, UpdateHeader h) throws Refusal, IOException {
            byte[] sha256 = h.getSha256().toByteArray();
            try {
                if (h.getResume()) {
                    UploadStatus status = store.status(key);
                    switch (status.state()) {
                        case ABSENT -> throw new Refusal(RefusalReason.NOTHING_TO_RESUME, "resume = true but no"
                                + " bytes of this update (" + key + ") are stored: start a new upload (resume ="
                                + " false) from offset 0");
                        case COMPLETE -> throw duplicate(key);
                        case ACTIVE -> throw busy(key);
                        case PARTIAL -> {
                            // resumed below
                        }
                    }
                } else {
                    store.discard(key); // a new upload starts at 0, whatever an earlier one left
                }
                return store.begin(key, h.getTotalBytes(), sha256);
            } catch (DuplicateUpdateException e) {
                throw duplicate(key);
            } catch (UploadBusyException e) {
                throw busy(key);
            } catch (UploadConflictException e) {
                throw new Refusal(RefusalReason.MALFORMED_REQUEST, e.getMessage() + "; a resume must announce the"
                        + " same total_bytes and sha256 as the interrupted upload, or start over with resume = false");
            }
        }

        private Refusal duplicate(UpdateKey key) {
            return new Refusal(RefusalReason.DUPLICATE_UPDATE, "node " + key.nodeId() + " already has a complete"
                    + " update for round " + key.round() + " of task " + key.taskId() + "; an update is never"
                    + " replaced");
        }

        private Refusal busy(UpdateKey key) {
            return new Refusal(RefusalReason.TOO_MANY_STREAMS, "another upload stream of this update (" + key
                    + ") is still open on the server; it ends when it is cancelled or idle for "
                    + config.idleTimeout().toMillis() + " ms (" + ServerConfig.IDLE_TIMEOUT + "): retry the resume"
                    + " then");
        }

        private void onChunk(PushUpdateRequest request) throws Refusal, IOException {
            if (request.hasHeader()) {
                throw new Refusal(RefusalReason.MALFORMED_REQUEST, "a second UpdateHeader: the header is only the"
                        + " first message of a stream");
            }
            if (!request.hasChunk()) {
                throw new Refusal(RefusalReason.MALFORMED_REQUEST, "a message with neither header nor chunk");
            }
            Chunk chunk = request.getChunk();
            ByteString data = chunk.getData();
            long offset = chunk.getOffset();
            if (data.isEmpty()) {
                throw new Refusal(RefusalReason.MALFORMED_REQUEST, "an empty chunk at offset "
                        + Long.toUnsignedString(offset) + "; chunks are never empty");
            }
            long expected = upload.position();
            if (offset != expected) {
                throw outOfOrder(expected, offset);
            }
            long total = upload.totalBytes();
            if (data.size() > total - offset) {
                throw new Refusal(RefusalReason.CHUNK_PAST_END, "chunk of " + data.size() + " bytes at offset "
                        + offset + " ends at " + (offset + data.size()) + ", past total_bytes " + total);
            }
            long at = offset;
            try {
                for (ByteBuffer part : data.asReadOnlyByteBufferList()) {
                    int length = part.remaining();
                    upload.write(at, part);
                    at += length;
                }
            } catch (ChunkOrderException e) {
                throw outOfOrder(e.expectedOffset(), e.actualOffset());
            } catch (SizeMismatchException e) {
                throw new Refusal(RefusalReason.CHUNK_PAST_END, e.getMessage());
            }
            unsynced += data.size();
            if (unsynced >= config.syncIntervalBytes()) {
                upload.sync();
                unsynced = 0;
            }
            metrics.bytesIngested(data.size());
        }

        private Refusal outOfOrder(long expected, long actual) {
            String what = Long.compareUnsigned(actual, expected) > 0
                    ? "a gap of " + Long.toUnsignedString(actual - expected) + " bytes"
                    : "an overlap of " + (expected - actual) + " bytes";
            return new Refusal(RefusalReason.CHUNK_OUT_OF_ORDER, "chunk at offset " + Long.toUnsignedString(actual)
                    + " but the upload continues at offset " + expected + " (" + what + "); send the chunks in"
                    + " order, each starting where the previous one ended; resume from offset " + expected);
        }

        /** All bytes are in: verify, publish, check the file, record, acknowledge. */
        private void admit() throws Refusal, IOException {
            Path file;
            try {
                file = upload.complete(partial -> UpdateValidator.validate(partial, manifest));
            } catch (ChecksumMismatchException e) {
                throw new Refusal(RefusalReason.CHECKSUM_MISMATCH, "the SHA-256 of the " + e.bytes()
                        + " bytes received is " + e.actualSha256() + " but the header announced "
                        + e.expectedSha256() + "; the bytes were discarded: upload the file again from offset 0");
            }
            UpdateKey key = upload.key();
            gate.contributed(new Contribution(key, header.getSha256().toByteArray(), header.getNumSamples(),
                    upload.totalBytes(), file, header.getAuth().getNonce().toByteArray()));
            metrics.updateAdmitted();
            finish();
            LOG.log(System.Logger.Level.DEBUG, () -> Refusal.logSafe(context() + ": admitted " + upload.totalBytes()
                    + " bytes"));
            reply(UploadReceipt.newBuilder().setSha256(header.getSha256()).setDurableBytes(upload.totalBytes())
                    .setComplete(true).build());
        }

        private void reply(UploadReceipt receipt) {
            call.onNext(receipt);
            call.onCompleted();
        }

        private void refuse(Refusal refusal) {
            finish();
            countAndLog(refusal, context());
            call.onError(refusal.toStatusException());
        }

        private void fail(Exception e) {
            finish();
            Status status;
            if (e instanceof InsufficientSpaceException) {
                status = Status.UNAVAILABLE.withDescription("the server has too little disk space for this update"
                        + " now; retry later");
            } else if (e instanceof IOException) {
                status = Status.UNAVAILABLE.withDescription("the server could not store the update (" + e
                        + "); resume later from the offset GetUploadOffset reports");
            } else {
                status = Status.INTERNAL.withDescription("the upload failed on the server: " + e);
            }
            LOG.log(System.Logger.Level.WARNING, Refusal.logSafe(context() + " failed"), e);
            call.onError(status.asRuntimeException());
        }

        /** Ends the stream's server side: no more callbacks matter, the upload is closed, the slot freed. */
        private void finish() {
            done = true;
            waiting = false;
            ScheduledFuture<?> check = idleCheck;
            if (check != null) {
                check.cancel(false);
            }
            if (upload != null) {
                try {
                    upload.sync(); // whatever arrived is durable before the stream lets go of it
                } catch (IOException | IllegalStateException ignored) {
                    // already completed, failed or closed: nothing to keep
                }
                try {
                    upload.abort(); // no-op after complete; keeps the partial for a resume otherwise
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.WARNING, Refusal.logSafe(context() + ": closing the upload failed"), e);
                }
            }
            if (holdsStream) {
                holdsStream = false;
                releaseStream(node);
            }
        }

        /** Asks for one more message and starts the idle clock. */
        private void requestNext() {
            waiting = true;
            waitingSince = System.nanoTime();
            if (idleCheck == null) {
                scheduleIdleCheck(idleNanos);
            }
            call.request(1);
        }

        private void scheduleIdleCheck(long delayNanos) {
            try {
                idleCheck = timer.schedule(this::checkIdle, Math.max(1, delayNanos), TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException shuttingDown) {
                // the server is stopping; its shutdown ends this stream
            }
        }

        /**
         * Refuses the stream if the server has waited for a message for the whole idle timeout;
         * otherwise checks again when it could first have. A check that runs after the stream
         * ended does nothing.
         */
        private void checkIdle() {
            if (!lock.tryLock()) {
                scheduleIdleCheck(idleNanos); // busy writing or validating: not idle
                return;
            }
            try {
                if (done) {
                    return;
                }
                long idleFor = System.nanoTime() - waitingSince;
                if (!waiting || idleFor < idleNanos) {
                    scheduleIdleCheck(waiting ? idleNanos - idleFor : idleNanos);
                    return;
                }
                long received = upload == null ? 0 : upload.position();
                refuse(new Refusal(RefusalReason.STREAM_IDLE, "no message arrived for "
                        + config.idleTimeout().toMillis() + " ms while the server waited (" + ServerConfig.IDLE_TIMEOUT
                        + "); the stream was cancelled"
                        + (upload == null ? "" : " and the " + received + " bytes received are kept: resume from"
                        + " offset " + received)));
            } finally {
                lock.unlock();
            }
        }

        private String context() {
            if (header == null) {
                return "PushUpdate";
            }
            return "PushUpdate from node " + (node != null ? node.hex() : header.getAuth().getNodeId()) + ", task "
                    + header.getTaskId() + ", round " + Long.toUnsignedString(header.getRound());
        }

        private static String describe(PushUpdateRequest request) {
            return request.hasChunk() ? "a chunk at offset " + Long.toUnsignedString(request.getChunk().getOffset())
                    : "an empty message";
        }
    }

    private static long saturatingAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }
}
