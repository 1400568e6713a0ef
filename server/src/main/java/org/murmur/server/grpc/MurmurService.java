package org.murmur.server.grpc;

import io.grpc.stub.StreamObserver;
import java.util.Objects;
import org.murmur.proto.v1.GetUploadOffsetRequest;
import org.murmur.proto.v1.MurmurGrpc;
import org.murmur.proto.v1.PullModelRequest;
import org.murmur.proto.v1.PullModelResponse;
import org.murmur.proto.v1.PushUpdateRequest;
import org.murmur.proto.v1.UploadOffset;
import org.murmur.proto.v1.UploadReceipt;

/**
 * The {@code murmur.v1.Murmur} service: delegates each RPC family to its own class (uploads to
 * {@link UploadService}, downloads to {@link ModelService}). RPCs not served yet (tasks, stakes,
 * rounds, votes, events) answer UNIMPLEMENTED.
 */
public final class MurmurService extends MurmurGrpc.MurmurImplBase {
    private final UploadService uploads;
    private final ModelService models;

    public MurmurService(UploadService uploads, ModelService models) {
        this.uploads = Objects.requireNonNull(uploads, "uploads");
        this.models = Objects.requireNonNull(models, "models");
    }

    @Override
    public StreamObserver<PushUpdateRequest> pushUpdate(StreamObserver<UploadReceipt> responseObserver) {
        return uploads.pushUpdate(responseObserver);
    }

    @Override
    public void getUploadOffset(GetUploadOffsetRequest request, StreamObserver<UploadOffset> responseObserver) {
        uploads.getUploadOffset(request, responseObserver);
    }

    @Override
    public void pullModel(PullModelRequest request, StreamObserver<PullModelResponse> responseObserver) {
        models.pullModel(request, responseObserver);
    }
}
