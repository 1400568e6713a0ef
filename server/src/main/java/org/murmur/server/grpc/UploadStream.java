package org.murmur.server.grpc;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.murmur.proto.v1.Chunk;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.UploadReceipt;
import org.murmur.server.store.ChecksumMismatchException;
import org.murmur.server.store.ChunkOrderException;
import org.murmur.server.store.DuplicateUpdateException;
import org.murmur.server.store.InsufficientSpaceException;
import org.murmur.server.store.SizeMismatchException;
import org.murmur.server.store.UpdateKey;
import org.murmur.server.store.Upload;
import org.murmur.server.store.UploadBusyException;
import org.murmur.server.store.UploadConflictException;
import org.murmur.server.store.UploadStatus;

/**
 * One call of a client-streaming upload RPC, whatever its {@link UploadTarget}.
 *
 * <p>In order: the first message must be the header, which the target admits; if the stores
 * already hold the file the call is answered at once; otherwise the node takes one of its stream
 * slots and the {@link org.murmur.server.store.UpdateStore} begins (or resumes) the upload. Each
 * chunk must start exactly where the upload stands and stay within total_bytes; its bytes go from
 * the message's read-only buffer view straight to the file, and only then is the next message
 * requested (manual flow control). Writes are fsynced every {@link ServerConfig#syncIntervalBytes()}.
 * When the client half-closes at total_bytes the store verifies the SHA-256 and the file is checked
 * against the manifest ({@link UpdateValidator}) before the store publishes it, so a file that
 * fails is deleted without ever being visible as complete; then the target takes the file, and
 * only then is the receipt sent. A client that half-closes early gets {@code complete = false}
 * with the durable offset.
 *
 * <p>A stream idle for {@link ServerConfig#idleTimeout()} while the server waits for it is refused
 * with DEADLINE_EXCEEDED; a refused, cancelled or failed stream always aborts its upload, leaving
 * the bytes received resumable (except after a checksum or content refusal, where they are
 * deleted). Every refusal is counted by reason and logged in one line with the stream's context.
 *
 * <p>Every callback and the idle check take {@link #lock}, so the state below is only touched by
 * one thread at a time; the idle check only tries the lock (a stream busy writing or validating is
 * not idle).
 */
final class UploadStream<Q> implements StreamObserver<Q> {
    private static final System.Logger LOG = System.getLogger(UploadStream.class.getName());

    private final UploadStreams streams;
    private final UploadTarget<Q> target;
    private final ServerCallStreamObserver<UploadReceipt> call;
    private final long idleNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private boolean done;
    private Q header;
    private Admission admission;
    private boolean holdsStream;
    private Upload upload;
    private long unsynced;
    /** Whether the server has asked for a message and is waiting for it. */
    private boolean waiting;
    private long waitingSince;
    private volatile ScheduledFuture<?> idleCheck;

    UploadStream(UploadStreams streams, UploadTarget<Q> target, ServerCallStreamObserver<UploadReceipt> call) {
        this.streams = streams;
        this.target = target;
        this.call = call;
        this.idleNanos = streams.config.idleTimeout().toNanos();
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
    public void onNext(Q message) {
        lock.lock();
        try {
            if (done) {
                return;
            }
            waiting = false;
            if (header == null) {
                onHeader(message);
            } else {
                onChunk(message);
            }
            if (!done) {
                requestNext();
            }
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
                throw new Refusal(RefusalReason.MALFORMED_REQUEST, "the stream ended without "
                        + withArticle(target.headerName()) + "; send the header first");
            }
            if (upload.position() < upload.totalBytes()) {
                upload.sync();
                long durable = upload.durableOffset();
                finish();
                reply(UploadReceipt.newBuilder().setSha256(admission.header().sha256()).setDurableBytes(durable)
                        .setComplete(false).build());
                return;
            }
            complete();
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
                LOG.log(System.Logger.Level.DEBUG, () -> Refusal.logSafe(context() + ": cancelled by the client at"
                        + " offset " + at));
            }
        } finally {
            lock.unlock();
        }
    }

    private void onHeader(Q message) throws Refusal, IOException {
        if (!target.isHeader(message)) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "the first message of " + target.rpc() + " must be "
                    + withArticle(target.headerName()) + ", got " + describe(message));
        }
        header = message;
        admission = target.admit(message);
        Optional<UploadReceipt> stored = target.stored(admission);
        if (stored.isPresent()) {
            answerStored(stored.get());
            return;
        }
        if (!streams.acquire(admission.node())) {
            throw new Refusal(RefusalReason.TOO_MANY_STREAMS, "node " + admission.node() + " already has "
                    + streams.config.maxStreamsPerNode() + " upload stream(s) open, the server's limit ("
                    + ServerConfig.MAX_STREAMS_PER_NODE + "); finish or cancel one, then retry");
        }
        holdsStream = true;
        upload = begin();
    }

    /** The store's upload of the admitted header, or null when the stores turned out to hold the file (answered). */
    private Upload begin() throws Refusal, IOException {
        UpdateKey key = admission.key();
        UploadHeader h = admission.header();
        try {
            if (h.resume()) {
                UploadStatus status = streams.store.status(key);
                switch (status.state()) {
                    case ABSENT -> throw new Refusal(RefusalReason.NOTHING_TO_RESUME, "resume = true but no bytes"
                            + " of " + admission.what() + " are stored: start a new upload (resume = false) from"
                            + " offset 0");
                    case COMPLETE -> {
                        return alreadyComplete();
                    }
                    case ACTIVE -> throw busy();
                    case PARTIAL -> {
                        // resumed below
                    }
                }
            } else {
                streams.store.discard(key); // a new upload starts at 0, whatever an earlier one left
            }
            return streams.store.begin(key, h.totalBytes(), h.sha256().toByteArray());
        } catch (DuplicateUpdateException e) {
            return alreadyComplete();
        } catch (UploadBusyException e) {
            throw busy();
        } catch (UploadConflictException e) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, e.getMessage() + "; a resume must announce the"
                    + " same total_bytes and sha256 as the interrupted upload, or start over with resume = false");
        }
    }

    /** The key turned complete since the header was admitted: the target says what that means. */
    private Upload alreadyComplete() throws Refusal, IOException {
        UploadReceipt receipt = target.stored(admission).orElseThrow(() -> new IllegalStateException(
                admission.what() + " is complete in the update store, but " + target.rpc() + " found nothing stored"));
        answerStored(receipt);
        return null;
    }

    private void answerStored(UploadReceipt receipt) {
        finish();
        LOG.log(System.Logger.Level.DEBUG, () -> Refusal.logSafe(context() + ": already stored"));
        reply(receipt);
    }

    private Refusal busy() {
        return new Refusal(RefusalReason.TOO_MANY_STREAMS, "another upload stream of " + admission.what()
                + " is still open on the server; it ends when it is cancelled or idle for "
                + streams.config.idleTimeout().toMillis() + " ms (" + ServerConfig.IDLE_TIMEOUT + "): retry the"
                + " resume then");
    }

    private void onChunk(Q message) throws Refusal, IOException {
        if (target.isHeader(message)) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "a second " + target.headerName() + ": the header is"
                    + " only the first message of a stream");
        }
        Chunk chunk = target.chunk(message);
        if (chunk == null) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "a message with neither header nor chunk");
        }
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
        if (unsynced >= streams.config.syncIntervalBytes()) {
            upload.sync();
            unsynced = 0;
        }
        streams.metrics.bytesIngested(data.size());
    }

    private static Refusal outOfOrder(long expected, long actual) {
        String what = Long.compareUnsigned(actual, expected) > 0
                ? "a gap of " + Long.toUnsignedString(actual - expected) + " bytes"
                : "an overlap of " + (expected - actual) + " bytes";
        return new Refusal(RefusalReason.CHUNK_OUT_OF_ORDER, "chunk at offset " + Long.toUnsignedString(actual)
                + " but the upload continues at offset " + expected + " (" + what + "); send the chunks in"
                + " order, each starting where the previous one ended; resume from offset " + expected);
    }

    /** All bytes are in: verify, check the file, publish, hand it to the target, acknowledge. */
    private void complete() throws Refusal, IOException {
        Path file;
        try {
            file = upload.complete(partial -> UpdateValidator.validate(partial, admission.header().manifest()));
        } catch (ChecksumMismatchException e) {
            throw new Refusal(RefusalReason.CHECKSUM_MISMATCH, "the SHA-256 of the " + e.bytes()
                    + " bytes received is " + e.actualSha256() + " but the header announced "
                    + e.expectedSha256() + "; the bytes were discarded: upload the file again from offset 0");
        }
        target.completed(admission, header, file);
        finish();
        long total = upload.totalBytes();
        LOG.log(System.Logger.Level.DEBUG, () -> Refusal.logSafe(context() + ": complete, " + total + " bytes"));
        reply(UploadReceipt.newBuilder().setSha256(admission.header().sha256()).setDurableBytes(total)
                .setComplete(true).build());
    }

    private void reply(UploadReceipt receipt) {
        call.onNext(receipt);
        call.onCompleted();
    }

    private void refuse(Refusal refusal) {
        finish();
        streams.refused(refusal, context());
        call.onError(refusal.toStatusException());
    }

    private void fail(Exception e) {
        finish();
        Status status;
        if (e instanceof InsufficientSpaceException) {
            status = Status.UNAVAILABLE.withDescription("the server has too little disk space for this upload"
                    + " now; retry later");
        } else if (e instanceof IOException) {
            status = Status.UNAVAILABLE.withDescription("the server could not store the upload (" + e
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
            streams.release(admission.node());
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
            idleCheck = streams.timer.schedule(this::checkIdle, Math.max(1, delayNanos), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException shuttingDown) {
            // the server is stopping; its shutdown ends this stream
        }
    }

    /**
     * Refuses the stream if the server has waited for a message for the whole idle timeout;
     * otherwise checks again when it could first have. A check that runs after the stream ended
     * does nothing.
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
                    + streams.config.idleTimeout().toMillis() + " ms while the server waited ("
                    + ServerConfig.IDLE_TIMEOUT + "); the stream was cancelled"
                    + (upload == null ? "" : " and the " + received + " bytes received are kept: resume from"
                    + " offset " + received)));
        } finally {
            lock.unlock();
        }
    }

    private String context() {
        return header == null ? target.rpc() : target.context(header);
    }

    private String describe(Q message) {
        Chunk chunk = target.chunk(message);
        return chunk != null ? "a chunk at offset " + Long.toUnsignedString(chunk.getOffset()) : "an empty message";
    }

    private static String withArticle(String name) {
        return ("AEIOU".indexOf(name.charAt(0)) >= 0 ? "an " : "a ") + name;
    }
}
