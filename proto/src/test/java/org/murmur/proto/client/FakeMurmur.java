package org.murmur.proto.client;

import com.google.protobuf.ByteString;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.murmur.proto.Wire;
import org.murmur.proto.v1.Chunk;
import org.murmur.proto.v1.GetUploadOffsetRequest;
import org.murmur.proto.v1.ModelInfo;
import org.murmur.proto.v1.MurmurGrpc;
import org.murmur.proto.v1.PullModelRequest;
import org.murmur.proto.v1.PullModelResponse;
import org.murmur.proto.v1.PushUpdateRequest;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.UpdateHeader;
import org.murmur.proto.v1.UploadOffset;
import org.murmur.proto.v1.UploadReceipt;

/**
 * A stand-in Murmur service for the client's tests: keeps one update in memory (durable = what
 * it received, rounded down to whole chunks when a stream breaks), can drop a stream once
 * halfway, refuse every upload, and serve a model with an optional mid-stream failure or a wrong
 * announced SHA-256.
 */
final class FakeMurmur extends MurmurGrpc.MurmurImplBase {
    /** Every header received, in order. */
    final List<UpdateHeader> headers = new CopyOnWriteArrayList<>();
    /** Offsets of every chunk received, in order. */
    final List<Long> chunkOffsets = new CopyOnWriteArrayList<>();
    final AtomicInteger getUploadOffsetCalls = new AtomicInteger();
    final AtomicInteger pullCalls = new AtomicInteger();
    final List<Long> pullOffsets = new CopyOnWriteArrayList<>();

    /** Bytes of the update held (durable). */
    private final ByteArrayOutputStream update = new ByteArrayOutputStream();
    private volatile boolean complete;

    /** Drop the first upload stream (UNAVAILABLE) once this many bytes arrived; -1: never. */
    volatile long dropUploadAfter = -1;
    /** Refuse every upload header with this status and reason; null: accept. */
    volatile Status refuseWith;
    volatile RefusalReason refusalReason;

    /** The model served, and the SHA-256 announced (null: the real one). */
    volatile byte[] model;
    volatile byte[] announcedSha256;
    /** Fail the first download stream (UNAVAILABLE) after this many bytes; -1: never. */
    volatile long dropDownloadAfter = -1;

    synchronized byte[] update() {
        return update.toByteArray();
    }

    boolean complete() {
        return complete;
    }

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static void refuse(StreamObserver<?> response, Status status, RefusalReason reason, String message) {
        Metadata trailers = new Metadata();
        trailers.put(Wire.REFUSAL_REASON, reason.name());
        response.onError(status.withDescription(message).asRuntimeException(trailers));
    }

    @Override
    public StreamObserver<PushUpdateRequest> pushUpdate(StreamObserver<UploadReceipt> response) {
        return new StreamObserver<>() {
            UpdateHeader header;
            boolean closed;

            @Override
            public void onNext(PushUpdateRequest request) {
                synchronized (FakeMurmur.this) {
                    if (closed) {
                        return;
                    }
                    if (header == null) {
                        header = request.getHeader();
                        headers.add(header);
                        if (refuseWith != null) {
                            closed = true;
                            refuse(response, refuseWith, refusalReason, "refused by the fake: try another round");
                            return;
                        }
                        if (!header.getResume()) {
                            update.reset();
                        }
                        return;
                    }
                    Chunk chunk = request.getChunk();
                    chunkOffsets.add(chunk.getOffset());
                    if (chunk.getOffset() != update.size()) {
                        closed = true;
                        refuse(response, Status.OUT_OF_RANGE, RefusalReason.CHUNK_OUT_OF_ORDER,
                                "expected offset " + update.size() + ", got " + chunk.getOffset());
                        return;
                    }
                    update.writeBytes(chunk.getData().toByteArray());
                    if (dropUploadAfter >= 0 && update.size() >= dropUploadAfter) {
                        dropUploadAfter = -1;
                        closed = true;
                        // only whole chunks are durable: the client must resume where this says
                        long durable = Math.max(0, (update.size() / Wire.CHUNK_BYTES - 1) * (long) Wire.CHUNK_BYTES);
                        byte[] kept = update.toByteArray();
                        update.reset();
                        update.write(kept, 0, (int) durable);
                        response.onError(Status.UNAVAILABLE.withDescription("fake drops the stream")
                                .asRuntimeException());
                    }
                }
            }

            @Override
            public void onError(Throwable t) {
                synchronized (FakeMurmur.this) {
                    closed = true;
                }
            }

            @Override
            public void onCompleted() {
                synchronized (FakeMurmur.this) {
                    if (closed) {
                        return;
                    }
                    closed = true;
                    byte[] bytes = update.toByteArray();
                    complete = bytes.length == header.getTotalBytes();
                    response.onNext(UploadReceipt.newBuilder().setSha256(ByteString.copyFrom(sha256(bytes)))
                            .setDurableBytes(bytes.length).setComplete(complete).build());
                    response.onCompleted();
                }
            }
        };
    }

    @Override
    public void getUploadOffset(GetUploadOffsetRequest request, StreamObserver<UploadOffset> response) {
        getUploadOffsetCalls.incrementAndGet();
        synchronized (this) {
            if (headers.isEmpty()) {
                refuse(response, Status.NOT_FOUND, RefusalReason.NOTHING_TO_RESUME, "nothing stored");
                return;
            }
            response.onNext(UploadOffset.newBuilder().setDurableBytes(update.size())
                    .setTotalBytes(headers.get(0).getTotalBytes()).setComplete(complete).build());
        }
        response.onCompleted();
    }

    @Override
    public void pullModel(PullModelRequest request, StreamObserver<PullModelResponse> response) {
        pullCalls.incrementAndGet();
        pullOffsets.add(request.getOffset());
        byte[] bytes = model;
        if (bytes == null) {
            refuse(response, Status.NOT_FOUND, RefusalReason.UNKNOWN_MODEL, "no candidate for round "
                    + request.getRound() + " yet");
            return;
        }
        ServerCallStreamObserver<PullModelResponse> call = (ServerCallStreamObserver<PullModelResponse>) response;
        byte[] sha = announcedSha256 != null ? announcedSha256 : sha256(bytes);
        call.onNext(PullModelResponse.newBuilder().setInfo(ModelInfo.newBuilder().setTotalBytes(bytes.length)
                .setSha256(ByteString.copyFrom(sha))).build());
        long drop = dropDownloadAfter;
        for (long at = request.getOffset(); at < bytes.length; at += Wire.CHUNK_BYTES) {
            if (drop >= 0 && at >= drop) {
                dropDownloadAfter = -1;
                call.onError(Status.UNAVAILABLE.withDescription("fake drops the download").asRuntimeException());
                return;
            }
            int length = (int) Math.min(Wire.CHUNK_BYTES, bytes.length - at);
            call.onNext(PullModelResponse.newBuilder().setChunk(Chunk.newBuilder().setOffset(at)
                    .setData(ByteString.copyFrom(bytes, (int) at, length))).build());
        }
        call.onCompleted();
    }
}
