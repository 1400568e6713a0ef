package org.murmur.proto.client;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.murmur.proto.Wire;
import org.murmur.proto.v1.Chunk;
import org.murmur.proto.v1.UploadReceipt;

/**
 * One client-streaming upload call (PushUpdate, PutModel): the header message, then chunks read
 * from the file into fresh direct buffers and wrapped without a copy, sent only while the call is
 * ready; half-closed once, after the last chunk. A receipt that arrives early (the server already
 * holds the file) ends the sending.
 *
 * @param <Q> the RPC's request message
 */
final class UploadCall<Q> implements ClientResponseObserver<Q, UploadReceipt> {
    final CompletableFuture<UploadReceipt> result = new CompletableFuture<>();
    private final Q header;
    private final Function<Chunk, Q> chunkMessage;
    private final FileChannel file;
    private final long total;
    private long next;
    private ClientCallStreamObserver<Q> requests;
    private boolean headerSent;
    private boolean halfClosed;
    private volatile UploadReceipt receipt;

    /**
     * @param header       the signed header message
     * @param chunkMessage wraps a chunk in the RPC's request message
     * @param start        the offset of the first chunk
     */
    UploadCall(Q header, Function<Chunk, Q> chunkMessage, FileChannel file, long start, long total) {
        this.header = header;
        this.chunkMessage = chunkMessage;
        this.file = file;
        this.next = start;
        this.total = total;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<Q> requestStream) {
        this.requests = requestStream;
        requestStream.setOnReadyHandler(this::drain);
    }

    private synchronized void drain() {
        try {
            while (!result.isDone() && !halfClosed && requests.isReady()) {
                if (!headerSent) {
                    requests.onNext(header);
                    headerSent = true;
                } else if (next < total) {
                    int length = (int) Math.min(Wire.CHUNK_BYTES, total - next);
                    ByteBuffer data = ByteBuffer.allocateDirect(length);
                    readFully(file, data, next);
                    data.flip();
                    requests.onNext(chunkMessage.apply(Chunk.newBuilder().setOffset(next)
                            .setData(UnsafeByteOperations.unsafeWrap(data)).build()));
                    next += length;
                } else {
                    halfClosed = true;
                    requests.onCompleted();
                }
            }
        } catch (IOException e) {
            result.completeExceptionally(e);
            requests.cancel("the client cannot read the file", e);
        }
    }

    synchronized void cancel() {
        if (requests != null) {
            requests.cancel("the client was interrupted", null);
        }
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

    static void readFully(FileChannel file, ByteBuffer into, long position) throws IOException {
        long at = position;
        while (into.hasRemaining()) {
            int n = file.read(into, at);
            if (n < 0) {
                throw new IOException("the file ended at " + at + " bytes while being read; it must not change during"
                        + " a transfer");
            }
            at += n;
        }
    }
}
