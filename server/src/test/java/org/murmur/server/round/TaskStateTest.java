package org.murmur.server.round;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.murmur.server.round.RoundHarness.TASK;

import com.google.protobuf.ByteString;
import java.math.BigInteger;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.murmur.proto.ledger.v1.Joined;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.ledger.v1.Staked;
import org.murmur.proto.ledger.v1.TaskCreated;
import org.murmur.proto.v1.Phase;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.RoundResult;
import org.murmur.proto.v1.TaskParams;
import org.murmur.server.economics.TaskRules;
import org.murmur.server.economics.TestParams;
import org.murmur.server.economics.Tokens;
import org.murmur.server.grpc.Refusal;

/**
 * TaskState on its own, fed events by hand: what a ledger must start with, that a request cannot
 * be recorded while the rules owe an event, that a refused event leaves the state as it was, and
 * that nextDerived only looks.
 */
class TaskStateTest {
    private static final long T0 = RoundHarness.START;
    private static final byte[] HEAD = new byte[32];
    private static final List<String> NODES = RoundHarness.nodes(3);

    @Test
    void aLedgerStartsWithOneTaskCreatedOfThisTaskWithEveryDefaultFilledIn() {
        TaskState s = new TaskState(TASK);
        Refusal unknown = assertThrows(Refusal.class, () -> s.checkStake(NODES.get(0), BigInteger.ONE));
        assertEquals(RefusalReason.UNKNOWN_TASK, unknown.reason());
        assertEquals(Optional.empty(), s.nextDerived(T0, HEAD), "nothing is owed before the task exists");
        assertThrows(LedgerViolation.class, () -> s.apply(staked(0, 10), T0, HEAD), "a Staked first");
        assertThrows(LedgerViolation.class, () -> s.apply(created(TestParams.minimal().build()), T0, HEAD),
                "parameters with their defaults left out are not what the server records");
        assertThrows(LedgerViolation.class, () -> s.apply(created(TestParams.minimal().setTotalRounds(0).build()),
                T0, HEAD), "invalid parameters");
        assertThrows(LedgerViolation.class, () -> s.apply(created(params()).toBuilder().setTaskId("other").build(),
                T0, HEAD), "another task's event");
        assertFalse(s.created());
        assertEquals(0, s.events());

        s.apply(created(params()), T0, HEAD);
        assertTrue(s.created());
        assertEquals(Phase.PHASE_JOIN, s.phase());
        assertEquals(T0 + 600_000, s.deadline(), "round 0's join window opens with the task");
        assertEquals(Tokens.of(1000), s.pool());
        assertEquals(TestParams.INITIAL_MODEL, s.globalModel());
        assertThrows(LedgerViolation.class, () -> s.apply(created(params()), T0, HEAD), "a second TaskCreated");
    }

    @Test
    void aRequestCannotBeRecordedWhileTheRulesOweAnEvent() {
        TaskState s = new TaskState(TASK);
        s.apply(created(params()), T0, HEAD);
        s.apply(staked(0, 10), T0, HEAD);
        long deadline = s.deadline();
        // At the join deadline, with one of min_participants 3 joined, the round's failure is owed.
        s.apply(joined(0, 1), T0 + 1, HEAD);
        Optional<LedgerEvent> owed = s.nextDerived(deadline, HEAD);
        assertTrue(owed.isPresent() && owed.get().hasRoundFinished(), "owed: " + owed);
        assertEquals(RoundResult.ROUND_RESULT_FAILED, owed.get().getRoundFinished().getResult());
        StateView before = StateView.of(s);
        LedgerViolation v = assertThrows(LedgerViolation.class, () -> s.apply(staked(1, 10), deadline, HEAD));
        assertTrue(v.getMessage().contains("owed"), v.getMessage());
        assertEquals(before, StateView.of(s), "a refused event changes nothing");
        assertThrows(LedgerViolation.class, () -> s.apply(staked(1, 10), T0, HEAD), "time never goes back");
        s.apply(staked(1, 10), deadline - 1, HEAD);
    }

    /** A TaskCreated at Long.MAX_VALUE overflowed its join deadline (ArithmeticException) after setting the rules. */
    @Test
    void anEventTimeAfterYear9999IsAViolationAndChangesNothing() {
        TaskState s = new TaskState(TASK);
        LedgerViolation v = assertThrows(LedgerViolation.class, () -> s.apply(created(params()), Long.MAX_VALUE, HEAD));
        assertTrue(v.getMessage().contains("9999"), v.getMessage());
        assertFalse(s.created());
        s.apply(created(params()), TaskState.MAX_EVENT_TIME - 600_000, HEAD);
        assertEquals(TaskState.MAX_EVENT_TIME, s.deadline());
        StateView before = StateView.of(s);
        assertThrows(LedgerViolation.class, () -> s.apply(staked(0, 10), TaskState.MAX_EVENT_TIME + 1, HEAD));
        assertEquals(before, StateView.of(s));
        s.apply(s.nextDerived(TaskState.MAX_EVENT_TIME, HEAD).orElseThrow(), TaskState.MAX_EVENT_TIME, HEAD);
        assertEquals(Phase.PHASE_FINISHED, s.phase(), "round 0 failed: nobody joined");
        assertEquals(Long.MAX_VALUE, s.nextDerived(Long.MAX_VALUE, HEAD).orElseThrow().getPhaseChanged()
                .getDeadlineUnixMs(), "a deadline past a long saturates instead of overflowing");
    }

    @Test
    void nextDerivedOnlyLooks() {
        TaskState s = new TaskState(TASK);
        s.apply(created(params()), T0, HEAD);
        for (int i = 0; i < 3; i++) {
            s.apply(staked(i, 10), T0, HEAD);
            s.apply(joined(i, 100 + i), T0, HEAD);
        }
        StateView before = StateView.of(s);
        LedgerEvent first = s.nextDerived(T0, HEAD).orElseThrow();
        assertTrue(first.hasRolesDrawn(), "every eligible node joined: the draw is owed");
        assertEquals(first, s.nextDerived(T0, HEAD).orElseThrow());
        assertEquals(before, StateView.of(s));
        byte[] otherHead = new byte[32];
        otherHead[0] = 1;
        assertFalse(first.equals(s.nextDerived(T0, otherHead).orElseThrow()), "the draw depends on the head");
        s.apply(first, T0, HEAD);
        assertThrows(LedgerViolation.class, () -> s.apply(first, T0, HEAD), "a draw that is not owed");
    }

    @Test
    void aFinishedTaskOwesNothingMore() {
        TaskState s = new TaskState(TASK);
        s.apply(created(TaskRules.fromProto(TestParams.minimal().setTotalRounds(1).build()).toProto()), T0, HEAD);
        LedgerEvent failed = s.nextDerived(T0 + 600_000, HEAD).orElseThrow();
        s.apply(failed, T0 + 600_000, HEAD);
        LedgerEvent finished = s.nextDerived(T0 + 600_000, HEAD).orElseThrow();
        assertTrue(finished.hasTaskFinished(), "T = 1: the failed round was the last");
        assertEquals(Tokens.of(1000).toString(), finished.getTaskFinished().getPoolReturned());
        s.apply(finished, T0 + 600_000, HEAD);
        assertTrue(s.finished());
        assertEquals(Optional.empty(), s.nextDerived(Long.MAX_VALUE, HEAD));
        assertTrue(s.roundOver(0));
    }

    private static TaskParams params() {
        return TaskRules.fromProto(TestParams.minimal().setTotalRounds(2).setMinParticipants(3).build()).toProto();
    }

    private static LedgerEvent created(TaskParams params) {
        return LedgerEvent.newBuilder().setTaskId(TASK).setTaskCreated(TaskCreated.newBuilder().setParams(params)
                .setCreatorId(RoundHarness.CREATOR).setNonce(nonce(0))).build();
    }

    private static LedgerEvent staked(int node, long tokens) {
        return LedgerEvent.newBuilder().setTaskId(TASK).setStaked(Staked.newBuilder().setNodeId(NODES.get(node))
                .setPublicKey(RoundHarness.publicKey(NODES.get(node))).setAmount(Tokens.of(tokens).toString())
                .setTotalStake(Tokens.of(tokens).toString()).setNonce(nonce(1000 + node))).build();
    }

    private static LedgerEvent joined(int node, int nonce) {
        return LedgerEvent.newBuilder().setTaskId(TASK).setJoined(Joined.newBuilder().setNodeId(NODES.get(node))
                .setNonce(nonce(nonce))).build();
    }

    private static ByteString nonce(int i) {
        return ByteString.copyFrom(TestParams.sha256("nonce " + i).toByteArray(), 0, 16);
    }
}
