package org.murmur.server.grpc;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.math.BigInteger;
import java.util.Objects;
import java.util.Set;
import org.murmur.proto.identity.Ed25519;
import org.murmur.proto.identity.NodeId;
import org.murmur.proto.identity.Purpose;
import org.murmur.proto.v1.Assignment;
import org.murmur.proto.v1.CommitVoteRequest;
import org.murmur.proto.v1.CreateTaskRequest;
import org.murmur.proto.v1.GetAssignmentRequest;
import org.murmur.proto.v1.GetTaskRequest;
import org.murmur.proto.v1.JoinRequest;
import org.murmur.proto.v1.JoinResponse;
import org.murmur.proto.v1.Phase;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.RevealVoteRequest;
import org.murmur.proto.v1.Role;
import org.murmur.proto.v1.StakeRequest;
import org.murmur.proto.v1.StakeResponse;
import org.murmur.proto.v1.TaskInfo;
import org.murmur.proto.v1.VoteAck;
import org.murmur.proto.v1.WithdrawRequest;
import org.murmur.proto.v1.WithdrawResponse;
import org.murmur.server.economics.Tokens;
import org.murmur.server.ledger.LedgerRecord;
import org.murmur.server.round.LedgerEvents;
import org.murmur.server.round.TaskEngine;
import org.murmur.server.round.TaskRegistry;
import org.murmur.server.round.TaskState;

/**
 * The task, stake, round and vote RPCs: each request is authenticated (signed requests), checked by
 * the task's engine against the FL Alliance rules, recorded in the task's ledger (durable before the
 * answer), and answered; every refusal is a status with its {@code murmur-refusal} trailer and a
 * counted reason. Thread-safe.
 */
public final class RoundService {
    private static final System.Logger LOG = System.getLogger(RoundService.class.getName());

    private final TaskRegistry tasks;
    private final Admins admins;
    private final RequestAuthenticator authenticator;
    private final GrpcMetrics metrics;

    /** @param admins node ids allowed to create tasks and upload models */
    public RoundService(TaskRegistry tasks, Set<NodeId> admins, GrpcMetrics metrics) {
        this.tasks = Objects.requireNonNull(tasks, "tasks");
        this.admins = new Admins(admins);
        this.authenticator = new RequestAuthenticator(tasks::publicKey);
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    @FunctionalInterface
    private interface Handler<T> {
        T handle() throws Refusal, IOException;
    }

    private <T> void answer(String rpc, StreamObserver<T> call, Handler<T> handler) {
        T response;
        try {
            response = handler.handle();
        } catch (Refusal refusal) {
            metrics.roundRefused(refusal.reason());
            LOG.log(System.Logger.Level.INFO, Refusal.logSafe(rpc + " refused: " + refusal.reason().name() + ": "
                    + refusal.getMessage()));
            call.onError(refusal.toStatusException());
            return;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, rpc + " failed", e);
            call.onError(Status.UNAVAILABLE.withDescription(rpc + " could not be recorded (" + e.getMessage()
                    + "); retry later with a fresh nonce").asRuntimeException());
            return;
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, rpc + " failed", e);
            call.onError(Status.INTERNAL.withDescription(rpc + " failed on the server: " + e).asRuntimeException());
            return;
        }
        call.onNext(response);
        call.onCompleted();
    }

    public void createTask(CreateTaskRequest request, StreamObserver<TaskInfo> call) {
        answer("CreateTask", call, () -> {
            requireAuth(request.hasAuth());
            RequestAuthenticator.Signer admin = authenticator.authenticate(Purpose.CREATE_TASK, request.getTaskId(), 0,
                    request, request.getAuth(), "auth", true);
            admins.require(admin.node(), "create tasks");
            TaskEngine engine = tasks.create(request.getTaskId(), request.getParams(), admin.node(), admin.key(),
                    request.getAuth().getNonce());
            return engine.read(TaskInfos::of);
        });
    }

    public void getTask(GetTaskRequest request, StreamObserver<TaskInfo> call) {
        answer("GetTask", call, () -> tasks.task(request.getTaskId()).read(TaskInfos::of));
    }

    public void stake(StakeRequest request, StreamObserver<StakeResponse> call) {
        answer("Stake", call, () -> {
            requireAuth(request.hasAuth());
            RequestAuthenticator.Signer node = authenticator.authenticate(Purpose.STAKE, request.getTaskId(), 0,
                    request, request.getAuth(), "auth", true);
            BigInteger amount;
            try {
                amount = Tokens.parse("amount", request.getAmount());
            } catch (IllegalArgumentException e) {
                throw new Refusal(RefusalReason.INVALID_PARAMETER, e.getMessage());
            }
            TaskEngine engine = tasks.task(request.getTaskId());
            ByteString key = ByteString.copyFrom(Ed25519.rawPublicKey(node.key()));
            LedgerRecord staked = engine.stake(node.node().toString(), key, amount, request.getAuth().getNonce());
            return StakeResponse.newBuilder().setTotalStake(LedgerEvents.decode(staked).getStaked().getTotalStake())
                    .build();
        });
    }

    public void join(JoinRequest request, StreamObserver<JoinResponse> call) {
        answer("Join", call, () -> {
            requireAuth(request.hasAuth());
            RequestAuthenticator.Signer node = authenticator.authenticate(Purpose.JOIN, request.getTaskId(),
                    request.getRound(), request, request.getAuth(), "auth", false);
            TaskEngine engine = tasks.task(request.getTaskId());
            engine.join(node.node().toString(), request.getRound(), request.getAuth().getNonce());
            return engine.read(state -> {
                boolean current = state.round() == request.getRound();
                return JoinResponse.newBuilder().setRound(request.getRound())
                        .setPhase(current ? state.phase() : Phase.PHASE_FINISHED)
                        .setJoined(current ? state.joined().size() : 0)
                        .setJoinDeadlineUnixMs(current && state.draw().isEmpty() ? state.deadline() : 0).build();
            });
        });
    }

    public void getAssignment(GetAssignmentRequest request, StreamObserver<Assignment> call) {
        answer("GetAssignment", call, () -> tasks.task(request.getTaskId()).query(state -> {
            long round = request.getRound();
            if (Long.compareUnsigned(round, state.rules().totalRounds()) >= 0) {
                throw new Refusal(RefusalReason.UNKNOWN_ROUND, "task " + request.getTaskId() + " has rounds 0 to "
                        + (state.rules().totalRounds() - 1) + ", not " + Long.toUnsignedString(round));
            }
            TaskState.Roles roles = state.rolesOf(round).orElseThrow(() -> new Refusal(RefusalReason.WRONG_PHASE,
                    "the roles of round " + Long.toUnsignedString(round) + " are not drawn yet: wait for its"
                            + " RolesDrawn event (WatchRound)"));
            String node = request.getNodeId();
            Role role = roles.draw().proposers().contains(node) ? Role.ROLE_PROPOSER
                    : roles.draw().voters().contains(node) ? Role.ROLE_VOTER
                    : roles.stakes().containsKey(node) ? Role.ROLE_IDLE : Role.ROLE_NOT_JOINED;
            Assignment.Builder a = Assignment.newBuilder().setTaskId(request.getTaskId()).setRound(round)
                    .setNodeId(node).setRole(role).setSeed(ByteString.copyFrom(roles.draw().seed()))
                    .setStake(Tokens.format(roles.stakes().getOrDefault(node, BigInteger.ZERO)));
            boolean current = state.round() == round && !state.finished();
            a.setPhase(current ? state.phase() : Phase.PHASE_FINISHED).setPhaseDeadlineUnixMs(
                    current ? state.deadline() : 0);
            return a.build();
        }));
    }

    public void commitVote(CommitVoteRequest request, StreamObserver<VoteAck> call) {
        answer("CommitVote", call, () -> {
            requireAuth(request.hasAuth());
            RequestAuthenticator.Signer voter = authenticator.authenticate(Purpose.COMMIT_VOTE, request.getTaskId(),
                    request.getRound(), request, request.getAuth(), "auth", false);
            LedgerRecord record = tasks.task(request.getTaskId()).commit(voter.node().toString(), request.getRound(),
                    request.getCommitment(), request.getAuth().getNonce());
            return ack(request.getTaskId(), request.getRound(), record);
        });
    }

    public void revealVote(RevealVoteRequest request, StreamObserver<VoteAck> call) {
        answer("RevealVote", call, () -> {
            requireAuth(request.hasAuth());
            RequestAuthenticator.Signer voter = authenticator.authenticate(Purpose.REVEAL_VOTE, request.getTaskId(),
                    request.getRound(), request, request.getAuth(), "auth", false);
            LedgerRecord record = tasks.task(request.getTaskId()).reveal(voter.node().toString(), request.getRound(),
                    request.getScore(), request.getMetric(), request.getSalt(), request.getAuth().getNonce());
            return ack(request.getTaskId(), request.getRound(), record);
        });
    }

    public void withdraw(WithdrawRequest request, StreamObserver<WithdrawResponse> call) {
        answer("Withdraw", call, () -> {
            requireAuth(request.hasAuth());
            RequestAuthenticator.Signer node = authenticator.authenticate(Purpose.WITHDRAW, request.getTaskId(), 0,
                    request, request.getAuth(), "auth", false);
            LedgerRecord withdrawn = tasks.task(request.getTaskId()).withdraw(node.node().toString(),
                    request.getAuth().getNonce());
            return WithdrawResponse.newBuilder().setAmount(LedgerEvents.decode(withdrawn).getWithdrawn().getAmount())
                    .build();
        });
    }

    private static VoteAck ack(String taskId, long round, LedgerRecord record) {
        return VoteAck.newBuilder().setTaskId(taskId).setRound(round)
                .setLedgerEventSha256(ByteString.copyFrom(record.hash())).build();
    }

    private static void requireAuth(boolean present) throws Refusal {
        if (!present) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "auth is missing: sign the request");
        }
    }
}
