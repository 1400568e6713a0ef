package org.murmur.proto.client;

import com.google.protobuf.ByteString;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.Iterator;
import java.util.Objects;
import java.util.OptionalLong;
import org.murmur.proto.VoteCommitment;
import org.murmur.proto.identity.NodeKeys;
import org.murmur.proto.identity.Purpose;
import org.murmur.proto.identity.RequestSigner;
import org.murmur.proto.v1.Assignment;
import org.murmur.proto.v1.CommitVoteRequest;
import org.murmur.proto.v1.CreateTaskRequest;
import org.murmur.proto.v1.GetAssignmentRequest;
import org.murmur.proto.v1.GetTaskRequest;
import org.murmur.proto.v1.JoinRequest;
import org.murmur.proto.v1.JoinResponse;
import org.murmur.proto.v1.MurmurGrpc;
import org.murmur.proto.v1.RevealVoteRequest;
import org.murmur.proto.v1.RoundEvent;
import org.murmur.proto.v1.StakeRequest;
import org.murmur.proto.v1.TaskInfo;
import org.murmur.proto.v1.TaskParams;
import org.murmur.proto.v1.VoteAck;
import org.murmur.proto.v1.WatchRoundRequest;
import org.murmur.proto.v1.WithdrawRequest;

/**
 * A node's side of tasks, stakes, rounds and votes: every state-changing request signed with the
 * node's key and a fresh nonce. Requests are not retried (a retried Stake could count twice if the
 * first reached the server): a transport failure throws {@link TransportException}, a refusal
 * {@link RefusedException} with the server's reason. Blocking; thread-safe.
 */
public final class RoundClient {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Bytes of a vote's salt. */
    public static final int SALT_BYTES = 32;

    private final MurmurGrpc.MurmurBlockingStub stub;
    private final RequestSigner signer;

    public RoundClient(Channel channel, NodeKeys keys) {
        this.stub = MurmurGrpc.newBlockingStub(Objects.requireNonNull(channel, "channel"));
        this.signer = new RequestSigner(Objects.requireNonNull(keys, "keys"));
    }

    /** This node's id, as the server knows it. */
    public String nodeId() {
        return signer.nodeId().hex();
    }

    /** Creates a task (the node must be one of the server's admins). */
    public TaskInfo createTask(String taskId, TaskParams params) throws RefusedException, TransportException {
        CreateTaskRequest.Builder request = CreateTaskRequest.newBuilder().setTaskId(taskId).setParams(params);
        request.setAuth(signer.auth(Purpose.CREATE_TASK, taskId, 0, request));
        return call(() -> stub.createTask(request.build()));
    }

    public TaskInfo task(String taskId) throws RefusedException, TransportException {
        return call(() -> stub.getTask(GetTaskRequest.newBuilder().setTaskId(taskId).build()));
    }

    /** Adds {@code amount} token units to this node's stake; returns the stake after the deposit. */
    public BigInteger stake(String taskId, BigInteger amount) throws RefusedException, TransportException {
        StakeRequest.Builder request = StakeRequest.newBuilder().setTaskId(taskId).setAmount(amount.toString());
        request.setAuth(signer.auth(Purpose.STAKE, taskId, 0, request));
        return new BigInteger(call(() -> stub.stake(request.build())).getTotalStake());
    }

    public JoinResponse join(String taskId, long round) throws RefusedException, TransportException {
        JoinRequest.Builder request = JoinRequest.newBuilder().setTaskId(taskId).setRound(round);
        request.setAuth(signer.auth(Purpose.JOIN, taskId, round, request));
        return call(() -> stub.join(request.build()));
    }

    /** This node's role in a round (FAILED_PRECONDITION before the draw). */
    public Assignment assignment(String taskId, long round) throws RefusedException, TransportException {
        return call(() -> stub.getAssignment(GetAssignmentRequest.newBuilder().setTaskId(taskId).setRound(round)
                .setNodeId(nodeId()).build()));
    }

    /**
     * Commits a vote on the round's candidate with a fresh random salt, and returns the ballot to
     * reveal in the reveal phase.
     *
     * @param score +1 when the candidate is at least as good as the previous global model, -1 otherwise
     */
    public Ballot commitVote(String taskId, long round, ByteString candidateSha256, int score, double metric)
            throws RefusedException, TransportException {
        byte[] salt = new byte[SALT_BYTES];
        RANDOM.nextBytes(salt);
        Ballot ballot = new Ballot(taskId, round, candidateSha256, score, metric, ByteString.copyFrom(salt));
        byte[] commitment = VoteCommitment.of(taskId, round, nodeId(), candidateSha256.toByteArray(), score, metric,
                salt);
        CommitVoteRequest.Builder request = CommitVoteRequest.newBuilder().setTaskId(taskId).setRound(round)
                .setCommitment(ByteString.copyFrom(commitment));
        request.setAuth(signer.auth(Purpose.COMMIT_VOTE, taskId, round, request));
        call(() -> stub.commitVote(request.build()));
        return ballot;
    }

    public VoteAck revealVote(Ballot ballot) throws RefusedException, TransportException {
        RevealVoteRequest.Builder request = RevealVoteRequest.newBuilder().setTaskId(ballot.taskId())
                .setRound(ballot.round()).setScore(ballot.score()).setMetric(ballot.metric()).setSalt(ballot.salt());
        request.setAuth(signer.auth(Purpose.REVEAL_VOTE, ballot.taskId(), ballot.round(), request));
        return call(() -> stub.revealVote(request.build()));
    }

    /** Withdraws stake and rewards after the task has finished; returns the amount paid out. */
    public BigInteger withdraw(String taskId) throws RefusedException, TransportException {
        WithdrawRequest.Builder request = WithdrawRequest.newBuilder().setTaskId(taskId);
        request.setAuth(signer.auth(Purpose.WITHDRAW, taskId, 0, request));
        return new BigInteger(call(() -> stub.withdraw(request.build())).getAmount());
    }

    /**
     * The task's round events, blocking on each: the current state first, then (from
     * {@code fromRound} on, when given) past events, then live ones until TaskFinished. A refusal
     * or transport failure while iterating surfaces as a {@link StatusRuntimeException}.
     */
    public Iterator<RoundEvent> watch(String taskId, OptionalLong fromRound) {
        WatchRoundRequest.Builder request = WatchRoundRequest.newBuilder().setTaskId(taskId);
        fromRound.ifPresent(request::setFromRound);
        return stub.watchRound(request.build());
    }

    /**
     * A committed vote, kept by the voter until it reveals it. The salt is secret until then.
     */
    public record Ballot(String taskId, long round, ByteString candidateSha256, int score, double metric,
                         ByteString salt) {
    }

    @FunctionalInterface
    private interface Call<T> {
        T run();
    }

    private static <T> T call(Call<T> call) throws RefusedException, TransportException {
        try {
            return call.run();
        } catch (StatusRuntimeException e) {
            Status.Code code = e.getStatus().getCode();
            if (code == Status.Code.UNAVAILABLE || code == Status.Code.CANCELLED) {
                throw new TransportException("the request did not reach a decision: " + e.getStatus(), e);
            }
            throw RefusedException.of(e.getStatus(), e.getTrailers());
        }
    }
}
