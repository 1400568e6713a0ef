package org.murmur.server.grpc;

import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import java.util.function.ToIntFunction;
import org.murmur.proto.v1.UploadReceipt;

/**
 * The client side of one upload call (PushUpdate, PutModel) with manual flow control: messages
 * are sent only while the call is ready (from the on-ready handler), and the half-close is sent
 * once, after the last message, only when asked for. Without it the stream stays open until
 * cancelled, refused or answered.
 */
class ClientUpload<Q> implements ClientResponseObserver<Q, UploadReceipt> {
    final CompletableFuture<UploadReceipt> result = new CompletableFuture<>();
    private final Deque<Q> pending;
    private final boolean halfClose;
    private ClientCallStreamObserver<Q> requests;
    private UploadReceipt receipt;
    private boolean halfClosed;
    private int sent;
    private final LongSupplier serverBytesWritten;
    private final ToIntFunction<Q> chunkBytes;
    private long chunkBytesSent;
    private volatile String flowControlViolation;

    /**
     * @param serverBytesWritten the server's count of uploaded bytes written, or null for no check.
     *                           With it, every send checks that the server has written every chunk
     *                           sent before (the in-process transport makes a client ready only
     *                           when the server has requested a message, so this holds exactly when
     *                           the server requests the next message only after writing a chunk)
     * @param chunkBytes         the bytes of a message's chunk (0 for a header)
     */
    ClientUpload(List<Q> messages, boolean halfClose, LongSupplier serverBytesWritten, ToIntFunction<Q> chunkBytes) {
        this.pending = new ArrayDeque<>(messages);
        this.halfClose = halfClose;
        this.serverBytesWritten = serverBytesWritten;
        this.chunkBytes = chunkBytes;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<Q> requestStream) {
        this.requests = requestStream;
        requestStream.setOnReadyHandler(this::drain);
    }

    private synchronized void drain() {
        while (!pending.isEmpty() && requests.isReady() && !result.isDone()) {
            if (serverBytesWritten != null && serverBytesWritten.getAsLong() < chunkBytesSent
                    && flowControlViolation == null) {
                flowControlViolation = "the client was ready to send more after " + chunkBytesSent
                        + " chunk bytes, but the server had written only " + serverBytesWritten.getAsLong();
            }
            Q next = pending.poll();
            requests.onNext(next);
            chunkBytesSent += chunkBytes.applyAsInt(next);
            sent++;
        }
        if (pending.isEmpty() && halfClose && !halfClosed && !result.isDone()) {
            halfClosed = true;
            requests.onCompleted();
        }
    }

    /** Null when the server never asked for a message before writing the previous chunk. */
    String flowControlViolation() {
        return flowControlViolation;
    }

    synchronized int sent() {
        return sent;
    }

    /** Cancels the call, as a client that dies or gives up would. */
    void cancel() {
        requests.cancel("test cancels the upload", null);
    }

    @Override
    public void onNext(UploadReceipt value) {
        receipt = value;
    }

    @Override
    public void onError(Throwable t) {
        result.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
        result.complete(receipt);
    }
}
