package org.murmur.server.grpc;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import org.murmur.proto.v1.GetUploadOffsetRequest;
import org.murmur.proto.v1.PushUpdateRequest;
import org.murmur.proto.v1.PutModelRequest;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.UploadOffset;
import org.murmur.proto.v1.UploadReceipt;
import org.murmur.server.store.ModelStore;
import org.murmur.server.store.UpdateKey;
import org.murmur.server.store.UpdateStore;
import org.murmur.server.store.UploadStatus;

/**
 * The upload RPCs: PushUpdate (proposers stream their updates into the {@link UpdateStore}),
 * PutModel (admins stream models into the {@link ModelStore}) and GetUploadOffset (where an
 * interrupted upload of either resumes). Both streams run on the same machinery,
 * {@link UploadStream}; what differs is in their {@link UploadTarget}: {@link UpdateTarget} and
 * {@link ModelTarget}. Every refusal is counted by reason, logged in one line with its context and
 * sent with the {@code murmur-refusal} trailer. Thread-safe.
 */
public final class UploadService {
    private static final System.Logger LOG = System.getLogger(UploadService.class.getName());
    private static final HexFormat HEX = HexFormat.of();

    private final UpdateStore store;
    private final UploadStreams streams;
    private final UpdateTarget updates;
    private final ModelTarget models;

    /**
     * @param models where PutModel stores models; admins come from {@link ServerConfig#admins()}
     * @param timer  runs the idle-deadline checks; owned by the caller, which shuts it down
     */
    public UploadService(ServerConfig config, UpdateStore store, ModelStore models, RoundGate gate,
                         NonceRegistry nonces, GrpcMetrics metrics, ScheduledExecutorService timer) {
        this.store = Objects.requireNonNull(store, "store");
        Objects.requireNonNull(gate, "gate");
        HeaderChecks checks = new HeaderChecks(config, new RequestAuthenticator(gate::publicKey), nonces);
        this.streams = new UploadStreams(config, store, metrics, timer);
        this.updates = new UpdateTarget(checks, gate, store, metrics);
        this.models = new ModelTarget(checks, new Admins(config.admins()), models, store, metrics);
    }

    /** The PushUpdate handler: call from {@code MurmurImplBase#pushUpdate}. */
    public StreamObserver<PushUpdateRequest> pushUpdate(StreamObserver<UploadReceipt> responseObserver) {
        return streams.open(updates, responseObserver);
    }

    /** The PutModel handler: call from {@code MurmurImplBase#putModel}. */
    public StreamObserver<PutModelRequest> putModel(StreamObserver<UploadReceipt> responseObserver) {
        return streams.open(models, responseObserver);
    }

    /** The GetUploadOffset handler: where an interrupted upload resumes. */
    public void getUploadOffset(GetUploadOffsetRequest request, StreamObserver<UploadOffset> response) {
        String context = "GetUploadOffset";
        try {
            UploadOffset offset;
            switch (request.getTargetCase()) {
                case UPDATE -> {
                    org.murmur.proto.v1.UpdateKey target = request.getUpdate();
                    context = "GetUploadOffset from node " + target.getNodeId() + ", task " + target.getTaskId()
                            + ", round " + Long.toUnsignedString(target.getRound());
                    UpdateKey key = UpdateTarget.key(target.getTaskId(), target.getRound(), target.getNodeId(),
                            "update");
                    offset = offset(store.status(key), "this update (" + key + ")").build();
                }
                case MODEL_SHA256 -> {
                    String hex = HEX.formatHex(request.getModelSha256().toByteArray());
                    context = "GetUploadOffset of model " + hex;
                    offset = offset(models.status(request.getModelSha256()), "model " + hex)
                            .setSha256(request.getModelSha256()).build();
                }
                default -> throw new Refusal(RefusalReason.MALFORMED_REQUEST,
                        "set the request's target: update (task, round, node) or model_sha256");
            }
            response.onNext(offset);
            response.onCompleted();
        } catch (Refusal refusal) {
            streams.refused(refusal, context);
            response.onError(refusal.toStatusException());
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, Refusal.logSafe(context + " failed"), e);
            response.onError(Status.INTERNAL.withDescription("the server could not read the upload's state: " + e)
                    .asRuntimeException());
        }
    }

    private static UploadOffset.Builder offset(UploadStatus status, String what) throws Refusal {
        UploadOffset.Builder offset = UploadOffset.newBuilder();
        switch (status.state()) {
            case ABSENT -> throw new Refusal(RefusalReason.NOTHING_TO_RESUME, "no bytes of " + what
                    + " are stored: start a new upload from offset 0");
            case COMPLETE -> offset.setComplete(true).setDurableBytes(status.durableBytes())
                    .setTotalBytes(status.totalBytes());
            case PARTIAL, ACTIVE -> offset.setDurableBytes(status.durableBytes())
                    .setTotalBytes(Math.max(0, status.totalBytes()));
        }
        return offset;
    }
}
