package org.murmur.server.round;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.murmur.proto.VoteCommitment;
import org.murmur.proto.ledger.v1.CandidateProposed;
import org.murmur.proto.ledger.v1.Contributed;
import org.murmur.proto.ledger.v1.Joined;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.ledger.v1.Staked;
import org.murmur.proto.ledger.v1.TaskCreated;
import org.murmur.proto.ledger.v1.VoteCommitted;
import org.murmur.proto.ledger.v1.VoteRevealed;
import org.murmur.proto.ledger.v1.Withdrawn;
import org.murmur.proto.v1.TaskParams;
import org.murmur.server.economics.TaskRules;
import org.murmur.server.economics.TestParams;
import org.murmur.server.economics.Tokens;
import org.murmur.server.ledger.LedgerRecord;

/**
 * Coverage-guided fuzzing of what a ledger's records hold: {@link LedgerEvents#decode} and
 * {@link TaskState#apply} over a sequence of up to 48 events at fuzzed times. Each event is the
 * one the rules owe next ({@link TaskState#nextDerived}), a request event built from fuzzed
 * fields (TaskCreated, Staked, Joined, Contributed, CandidateProposed, VoteCommitted with a real
 * commitment, VoteRevealed, Withdrawn), a failed aggregation, or a record whose payload and type
 * are any bytes. The fuzzer thereby walks whole rounds and breaks them anywhere.
 *
 * <p>Invariants: decode fails only with {@link LedgerViolation}; apply fails only with
 * {@link LedgerViolation}, and then leaves the state exactly as it was; the event nextDerived
 * owes is always accepted at the time and head it was computed for (a time clamped, as the
 * engine clamps its clock, to no earlier than the last event's).
 */
class LedgerReplayFuzzTest {
    private static final String TASK = "task-7";
    private static final HexFormat HEX = HexFormat.of();
    private static final List<String> NODES = List.of(id("node 0"), id("node 1"), id("node 2"), id("node 3"));
    private static final String CREATOR = id("creator");
    private static final long START = 1_700_000_000_000L;

    @FuzzTest
    void events(FuzzedDataProvider data) {
        TaskState state = new TaskState(TASK);
        Run run = new Run();
        long time = START;
        byte[] head = new byte[32];
        int steps = data.consumeInt(1, 48);
        for (int step = 0; step < steps && data.remainingBytes() > 0; step++) {
            time = switch (data.consumeInt(0, 7)) {
                case 5 -> state.deadline() == 0 ? time : Math.max(time, state.deadline());
                case 6 -> time + data.consumeLong(0, 1L << 40);
                case 7 -> data.consumeLong();
                default -> time;
            };
            int kind = data.consumeInt(0, 11);
            if (kind <= 2) {
                // The engine's clamp: owed events never go back; and no clock reaches past year 9999.
                time = Math.min(Math.max(time, state.lastEventTime()), TaskState.MAX_EVENT_TIME);
                Optional<LedgerEvent> owed = state.nextDerived(time, head);
                if (owed.isPresent()) {
                    applyOwed(state, owed.get(), time, head);
                    head = next(head, owed.get());
                }
                continue;
            }
            LedgerEvent event = kind == 11 ? decoded(data, head, time) : request(data, kind, state, run);
            if (event == null) {
                continue;
            }
            Optional<StateView> before = view(state);
            try {
                state.apply(event, time, head);
                head = next(head, event);
            } catch (LedgerViolation refused) {
                assertEquals(before, view(state), () -> "a refused event changed the state: " + refused);
            }
        }
    }

    /** Everything the state exposes; empty before TaskCreated, when there is nothing to expose. */
    private static Optional<StateView> view(TaskState state) {
        return state.created() ? Optional.of(StateView.of(state)) : Optional.empty();
    }

    /** The event the rules owe is never refused where it was owed. */
    private static void applyOwed(TaskState state, LedgerEvent owed, long time, byte[] head) {
        try {
            state.apply(owed, time, head);
        } catch (LedgerViolation refused) {
            throw new AssertionError("the owed event " + owed + " was refused: " + refused.getMessage(), refused);
        }
    }

    /** A record of any payload and a fuzzed or matching type, decoded as replay decodes it; null if refused. */
    private static LedgerEvent decoded(FuzzedDataProvider data, byte[] head, long time) {
        byte[] payload = data.consumeBytes(data.consumeInt(0, 256));
        String type;
        if (data.consumeBoolean()) {
            type = data.consumeAsciiString(64);
        } else {
            try {
                type = LedgerEvents.type(LedgerEvent.parseFrom(payload));
            } catch (InvalidProtocolBufferException e) {
                type = "staked";
            }
        }
        if (type.isEmpty()) {
            type = "x";
        }
        LedgerRecord record = new LedgerRecord(0, time, type, payload, head, new byte[32]);
        try {
            LedgerEvent event = LedgerEvents.decode(record);
            return data.consumeBoolean() ? event.toBuilder().setTaskId(TASK).build() : event;
        } catch (LedgerViolation refused) {
            return null;
        }
    }

    /** What the fuzzer has built so far that later events refer to. */
    private static final class Run {
        int nonces;
        final Map<String, byte[]> salts = new HashMap<>();
        final Map<String, Integer> scores = new HashMap<>();
        final Map<String, Double> metrics = new HashMap<>();

        ByteString nonce(FuzzedDataProvider data) {
            int n = data.consumeInt(0, 15) == 15 ? data.consumeInt(0, nonces) : nonces++;
            return ByteString.copyFrom(TestParams.sha256("nonce " + n).toByteArray(), 0, 16);
        }
    }

    private static LedgerEvent request(FuzzedDataProvider data, int kind, TaskState state, Run run) {
        String node = data.consumeInt(0, 15) == 15 ? data.consumeString(42) : data.pickValue(NODES);
        long round = data.consumeInt(0, 7) == 7 ? data.consumeLong() : state.round();
        LedgerEvent.Builder e = LedgerEvent.newBuilder().setTaskId(TASK).setRound(round);
        switch (kind) {
            case 3 -> e.setRound(0).setTaskCreated(TaskCreated.newBuilder().setParams(params(data))
                    .setCreatorId(CREATOR).setNonce(run.nonce(data)));
            case 4 -> {
                BigInteger amount = data.consumeInt(0, 7) == 7 ? BigInteger.valueOf(data.consumeLong())
                        : Tokens.of(data.consumeInt(0, 30));
                BigInteger total = data.consumeInt(0, 7) == 7 ? BigInteger.valueOf(data.consumeLong())
                        : state.stake(node).add(amount);
                e.setStaked(Staked.newBuilder().setNodeId(node).setAmount(amount.toString())
                        .setTotalStake(total.toString()).setNonce(run.nonce(data))
                        .setPublicKey(data.consumeBoolean() ? TestParams.sha256("key of " + node) : ByteString.EMPTY));
            }
            case 5 -> e.setJoined(Joined.newBuilder().setNodeId(node).setNonce(run.nonce(data)));
            case 6 -> e.setContributed(Contributed.newBuilder().setNodeId(node)
                    .setSha256(TestParams.sha256("update of " + node + " in " + round))
                    .setNumSamples(data.consumeInt(0, 3)).setBytes(data.consumeInt(0, 3)));
            case 7 -> {
                CandidateProposed.Builder c = CandidateProposed.newBuilder()
                        .setSha256(TestParams.sha256("candidate " + round))
                        .setRule(state.created() && data.consumeBoolean() ? state.rules().ruleName() : "fedavg");
                for (var contribution : state.contributions()) {
                    c.addContributors(contribution.getNodeId());
                }
                if (data.consumeInt(0, 7) == 7) {
                    c.addContributors(node);
                }
                e.setCandidateProposed(c);
            }
            case 8 -> {
                String voter = voter(data, state, node);
                int score = data.consumeBoolean() ? 1 : -1;
                double metric = data.consumeInt(0, 7) == 7 ? data.consumeDouble() : 0.5;
                byte[] salt = data.consumeBytes(data.consumeInt(0, 7) == 7 ? 80 : 16);
                byte[] candidate = state.candidate().map(c -> c.getSha256().toByteArray()).orElse(new byte[32]);
                run.salts.put(voter, salt);
                run.scores.put(voter, score);
                run.metrics.put(voter, metric);
                e.setVoteCommitted(VoteCommitted.newBuilder().setVoterId(voter).setNonce(run.nonce(data))
                        .setCommitment(ByteString.copyFrom(VoteCommitment.of(TASK, round, voter, candidate, score,
                                metric, salt))));
            }
            case 9 -> {
                String voter = voter(data, state, node);
                boolean honest = run.salts.containsKey(voter) && data.consumeInt(0, 7) != 7;
                e.setVoteRevealed(VoteRevealed.newBuilder().setVoterId(voter).setNonce(run.nonce(data))
                        .setScore(honest ? run.scores.get(voter) : data.consumeInt())
                        .setMetric(honest ? run.metrics.get(voter) : data.consumeDouble())
                        .setSalt(ByteString.copyFrom(honest ? run.salts.get(voter) : data.consumeBytes(70))));
            }
            default -> {
                BigInteger owed = state.stake(node).add(state.reward(node));
                e.setWithdrawn(Withdrawn.newBuilder().setNodeId(node).setNonce(run.nonce(data))
                        .setAmount(data.consumeInt(0, 7) == 7 ? data.consumeString(30) : owed.toString()));
            }
        }
        return e.build();
    }

    private static String voter(FuzzedDataProvider data, TaskState state, String node) {
        List<String> voters = new ArrayList<>(state.draw().map(d -> d.voters()).orElse(List.of()));
        return voters.isEmpty() || data.consumeInt(0, 7) == 7 ? node : data.pickValue(voters);
    }

    /** Small tasks (few rounds and participants) with fuzzed rules; the complete form the server records, mostly. */
    private static TaskParams params(FuzzedDataProvider data) {
        TaskParams.Builder p = TestParams.minimal()
                .setTotalRounds(data.consumeInt(0, 3))
                .setRoundSeconds(data.consumeInt(0, 7) == 7 ? data.consumeInt() : 600)
                .setMinParticipants(data.consumeInt(0, 4))
                .setMaxParticipants(data.consumeInt(0, 5))
                .setCommitteeSize(data.consumeInt(0, 3))
                .setStakeWeightedVotes(data.consumeBoolean())
                .setMinVotes(data.consumeInt(0, 3))
                .setEconomicsValue(data.consumeInt(0, 2));
        if (data.consumeBoolean()) {
            p.setProposerFraction(data.pickValue(List.of("0.2", "0.5", "1", "0", "1.5", "x")));
        }
        TaskParams raw = p.build();
        try {
            return data.consumeInt(0, 7) == 7 ? raw : TaskRules.fromProto(raw).toProto();
        } catch (IllegalArgumentException invalid) {
            return raw;
        }
    }

    /** The next head: any function of the previous head and the event will do, as long as it moves. */
    private static byte[] next(byte[] head, LedgerEvent event) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(head);
            sha.update(event.toByteArray());
            return sha.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String id(String name) {
        return HEX.formatHex(TestParams.sha256(name).toByteArray(), 0, 20);
    }
}
