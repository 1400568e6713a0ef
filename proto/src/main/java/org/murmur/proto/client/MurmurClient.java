package org.murmur.proto.client;

import com.google.protobuf.ByteString;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.murmur.proto.TensorSpecs;
import org.murmur.proto.Wire;
import org.murmur.proto.identity.NodeKeys;
import org.murmur.proto.identity.Purpose;
import org.murmur.proto.identity.RequestSigner;
import org.murmur.proto.safetensors.SafetensorsFile;
import org.murmur.proto.safetensors.TensorEntry;
import org.murmur.proto.v1.Chunk;
import org.murmur.proto.v1.GetUploadOffsetRequest;
import org.murmur.proto.v1.ModelHeader;
import org.murmur.proto.v1.ModelInfo;
import org.murmur.proto.v1.MurmurGrpc;
import org.murmur.proto.v1.PullModelRequest;
import org.murmur.proto.v1.PullModelResponse;
import org.murmur.proto.v1.PushUpdateRequest;
import org.murmur.proto.v1.PutModelRequest;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.TensorSpec;
import org.murmur.proto.v1.UpdateHeader;
import org.murmur.proto.v1.UpdateKey;
import org.murmur.proto.v1.UploadOffset;
import org.murmur.proto.v1.UploadReceipt;

/**
 * A node's client of a Murmur server: pushes updates, pulls models and, for an admin, puts models
 * into the server's model store, over a channel the caller builds. Build that channel with
 * {@code maxInboundMessageSize(Wire.MAX_MESSAGE_BYTES)}, as the server sets its own limit (chunks
 * are {@link Wire#CHUNK_BYTES}, well below it), for example
 * <pre>{@code
 * ManagedChannel channel = Grpc.newChannelBuilderForAddress(host, port, credentials)
 *         .maxInboundMessageSize(Wire.MAX_MESSAGE_BYTES).build();
 * try (MurmurClient client = MurmurClient.builder(channel).ownsChannel(true).build()) {
 *     UploadReceipt receipt = client.pushUpdate(new UpdateUpload(keys, "mnist", 3, file, 600));
 *     ModelInfo model = client.pullModel(PullRequest.global("mnist"), Path.of("global.safetensors"));
 * }
 * }</pre>
 *
 * <p>Transfers survive transport failures: a call that ends with {@code UNAVAILABLE} or
 * {@code CANCELLED} is retried up to {@link Builder#maxAttempts} attempts in all, an upload from
 * the offset the server reports durable ({@code GetUploadOffset}, the authoritative answer), a
 * download from the length of its temporary file. Any other status is a refusal and throws
 * {@link RefusedException} at once. The methods block the calling thread; the client itself is
 * thread-safe and holds no state between calls.
 */
public final class MurmurClient implements AutoCloseable {
    private final Channel channel;
    private final ManagedChannel owned;
    private final MurmurGrpc.MurmurStub async;
    private final MurmurGrpc.MurmurBlockingStub blocking;
    private final int maxAttempts;
    private final Duration retryBackoff;

    private MurmurClient(Builder builder) {
        this.channel = builder.channel;
        this.owned = builder.ownsChannel ? (ManagedChannel) builder.channel : null;
        this.async = MurmurGrpc.newStub(channel);
        this.blocking = MurmurGrpc.newBlockingStub(channel);
        this.maxAttempts = builder.maxAttempts;
        this.retryBackoff = builder.retryBackoff;
    }

    /** A client over {@code channel} with default settings; closing the client leaves the channel open. */
    public static MurmurClient of(Channel channel) {
        return builder(channel).build();
    }

    public static Builder builder(Channel channel) {
        return new Builder(channel);
    }

    /** Settings of a {@link MurmurClient}. */
    public static final class Builder {
        private final Channel channel;
        private boolean ownsChannel;
        private int maxAttempts = 5;
        private Duration retryBackoff = Duration.ofMillis(250);

        private Builder(Channel channel) {
            this.channel = Objects.requireNonNull(channel, "channel");
        }

        /** Whether {@link MurmurClient#close} shuts the channel down (it must be a ManagedChannel); default false. */
        public Builder ownsChannel(boolean owns) {
            if (owns && !(channel instanceof ManagedChannel)) {
                throw new IllegalArgumentException("only a ManagedChannel can be owned by the client");
            }
            this.ownsChannel = owns;
            return this;
        }

        /** Attempts per transfer in all, the first included (at least 1; default 5). */
        public Builder maxAttempts(int attempts) {
            if (attempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be at least 1, was " + attempts);
            }
            this.maxAttempts = attempts;
            return this;
        }

        /** Pause before each retry (default 250 ms). */
        public Builder retryBackoff(Duration backoff) {
            if (backoff.isNegative()) {
                throw new IllegalArgumentException("retryBackoff must not be negative");
            }
            this.retryBackoff = backoff;
            return this;
        }

        public MurmurClient build() {
            return new MurmurClient(this);
        }
    }

    // -----------------------------------------------------------------------------------------
    // PushUpdate

    /**
     * Uploads a proposer's update and returns the server's receipt once the update is complete,
     * checked and durable. The manifest comes from the file's safetensors header, the size and
     * SHA-256 from its bytes (streamed); the file must not change during the upload. Each attempt
     * sends a freshly signed header (new random nonce): the first a new upload from offset 0, each
     * retry after a transport failure a resume from the offset {@code GetUploadOffset} reports
     * durable (or a new upload when the server holds nothing of it).
     *
     * @throws RefusedException   the server refused the update (status, reason trailer, message)
     * @throws TransportException every attempt failed on the transport
     * @throws IOException        the file cannot be read or is not a safetensors file
     */
    public UploadReceipt pushUpdate(UpdateUpload update) throws IOException, RefusedException {
        Objects.requireNonNull(update, "update");
        List<TensorSpec> manifest = manifestOf(update.file());
        RequestSigner signer = new RequestSigner(update.keys());
        try (FileChannel file = FileChannel.open(update.file(), StandardOpenOption.READ)) {
            long total = file.size();
            byte[] sha256 = sha256(file, total);
            UpdateHeader unsigned = UpdateHeader.newBuilder()
                    .setTaskId(update.taskId())
                    .setRound(update.round())
                    .addAllManifest(manifest)
                    .setTotalBytes(total)
                    .setSha256(ByteString.copyFrom(sha256))
                    .setNumSamples(update.numSamples())
                    .build();
            UpdateKey key = UpdateKey.newBuilder().setTaskId(update.taskId()).setRound(update.round())
                    .setNodeId(signer.nodeId().hex()).build();
            UploadRpc<PushUpdateRequest> rpc = new UploadRpc<>(
                    resume -> PushUpdateRequest.newBuilder().setHeader(signUpdate(signer, unsigned.toBuilder()
                            .setResume(resume))).build(),
                    chunk -> PushUpdateRequest.newBuilder().setChunk(chunk).build(),
                    GetUploadOffsetRequest.newBuilder().setUpdate(key).build(),
                    false,
                    async::pushUpdate);
            return upload(rpc, update.file(), file, total, sha256);
        }
    }

    // -----------------------------------------------------------------------------------------
    // PutModel

    /**
     * Uploads a model file (a task's initial model) into the server's model store as an admin and
     * returns the server's receipt once the model is complete, checked and durable. Manifest,
     * size and SHA-256 come from the file as for {@link #pushUpdate}; the header carries the
     * admin's public key. A model the server already holds, whole or in part, is not sent again:
     * the first attempt, like every retry, asks {@code GetUploadOffset} by the model's SHA-256 and
     * resumes from the durable offset (or answers at once when the model is stored).
     *
     * @throws RefusedException   the server refused the model (not an admin, a file not matching
     *                            its manifest, ...)
     * @throws TransportException every attempt failed on the transport
     * @throws IOException        the file cannot be read or is not a safetensors file
     */
    public UploadReceipt putModel(NodeKeys admin, Path model) throws IOException, RefusedException {
        Objects.requireNonNull(admin, "admin");
        List<TensorSpec> manifest = manifestOf(model);
        RequestSigner signer = new RequestSigner(admin);
        try (FileChannel file = FileChannel.open(model, StandardOpenOption.READ)) {
            long total = file.size();
            byte[] sha256 = sha256(file, total);
            ModelHeader unsigned = ModelHeader.newBuilder()
                    .addAllManifest(manifest)
                    .setTotalBytes(total)
                    .setSha256(ByteString.copyFrom(sha256))
                    .build();
            UploadRpc<PutModelRequest> rpc = new UploadRpc<>(
                    resume -> PutModelRequest.newBuilder().setHeader(signModel(signer, unsigned.toBuilder()
                            .setResume(resume))).build(),
                    chunk -> PutModelRequest.newBuilder().setChunk(chunk).build(),
                    GetUploadOffsetRequest.newBuilder().setModelSha256(ByteString.copyFrom(sha256)).build(),
                    true,
                    async::putModel);
            return upload(rpc, model, file, total, sha256);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Uploads

    /**
     * What differs between the upload RPCs on the client's side.
     *
     * @param header       a freshly signed header message, announcing a resume or a new upload
     * @param chunk        wraps a chunk in the RPC's request message
     * @param offsetQuery  the GetUploadOffset request of this upload
     * @param queryFirst   whether the first attempt asks for the durable offset too (a model is
     *                     named by its hash, so it may resume what an earlier process left)
     * @param start        starts a call of the RPC
     */
    private record UploadRpc<Q>(Function<Boolean, Q> header, Function<Chunk, Q> chunk,
                                GetUploadOffsetRequest offsetQuery, boolean queryFirst,
                                Consumer<ClientResponseObserver<Q, UploadReceipt>> start) {
    }

    /**
     * The upload loop of every upload RPC: each attempt one stream, from offset 0 or, after a
     * transport failure (or first, when {@code rpc.queryFirst()}), from the offset the server
     * reports durable; returns the complete receipt.
     */
    private <Q> UploadReceipt upload(UploadRpc<Q> rpc, Path path, FileChannel file, long total, byte[] sha256)
            throws IOException, RefusedException {
        long start = 0;
        boolean resume = false;
        boolean query = rpc.queryFirst();
        Exception last = null;
        for (int attempt = 1; ; attempt++) {
            try {
                if (query) {
                    UploadOffset offset = uploadOffset(rpc.offsetQuery());
                    if (offset == null) {
                        start = 0;
                        resume = false;
                    } else if (offset.getComplete()) {
                        return UploadReceipt.newBuilder().setSha256(ByteString.copyFrom(sha256))
                                .setDurableBytes(offset.getDurableBytes()).setComplete(true).build();
                    } else {
                        if (offset.getDurableBytes() > total) {
                            throw new IOException("the server reports " + offset.getDurableBytes()
                                    + " durable bytes of an upload of " + total + " bytes");
                        }
                        start = offset.getDurableBytes();
                        resume = true;
                    }
                }
                UploadCall<Q> call = new UploadCall<>(rpc.header().apply(resume), rpc.chunk(), file, start, total);
                rpc.start().accept(call);
                UploadReceipt receipt = await(call.result, call::cancel);
                if (receipt != null && receipt.getComplete()) {
                    return receipt;
                }
                last = new IOException("the server answered the stream with an incomplete receipt ("
                        + (receipt == null ? "none" : receipt.getDurableBytes() + " of " + total + " bytes durable")
                        + ")");
            } catch (StatusRuntimeException e) {
                if (!retryable(e, query)) {
                    throw RefusedException.of(e.getStatus(), e.getTrailers());
                }
                last = e;
            }
            query = true;
            if (attempt >= maxAttempts) {
                throw new TransportException("upload of " + path + " failed after " + attempt
                        + " attempts: " + last.getMessage(), last);
            }
            pause();
        }
    }

    /** The server's durable offset of the upload, or null when it holds none of it (NOT_FOUND). */
    private UploadOffset uploadOffset(GetUploadOffsetRequest query) {
        try {
            return blocking.getUploadOffset(query);
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                return null;
            }
            throw e;
        }
    }

    private static UpdateHeader signUpdate(RequestSigner signer, UpdateHeader.Builder header) {
        UpdateHeader built = header.clearAuth().build();
        return built.toBuilder()
                .setAuth(signer.auth(Purpose.PUSH_UPDATE, built.getTaskId(), built.getRound(), built))
                .build();
    }

    private static ModelHeader signModel(RequestSigner signer, ModelHeader.Builder header) {
        ModelHeader built = header.clearAuth().build();
        return built.toBuilder().setAuth(signer.auth(Purpose.PUT_MODEL, "", 0, built)).build();
    }

    // -----------------------------------------------------------------------------------------
    // PullModel

    /**
     * Downloads a model to {@code target}: into a temporary file in the same directory, resumed
     * from that file's length after a transport failure, then checked against the SHA-256 its
     * ModelInfo announced, fsynced and atomically renamed over {@code target}. On any failure the
     * temporary file is deleted and {@code target} is left as it was. Each call starts afresh; if
     * the server's announced model changes between attempts (a new global model), the download
     * restarts from 0.
     *
     * @return the model's ModelInfo as the server announced it
     * @throws RefusedException           the server refused the download
     * @throws ChecksumMismatchException  the bytes do not match the announced SHA-256
     * @throws TransportException         every attempt failed on the transport
     * @throws IOException                the file cannot be written, or the server broke the protocol
     */
    public ModelInfo pullModel(PullRequest which, Path target) throws IOException, RefusedException {
        Objects.requireNonNull(which, "which");
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Path part = Files.createTempFile(dir, "." + absolute.getFileName() + ".", ".part");
        boolean moved = false;
        try {
            ModelInfo info;
            try (FileChannel out = FileChannel.open(part, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                info = download(which, out, part);
                if (out.size() != info.getTotalBytes()) {
                    throw new IOException("the download of " + part + " ended at " + out.size() + " of "
                            + info.getTotalBytes() + " bytes");
                }
                byte[] actual = sha256(out, out.size());
                byte[] announced = info.getSha256().toByteArray();
                if (!Arrays.equals(actual, announced)) {
                    throw new ChecksumMismatchException("the downloaded model's SHA-256 is "
                            + HexFormat.of().formatHex(actual) + " but the server announced "
                            + HexFormat.of().formatHex(announced) + "; " + target + " was not written");
                }
                out.force(true);
            }
            try {
                Files.move(part, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot rename " + part + " atomically to " + absolute, e);
            }
            moved = true;
            syncDirectory(dir);
            return info;
        } finally {
            if (!moved) {
                Files.deleteIfExists(part);
            }
        }
    }

    private ModelInfo download(PullRequest which, FileChannel out, Path part) throws IOException, RefusedException {
        ModelInfo known = null;
        Exception last = null;
        for (int attempt = 1; ; attempt++) {
            long have = out.size();
            if (known != null && have == known.getTotalBytes()) {
                return known; // every byte arrived before the stream broke
            }
            PullCall call = new PullCall(out, have, known);
            try {
                async.pullModel(which.toProto(have), call);
                await(call.result, call::cancel);
                if (call.info == null) {
                    throw new IOException("the server ended PullModel without sending a ModelInfo");
                }
                return call.info;
            } catch (StatusRuntimeException e) {
                if (!retryable(e, false)) {
                    throw RefusedException.of(e.getStatus(), e.getTrailers());
                }
                last = e;
                if (call.info != null) {
                    known = call.info;
                }
            } catch (ModelChangedException e) {
                last = e;
                known = null;
                out.truncate(0);
            }
            if (attempt >= maxAttempts) {
                throw new TransportException("download to " + part + " failed after " + attempt + " attempts: "
                        + last.getMessage(), last);
            }
            pause();
        }
    }

    /** The server announced a different model on a resumed download: start again from 0. */
    private static final class ModelChangedException extends IOException {
        private static final long serialVersionUID = 1L;

        ModelChangedException(String message) {
            super(message);
        }
    }

    /** One PullModel stream, one message requested at a time, each chunk written before the next is requested. */
    private static final class PullCall implements ClientResponseObserver<PullModelRequest, PullModelResponse> {
        final CompletableFuture<Void> result = new CompletableFuture<>();
        private final FileChannel out;
        private final ModelInfo known;
        private long position;
        private ClientCallStreamObserver<PullModelRequest> call;
        volatile ModelInfo info;

        PullCall(FileChannel out, long position, ModelInfo known) {
            this.out = out;
            this.position = position;
            this.known = known;
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<PullModelRequest> requestStream) {
            this.call = requestStream;
            requestStream.disableAutoRequestWithInitial(1);
        }

        @Override
        public synchronized void onNext(PullModelResponse value) {
            if (result.isDone()) {
                return;
            }
            try {
                if (value.hasInfo()) {
                    if (info != null) {
                        throw new IOException("the server sent a second ModelInfo");
                    }
                    ModelInfo announced = value.getInfo();
                    if (known != null && (known.getTotalBytes() != announced.getTotalBytes()
                            || !known.getSha256().equals(announced.getSha256()))) {
                        throw new ModelChangedException("the server announced a different model on resuming");
                    }
                    info = announced;
                } else if (value.hasChunk()) {
                    if (info == null) {
                        throw new IOException("the server sent a chunk before the ModelInfo");
                    }
                    Chunk chunk = value.getChunk();
                    long size = chunk.getData().size();
                    if (chunk.getOffset() != position) {
                        throw new IOException("the server sent a chunk at offset " + chunk.getOffset()
                                + " where " + position + " was expected");
                    }
                    if (size == 0 || position + size > info.getTotalBytes()) {
                        throw new IOException("the server sent a chunk of " + size + " bytes at offset " + position
                                + " of a model of " + info.getTotalBytes() + " bytes");
                    }
                    for (ByteBuffer data : chunk.getData().asReadOnlyByteBufferList()) {
                        while (data.hasRemaining()) {
                            position += out.write(data, position);
                        }
                    }
                } else {
                    throw new IOException("the server sent an empty PullModelResponse");
                }
                call.request(1);
            } catch (IOException e) {
                result.completeExceptionally(e);
                call.cancel("the client gave up the download: " + e.getMessage(), e);
            }
        }

        synchronized void cancel() {
            if (call != null) {
                call.cancel("the client was interrupted", null);
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
            result.complete(null);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Helpers

    /**
     * Whether a failed call is a transport failure worth retrying: UNAVAILABLE, or the stream
     * cancelled. On a resume, TOO_MANY_STREAMS too: the server may not yet have noticed that the
     * broken stream of the same upload is gone.
     */
    private static boolean retryable(StatusRuntimeException e, boolean resuming) {
        Status.Code code = e.getStatus().getCode();
        if (code == Status.Code.UNAVAILABLE || code == Status.Code.CANCELLED) {
            return true;
        }
        return resuming && code == Status.Code.RESOURCE_EXHAUSTED && e.getTrailers() != null
                && RefusalReason.TOO_MANY_STREAMS.name().equals(e.getTrailers().get(Wire.REFUSAL_REASON));
    }

    private void pause() throws InterruptedIOException {
        if (retryBackoff.isZero()) {
            return;
        }
        try {
            Thread.sleep(retryBackoff.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting to retry");
        }
    }

    /** Waits for a call; rethrows its StatusRuntimeException or IOException as is. */
    private static <T> T await(CompletableFuture<T> result, Runnable cancel) throws IOException {
        try {
            return result.get();
        } catch (InterruptedException e) {
            cancel.run();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted during a transfer");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof StatusRuntimeException s) {
                throw s;
            }
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof io.grpc.StatusException s) {
                throw new StatusRuntimeException(s.getStatus(), s.getTrailers());
            }
            throw new IOException(cause);
        }
    }

    /** The manifest of a safetensors file, from its own header. */
    static List<TensorSpec> manifestOf(Path file) throws IOException {
        try (SafetensorsFile safetensors = SafetensorsFile.open(file)) {
            List<TensorSpec> specs = new ArrayList<>();
            for (TensorEntry tensor : safetensors.tensors()) {
                specs.add(TensorSpecs.of(tensor.name(), tensor.dtype(), tensor.shape()));
            }
            return specs;
        } catch (org.murmur.proto.safetensors.SafetensorsException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** SHA-256 of the first {@code length} bytes of {@code file}, read through one direct buffer. */
    private static byte[] sha256(FileChannel file, long length) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
        ByteBuffer buffer = ByteBuffer.allocateDirect(Wire.CHUNK_BYTES);
        for (long at = 0; at < length; ) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), length - at));
            UploadCall.readFully(file, buffer, at);
            buffer.flip();
            at += buffer.remaining();
            digest.update(buffer);
        }
        return digest.digest();
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // not every platform can fsync a directory; the rename itself is atomic
        }
    }

    /** Shuts down the channel if this client owns it (waiting up to 5 seconds); otherwise does nothing. */
    @Override
    public void close() {
        if (owned == null) {
            return;
        }
        owned.shutdown();
        try {
            if (!owned.awaitTermination(5, TimeUnit.SECONDS)) {
                owned.shutdownNow();
            }
        } catch (InterruptedException e) {
            owned.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
