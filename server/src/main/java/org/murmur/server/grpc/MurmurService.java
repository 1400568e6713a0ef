package org.murmur.server.grpc;

import io.grpc.stub.StreamObserver;
import java.util.Objects;
import java.util.Optional;
import org.murmur.proto.v1.Assignment;
import org.murmur.proto.v1.CommitVoteRequest;
import org.murmur.proto.v1.CreateTaskRequest;
import org.murmur.proto.v1.GetAssignmentRequest;
import org.murmur.proto.v1.GetTaskRequest;
import org.murmur.proto.v1.GetUploadOffsetRequest;
import org.murmur.proto.v1.JoinRequest;
import org.murmur.proto.v1.JoinResponse;
import org.murmur.proto.v1.MurmurGrpc;
import org.murmur.proto.v1.PullModelRequest;
import org.murmur.proto.v1.PullModelResponse;
import org.murmur.proto.v1.PushUpdateRequest;
import org.murmur.proto.v1.PutModelRequest;
import org.murmur.proto.v1.RevealVoteRequest;
import org.murmur.proto.v1.RoundEvent;
import org.murmur.proto.v1.StakeRequest;
import org.murmur.proto.v1.StakeResponse;
import org.murmur.proto.v1.TaskInfo;
import org.murmur.proto.v1.UploadOffset;
import org.murmur.proto.v1.UploadReceipt;
import org.murmur.proto.v1.VoteAck;
import org.murmur.proto.v1.WatchRoundRequest;
import org.murmur.proto.v1.WithdrawRequest;
import org.murmur.proto.v1.WithdrawResponse;

/**
 * The {@code murmur.v1.Murmur} service: delegates each RPC family to its own class (uploads of
 * updates and models to {@link UploadService}, downloads to {@link ModelService}, tasks, stakes, rounds and votes to
 * {@link RoundService}, events to {@link RoundWatchService}). A front built without the round
 * services (an upload-only front over a hand-driven {@link RoundGate}) answers their RPCs
 * UNIMPLEMENTED.
 */
public final class MurmurService extends MurmurGrpc.MurmurImplBase {
    private final UploadService uploads;
    private final ModelService models;
    private final Optional<RoundService> rounds;
    private final Optional<RoundWatchService> watches;

    public MurmurService(UploadService uploads, ModelService models, Optional<RoundService> rounds,
                         Optional<RoundWatchService> watches) {
        this.uploads = Objects.requireNonNull(uploads, "uploads");
        this.models = Objects.requireNonNull(models, "models");
        this.rounds = Objects.requireNonNull(rounds, "rounds");
        this.watches = Objects.requireNonNull(watches, "watches");
    }

    @Override
    public StreamObserver<PushUpdateRequest> pushUpdate(StreamObserver<UploadReceipt> responseObserver) {
        return uploads.pushUpdate(responseObserver);
    }

    @Override
    public StreamObserver<PutModelRequest> putModel(StreamObserver<UploadReceipt> responseObserver) {
        return uploads.putModel(responseObserver);
    }

    @Override
    public void getUploadOffset(GetUploadOffsetRequest request, StreamObserver<UploadOffset> responseObserver) {
        uploads.getUploadOffset(request, responseObserver);
    }

    @Override
    public void pullModel(PullModelRequest request, StreamObserver<PullModelResponse> responseObserver) {
        models.pullModel(request, responseObserver);
    }

    @Override
    public void createTask(CreateTaskRequest request, StreamObserver<TaskInfo> responseObserver) {
        rounds.ifPresentOrElse(r -> r.createTask(request, responseObserver),
                () -> super.createTask(request, responseObserver));
    }

    @Override
    public void getTask(GetTaskRequest request, StreamObserver<TaskInfo> responseObserver) {
        rounds.ifPresentOrElse(r -> r.getTask(request, responseObserver),
                () -> super.getTask(request, responseObserver));
    }

    @Override
    public void stake(StakeRequest request, StreamObserver<StakeResponse> responseObserver) {
        rounds.ifPresentOrElse(r -> r.stake(request, responseObserver), () -> super.stake(request, responseObserver));
    }

    @Override
    public void join(JoinRequest request, StreamObserver<JoinResponse> responseObserver) {
        rounds.ifPresentOrElse(r -> r.join(request, responseObserver), () -> super.join(request, responseObserver));
    }

    @Override
    public void getAssignment(GetAssignmentRequest request, StreamObserver<Assignment> responseObserver) {
        rounds.ifPresentOrElse(r -> r.getAssignment(request, responseObserver),
                () -> super.getAssignment(request, responseObserver));
    }

    @Override
    public void commitVote(CommitVoteRequest request, StreamObserver<VoteAck> responseObserver) {
        rounds.ifPresentOrElse(r -> r.commitVote(request, responseObserver),
                () -> super.commitVote(request, responseObserver));
    }

    @Override
    public void revealVote(RevealVoteRequest request, StreamObserver<VoteAck> responseObserver) {
        rounds.ifPresentOrElse(r -> r.revealVote(request, responseObserver),
                () -> super.revealVote(request, responseObserver));
    }

    @Override
    public void withdraw(WithdrawRequest request, StreamObserver<WithdrawResponse> responseObserver) {
        rounds.ifPresentOrElse(r -> r.withdraw(request, responseObserver),
                () -> super.withdraw(request, responseObserver));
    }

    @Override
    public void watchRound(WatchRoundRequest request, StreamObserver<RoundEvent> responseObserver) {
        watches.ifPresentOrElse(w -> w.watchRound(request, responseObserver),
                () -> super.watchRound(request, responseObserver));
    }
}
