package org.murmur.server.grpc;

import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;
import org.murmur.proto.v1.Chunk;
import org.murmur.proto.v1.ModelInfo;
import org.murmur.proto.v1.PullModelRequest;
import org.murmur.proto.v1.PullModelResponse;

/**
 * The client side of one PullModel call with manual flow control: one message requested at a
 * time, the next only once the previous chunk is stored. Optionally checks, before each request,
 * that the server has not sent more model bytes than this client has received (the server must
 * wait for the client's readiness).
 */
final class Downloader implements ClientResponseObserver<PullModelRequest, PullModelResponse> {
    /** What a finished download received. */
    record Result(ModelInfo info, byte[] bytes, List<Chunk> chunks) {
    }

    final CompletableFuture<Result> result = new CompletableFuture<>();
    private final LongSupplier serverBytesSent;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final List<Chunk> chunks = new ArrayList<>();
    private ClientCallStreamObserver<PullModelRequest> call;
    private ModelInfo info;
    private long received;
    private volatile String backPressureViolation;

    /** @param serverBytesSent the server's count of model bytes sent, or null for no check */
    Downloader(LongSupplier serverBytesSent) {
        this.serverBytesSent = serverBytesSent;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<PullModelRequest> requestStream) {
        this.call = requestStream;
        requestStream.disableAutoRequestWithInitial(1);
    }

    @Override
    public void onNext(PullModelResponse value) {
        if (value.hasInfo()) {
            info = value.getInfo();
        } else {
            Chunk chunk = value.getChunk().toBuilder().clearData().build();
            chunks.add(chunk);
            bytes.writeBytes(value.getChunk().getData().toByteArray());
            received += value.getChunk().getData().size();
        }
        if (serverBytesSent != null && serverBytesSent.getAsLong() > received && backPressureViolation == null) {
            backPressureViolation = "the server had sent " + serverBytesSent.getAsLong() + " bytes while the client had"
                    + " requested and received only " + received;
        }
        call.request(1);
    }

    /** Null when the server never ran ahead of the client. */
    String backPressureViolation() {
        return backPressureViolation;
    }

    @Override
    public void onError(Throwable t) {
        result.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
        result.complete(new Result(info, bytes.toByteArray(), chunks));
    }
}
