package org.murmur.server.round;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.murmur.server.round.RoundHarness.TASK;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.ledger.v1.RolesDrawn;
import org.murmur.proto.v1.Phase;
import org.murmur.proto.v1.RoundResult;
import org.murmur.server.economics.RoleDraw;
import org.murmur.server.economics.TestParams;
import org.murmur.server.economics.Tokens;
import org.murmur.server.ledger.CorruptLedgerException;
import org.murmur.server.ledger.LedgerFile;
import org.murmur.server.ledger.LedgerRecord;

/**
 * The ledger is the whole truth: a replay rebuilds the state, a restart resumes where the ledger
 * stops, and a ledger with one event changed (its hash chain recomputed, so only the rules can
 * tell) is refused at that event.
 */
class RoundReplayTest {
    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    /** A two-round task, recorded once: a rejected round with removals, an accepted one, the finish and withdrawals. */
    private static List<LedgerRecord> records;
    private static Path original;

    @BeforeAll
    static void recordATask() throws Exception {
        Path taskDir = Files.createDirectories(shared.resolve("original"));
        try (RoundHarness h = RoundHarness.create(taskDir, TestParams.minimal().setTotalRounds(2)
                .setMinParticipants(3))) {
            List<String> nodes = RoundHarness.nodes(5);
            for (String node : nodes) {
                h.stake(node, Tokens.of(10));
            }
            RoleDraw d0 = h.joinAll(nodes);
            h.contributeAll();
            h.commit(d0.voters().get(0), 1);
            for (String v : d0.voters().subList(1, 4)) {
                h.commit(v, -1);
            }
            for (String v : d0.voters()) {
                h.reveal(v);
            }
            List<String> rest = new ArrayList<>(nodes);
            rest.removeIf(h.state()::isRemoved);
            assertEquals(3, rest.size(), "the rejected proposer and the +1 voter fell below min_stake");
            RoleDraw d1 = h.joinAll(rest);
            h.contributeAll();
            for (String v : d1.voters()) {
                h.commit(v, 1);
            }
            h.advance(1000);
            for (String v : d1.voters()) {
                h.reveal(v);
            }
            assertTrue(h.state().finished());
            for (String node : nodes) {
                h.withdraw(node);
            }
            original = h.ledger;
        }
        records = RoundHarness.records(original);
    }

    @Test
    void aFreshReplayAndAReopenedEngineEqualTheRecordedState() throws Exception {
        TaskState replayed = RoundHarness.replay(original);
        assertTrue(replayed.finished());
        assertEquals(records.size(), replayed.events());
        assertEquals(BigInteger.ZERO, replayed.pool());
        replayed.stakes().values().forEach(s -> assertEquals(BigInteger.ZERO, s, "everyone withdrew"));

        Path copy = rewrite(-1, e -> e);
        assertEquals(-1, Files.mismatch(original, copy), "re-appending every record reproduces the file");
        try (TaskEngine engine = TaskEngine.open(copy, TASK, () -> RoundHarness.START, RoundHarness.TIMERS,
                Runnable::run, new FakeCandidates())) {
            assertEquals(StateView.of(replayed), engine.read(StateView::of));
        }
    }

    @Test
    void everyRoleDrawIsRecomputedFromThePreviousHash() {
        int draws = 0;
        Map<Long, List<String>> joined = new LinkedHashMap<>();
        var rules = org.murmur.server.economics.TaskRules.fromProto(RoundHarness.decode(records.get(0))
                .getTaskCreated().getParams());
        for (LedgerRecord record : records) {
            LedgerEvent e = RoundHarness.decode(record);
            if (e.hasJoined()) {
                joined.computeIfAbsent(e.getRound(), r -> new ArrayList<>()).add(e.getJoined().getNodeId());
            } else if (e.hasRolesDrawn()) {
                RolesDrawn d = e.getRolesDrawn();
                RoleDraw expected = RoundHarness.independentDraw(record.prevHash(), e.getRound(),
                        joined.get(e.getRound()), rules);
                assertArrayEquals(expected.seed(), d.getSeed().toByteArray(), "seed of round " + e.getRound());
                assertEquals(expected.proposers(), d.getProposersList(), "proposers of round " + e.getRound());
                assertEquals(expected.voters(), d.getVotersList(), "voters of round " + e.getRound());
                draws++;
            }
        }
        assertEquals(2, draws);
    }

    // ------------------------------------------------------------------------------------------ tampering

    @Test
    void aRewardChangedByOneUnitIsRefusedAtThatEvent() throws Exception {
        assertRefusedAt(first(LedgerEvent::hasRewarded), e -> e.toBuilder().setRewarded(e.getRewarded().toBuilder()
                .setAmount(plusOne(e.getRewarded().getAmount()))).build(), "rewarded");
    }

    @Test
    void aSlashChangedByOneUnitIsRefusedAtThatEvent() throws Exception {
        assertRefusedAt(first(LedgerEvent::hasSlashed), e -> e.toBuilder().setSlashed(e.getSlashed().toBuilder()
                .setAmount(new BigInteger(e.getSlashed().getAmount()).subtract(BigInteger.ONE).toString())).build(),
                "slashed");
    }

    @Test
    void aRemovalWithAnotherStakeLeftIsRefused() throws Exception {
        assertRefusedAt(first(LedgerEvent::hasRemoved), e -> e.toBuilder().setRemoved(e.getRemoved().toBuilder()
                .setStakeLeft(plusOne(e.getRemoved().getStakeLeft()))).build(), "removed");
    }

    @Test
    void aRoundResultTurnedAroundIsRefused() throws Exception {
        assertRefusedAt(first(e -> e.hasRoundFinished()
                        && e.getRoundFinished().getResult() == RoundResult.ROUND_RESULT_REJECTED),
                e -> e.toBuilder().setRoundFinished(e.getRoundFinished().toBuilder()
                        .setResult(RoundResult.ROUND_RESULT_ACCEPTED)).build(), "roundFinished");
    }

    @Test
    void aTallyWithAnotherValueIsRefused() throws Exception {
        assertRefusedAt(first(LedgerEvent::hasRoundFinished), e -> e.toBuilder().setRoundFinished(
                e.getRoundFinished().toBuilder().setTally("1")).build(), "roundFinished");
    }

    @Test
    void aLargerPoolReturnIsRefused() throws Exception {
        assertRefusedAt(first(LedgerEvent::hasTaskFinished), e -> e.toBuilder().setTaskFinished(
                e.getTaskFinished().toBuilder().setPoolReturned(plusOne(e.getTaskFinished().getPoolReturned())))
                .build(), "taskFinished");
    }

    @Test
    void aLargerWithdrawalIsRefused() throws Exception {
        assertRefusedAt(first(LedgerEvent::hasWithdrawn), e -> e.toBuilder().setWithdrawn(e.getWithdrawn().toBuilder()
                .setAmount(plusOne(e.getWithdrawn().getAmount()))).build(), "withdrawn");
    }

    @Test
    void aStakeWhoseTotalDoesNotAddUpIsRefused() throws Exception {
        assertRefusedAt(first(LedgerEvent::hasStaked), e -> e.toBuilder().setStaked(e.getStaked().toBuilder()
                .setAmount(plusOne(e.getStaked().getAmount()))).build(), "staked");
    }

    @Test
    void aStakeTooSmallToJoinWithIsRefusedAtTheJoin() throws Exception {
        // Amount and total changed together: the stake itself is consistent, so the first rule it
        // breaks is the join of a node below min_stake.
        int staked = first(LedgerEvent::hasStaked);
        String node = RoundHarness.decode(records.get(staked)).getStaked().getNodeId();
        int join = first(e -> e.hasJoined() && e.getJoined().getNodeId().equals(node));
        Path file = rewrite(staked, e -> e.toBuilder().setStaked(e.getStaked().toBuilder().setAmount("1")
                .setTotalStake("1")).build());
        assertOpenRefused(file, join, "joined", "min_stake");
    }

    @Test
    void aRevealWithTheOtherScoreIsRefused() throws Exception {
        assertRefusedAt(first(LedgerEvent::hasVoteRevealed), e -> e.toBuilder().setVoteRevealed(
                e.getVoteRevealed().toBuilder().setScore(-e.getVoteRevealed().getScore())).build(), "voteRevealed",
                "does not match the commitment");
    }

    @Test
    void swappedRolesAreRefused() throws Exception {
        assertRefusedAt(first(LedgerEvent::hasRolesDrawn), e -> {
            RolesDrawn d = e.getRolesDrawn();
            List<String> voters = new ArrayList<>(d.getVotersList());
            String voter = voters.set(0, d.getProposers(0));
            return e.toBuilder().setRolesDrawn(d.toBuilder().setProposers(0, voter).clearVoters()
                    .addAllVoters(voters)).build();
        }, "rolesDrawn");
    }

    @Test
    void aJoinOfANodeWithoutStakeIsRefused() throws Exception {
        assertRefusedAt(first(LedgerEvent::hasJoined), e -> e.toBuilder().setJoined(e.getJoined().toBuilder()
                .setNodeId(RoundHarness.hexId("a stranger"))).build(), "joined", "no stake");
    }

    @Test
    void aCandidateListingOtherContributorsIsRefused() throws Exception {
        assertRefusedAt(first(LedgerEvent::hasCandidateProposed), e -> e.toBuilder().setCandidateProposed(
                e.getCandidateProposed().toBuilder().addContributors(RoundHarness.hexId("a stranger"))).build(),
                "candidateProposed");
    }

    @Test
    void aCandidateNamingAnotherRuleIsRefused() throws Exception {
        assertRefusedAt(first(LedgerEvent::hasCandidateProposed), e -> e.toBuilder().setCandidateProposed(
                e.getCandidateProposed().toBuilder().setRule("median")).build(), "candidateProposed", "rule");
    }

    @Test
    void aFailedAggregationWithATallyIsRefused() throws Exception {
        Path taskDir = Files.createDirectories(dir.resolve("failing"));
        List<LedgerRecord> failing;
        try (RoundHarness h = RoundHarness.create(taskDir, TestParams.minimal().setMinParticipants(3)
                .setTotalRounds(1))) {
            h.candidates.failing(r -> true);
            List<String> nodes = RoundHarness.nodes(3);
            for (String node : nodes) {
                h.stake(node, Tokens.of(10));
            }
            h.joinAll(nodes);
            h.contributeAll();
            assertTrue(h.state().finished());
            failing = h.records();
        }
        int at = -1;
        for (LedgerRecord r : failing) {
            if (RoundHarness.decode(r).hasRoundFinished()) {
                at = (int) r.seq();
            }
        }
        int seq = at;
        Path file = dir.resolve("failing-tampered.ledger");
        try (LedgerFile out = LedgerFile.open(file, TASK, r -> { })) {
            for (LedgerRecord r : failing) {
                LedgerEvent e = RoundHarness.decode(r);
                byte[] payload = r.seq() == seq ? e.toBuilder().setRoundFinished(e.getRoundFinished().toBuilder()
                        .setTally("7").setVotesRevealed(2)).build().toByteArray() : r.payload();
                out.append(r.type(), r.timeUnixMs(), payload);
            }
        }
        assertOpenRefused(file, seq, "roundFinished");
    }

    @Test
    void aMovedDeadlineIsRefused() throws Exception {
        assertRefusedAt(first(e -> e.hasPhaseChanged() && e.getPhaseChanged().getDeadlineUnixMs() != 0),
                e -> e.toBuilder().setPhaseChanged(e.getPhaseChanged().toBuilder()
                        .setDeadlineUnixMs(e.getPhaseChanged().getDeadlineUnixMs() + 1)).build(), "phaseChanged");
    }

    @Test
    void aDroppedSettlementEventIsRefusedAtTheEventThatTookItsPlace() throws Exception {
        int slash = first(LedgerEvent::hasSlashed);
        Path file = dir.resolve("dropped.ledger");
        try (LedgerFile out = LedgerFile.open(file, TASK, r -> { })) {
            for (LedgerRecord r : records) {
                if (r.seq() != slash) {
                    out.append(r.type(), r.timeUnixMs(), r.payload());
                }
            }
        }
        assertOpenRefused(file, slash, LedgerEvents.type(RoundHarness.decode(records.get(slash + 1))),
                "the rules owe");
    }

    @Test
    void anEventAtAnEarlierTimeIsRefused() throws Exception {
        int at = first(LedgerEvent::hasRolesDrawn) + 1;
        Path file = dir.resolve("time.ledger");
        try (LedgerFile out = LedgerFile.open(file, TASK, r -> { })) {
            for (LedgerRecord r : records) {
                out.append(r.type(), r.seq() == at ? r.timeUnixMs() - 1 : r.timeUnixMs(), r.payload());
            }
        }
        assertOpenRefused(file, at, LedgerEvents.type(RoundHarness.decode(records.get(at))), "before the previous");
    }

    // ------------------------------------------------------------------------------------------ restarts

    @Test
    void anAggregationInterruptedByARestartIsRedoneOnce() throws Exception {
        ManualExecutor aggregations = new ManualExecutor();
        Path taskDir = Files.createDirectories(dir.resolve("restart"));
        try (RoundHarness h = RoundHarness.create(taskDir, TestParams.minimal().setMinParticipants(3), aggregations)) {
            List<String> nodes = RoundHarness.nodes(3);
            for (String node : nodes) {
                h.stake(node, Tokens.of(10));
            }
            h.joinAll(nodes);
            h.contributeAll();
            assertEquals(Phase.PHASE_AGGREGATE, h.state().phase());
            assertEquals(1, aggregations.pending());
            h.reopen(false);
            assertEquals(2, aggregations.pending(), "the reopened engine aggregates again");
            assertEquals(2, aggregations.runAll());
            assertEquals(2, h.candidates.calls.size(), "both ran: the maker must be idempotent");
            assertEquals(1, h.events(0, LedgerEvent.EventCase.CANDIDATE_PROPOSED).size(),
                    "only the live engine records its candidate");
            assertEquals(Phase.PHASE_COMMIT, h.state().phase());
            assertEquals(StateView.of(RoundHarness.replay(h.ledger)), h.view());
        }
    }

    @Test
    void deadlinesThatPassedWhileTheServerWasDownAreRecordedWhenItReopens() throws Exception {
        Path taskDir = Files.createDirectories(dir.resolve("down"));
        try (RoundHarness h = RoundHarness.create(taskDir, TestParams.minimal().setMinParticipants(3))) {
            List<String> nodes = RoundHarness.nodes(4);
            for (String node : nodes) {
                h.stake(node, Tokens.of(10));
            }
            for (String node : nodes.subList(0, 3)) {
                h.join(node);
            }
            long deadline = h.state().deadline();
            h.engine().close();
            h.clock.set(deadline + 5_000);
            h.reopen();
            assertEquals(Phase.PHASE_CONTRIBUTE, h.state().phase(), "the join deadline passed with 3 joined");
            assertEquals(deadline + 5_000 + 600_000, h.state().deadline(), "windows run from when they open");
            assertEquals(StateView.of(RoundHarness.replay(h.ledger)), h.view());
        }
    }

    @Test
    void aClockThatStepsBackNeverMakesEventTimesDecrease() throws Exception {
        Path taskDir = Files.createDirectories(dir.resolve("clock"));
        try (RoundHarness h = RoundHarness.create(taskDir, TestParams.minimal().setMinParticipants(3))) {
            List<String> nodes = RoundHarness.nodes(3);
            h.stake(nodes.get(0), Tokens.of(10));
            h.clock.addAndGet(-60_000);
            h.stake(nodes.get(1), Tokens.of(10));
            h.stake(nodes.get(2), Tokens.of(10));
            h.joinAll(nodes);
            List<LedgerRecord> written = h.records();
            for (int i = 1; i < written.size(); i++) {
                assertTrue(written.get(i).timeUnixMs() >= written.get(i - 1).timeUnixMs(), "record " + i);
            }
            assertEquals(Phase.PHASE_CONTRIBUTE, h.state().phase());
            assertEquals(RoundHarness.START + 600_000, h.state().deadline(), "windows open at the clamped time");
            h.reopen();
            assertEquals(StateView.of(RoundHarness.replay(h.ledger)), h.view());
        }
    }

    @Test
    void aLedgerWithoutTaskCreatedIsRefused() throws Exception {
        Path empty = dir.resolve("empty.ledger");
        LedgerFile.open(empty, TASK, r -> { }).close();
        assertThrows(CorruptLedgerException.class, () -> TaskEngine.open(empty, TASK, () -> 0, RoundHarness.TIMERS,
                Runnable::run, new FakeCandidates()));
    }

    // ------------------------------------------------------------------------------------------ helpers

    private int first(java.util.function.Predicate<LedgerEvent> which) {
        for (LedgerRecord r : records) {
            if (which.test(RoundHarness.decode(r))) {
                return (int) r.seq();
            }
        }
        throw new AssertionError("the recorded task holds no such event");
    }

    /** A copy of the ledger with record {@code seq} changed, every hash recomputed by appending anew. */
    private Path rewrite(int seq, UnaryOperator<LedgerEvent> change) throws IOException {
        Path file = dir.resolve("tampered-" + seq + "-" + System.nanoTime() + ".ledger");
        try (LedgerFile out = LedgerFile.open(file, TASK, r -> { })) {
            for (LedgerRecord r : records) {
                byte[] payload = r.seq() == seq ? change.apply(RoundHarness.decode(r)).toByteArray() : r.payload();
                out.append(r.type(), r.timeUnixMs(), payload);
            }
        }
        return file;
    }

    private void assertRefusedAt(int seq, UnaryOperator<LedgerEvent> change, String type, String... why)
            throws IOException {
        LedgerEvent before = RoundHarness.decode(records.get(seq));
        assertTrue(!change.apply(before).equals(before), "the change changes something");
        assertOpenRefused(rewrite(seq, change), seq, type, why);
    }

    private void assertOpenRefused(Path file, int seq, String type, String... why) throws IOException {
        assertEquals(0, LedgerFile.verify(file, TASK, r -> { }).tornBytes(),
                "the chain itself is valid: only the rules can refuse it");
        CorruptLedgerException e = assertThrows(CorruptLedgerException.class, () -> TaskEngine.open(file, TASK,
                () -> RoundHarness.START, RoundHarness.TIMERS, Runnable::run, new FakeCandidates()));
        assertEquals(seq, e.seq(), e.getMessage());
        assertTrue(e.getMessage().contains("event " + seq + " (" + type), "names the event: " + e.getMessage());
        for (String reason : why) {
            assertTrue(e.getMessage().contains(reason), "says why (" + reason + "): " + e.getMessage());
        }
        // A replay into a TaskState stops at the same event with a LedgerViolation.
        TaskState state = new TaskState(TASK);
        List<LedgerRecord> tampered = RoundHarness.records(file);
        for (int i = 0; i < seq; i++) {
            LedgerRecord r = tampered.get(i);
            state.apply(LedgerEvents.decode(r), r.timeUnixMs(), r.prevHash());
        }
        LedgerRecord bad = tampered.get(seq);
        StateView before = StateView.of(state);
        assertThrows(LedgerViolation.class, () -> state.apply(LedgerEvents.decode(bad), bad.timeUnixMs(),
                bad.prevHash()));
        assertEquals(before, StateView.of(state), "an event that breaks the rules leaves the state as it was");
    }

    private static String plusOne(String amount) {
        return new BigInteger(amount).add(BigInteger.ONE).toString();
    }
}
