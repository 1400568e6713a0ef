package org.murmur.server.round;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.murmur.proto.ledger.v1.LedgerEvent.EventCase.REMOVED;
import static org.murmur.proto.ledger.v1.LedgerEvent.EventCase.REWARDED;
import static org.murmur.proto.ledger.v1.LedgerEvent.EventCase.ROLES_DRAWN;
import static org.murmur.proto.ledger.v1.LedgerEvent.EventCase.ROUND_FINISHED;
import static org.murmur.proto.ledger.v1.LedgerEvent.EventCase.SLASHED;
import static org.murmur.proto.ledger.v1.LedgerEvent.EventCase.STAKED;
import static org.murmur.server.round.RoundHarness.TASK;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.ledger.v1.RoundFinished;
import org.murmur.proto.ledger.v1.SettlementReason;
import org.murmur.proto.ledger.v1.StakeSnapshot;
import org.murmur.proto.ledger.v1.Staked;
import org.murmur.proto.v1.Phase;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.RoundResult;
import org.murmur.proto.v1.TaskParams;
import org.murmur.server.economics.RoleDraw;
import org.murmur.server.economics.TestParams;
import org.murmur.server.economics.Tokens;
import org.murmur.server.grpc.Refusal;

/**
 * The rules of fl-alliance.md one by one, on a TaskEngine driven by a manual clock. Expected
 * amounts are computed here from the spec's formulas (R_r = Pool_r / (T - r) pro rata to stakes,
 * floor(alpha * stake) slashed, 10% of it to the rewarded voters). After every scenario the ledger
 * is replayed into a fresh TaskState, and the engine reopened from it, and both must equal the live
 * state.
 */
class RoundScenarioTest {
    private static final BigInteger POOL = Tokens.of(1000);
    private static final ByteString INITIAL = TestParams.INITIAL_MODEL;

    @TempDir
    Path dir;

    private RoundHarness h;

    /** T = 3, 3 to 1000 participants, every other parameter the spec's default. */
    private static TaskParams.Builder params() {
        return TestParams.minimal().setTotalRounds(3).setMinParticipants(3);
    }

    @AfterEach
    void theLedgerReplaysToTheSameState() throws IOException {
        if (h == null) {
            return;
        }
        StateView live = h.view();
        assertEquals(live, StateView.of(RoundHarness.replay(h.ledger)), "a fresh replay of the ledger");
        h.reopen();
        assertEquals(live, h.view(), "the engine reopened from its ledger");
        h.close();
    }

    // ------------------------------------------------------------------------------------------ outcomes

    @Test
    void anAcceptedRoundRewardsEveryoneWhoAgreedAndAdoptsTheCandidate() throws Exception {
        h = RoundHarness.create(dir, params());
        List<String> nodes = RoundHarness.nodes(5);
        stakeAll(nodes, 10, 20, 30, 40, 50);
        RoleDraw d = h.joinAll(nodes);
        assertEquals(1, d.proposers().size(), "ceil(0.2 * 5)");
        assertEquals(4, d.voters().size(), "committee_size 0: every other node votes");
        assertEquals(Phase.PHASE_CONTRIBUTE, h.state().phase());

        h.contributeAll();
        ByteString candidate = FakeCandidates.candidateOf(TASK, 0, d.proposers());
        assertEquals(candidate, h.candidate());
        assertEquals(Phase.PHASE_COMMIT, h.state().phase());
        assertEquals(INITIAL, h.candidates.calls.get(0).previousGlobal(), "round 0 trains from the initial model");

        for (String v : d.voters()) {
            h.commit(v, 1);
        }
        assertEquals(Phase.PHASE_REVEAL, h.state().phase(), "every voter committed: reveal at once");
        for (String v : d.voters()) {
            h.reveal(v);
        }

        RoundFinished finished = only(h.events(0, ROUND_FINISHED)).getRoundFinished();
        assertEquals(RoundResult.ROUND_RESULT_ACCEPTED, finished.getResult());
        assertEquals(sum(d.voters()).toString(), finished.getTally(), "V = sum of stakes of +1 votes");
        assertEquals(4, finished.getVotesRevealed());
        assertEquals(candidate, finished.getGlobalModelSha256());

        BigInteger r0 = POOL.divide(BigInteger.valueOf(3));
        BigInteger all = sum(nodes);
        BigInteger paid = BigInteger.ZERO;
        for (String node : nodes) {
            BigInteger expected = r0.multiply(stakeAt(node)).divide(all);
            assertEquals(expected, h.reward(node), "R_0 * stake / sum of stakes, node " + node);
            assertEquals(stakeAt(node), h.stake(node), "nobody slashed");
            paid = paid.add(expected);
        }
        assertEquals(POOL.subtract(paid), h.state().pool(), "the floors' remainder stays in the pool");
        assertTrue(h.events(0, SLASHED).isEmpty());

        assertEquals(1, h.round());
        assertEquals(Phase.PHASE_JOIN, h.state().phase(), "round 1 opens at once");
        assertEquals(h.clock.get() + 600_000, h.state().deadline());
        assertEquals(candidate, h.state().globalModel());
        assertEquals(candidate, h.state().globalModelAfter(0));
    }

    @Test
    void aRejectedRoundSlashesTheProposerAndTheNextRoundTrainsFromThePreviousGlobalModel() throws Exception {
        h = RoundHarness.create(dir, params());
        List<String> nodes = RoundHarness.nodes(5);
        stakeAll(nodes, 20, 30, 40, 50, 60);
        RoleDraw d = h.joinAll(nodes);
        h.contributeAll();
        ByteString rejectedCandidate = h.candidate();
        for (String v : d.voters()) {
            h.commit(v, -1);
        }
        for (String v : d.voters()) {
            h.reveal(v);
        }
        RoundFinished finished = only(h.events(0, ROUND_FINISHED)).getRoundFinished();
        assertEquals(RoundResult.ROUND_RESULT_REJECTED, finished.getResult());
        assertEquals(sum(d.voters()).negate().toString(), finished.getTally());
        assertEquals(INITIAL, finished.getGlobalModelSha256(), "the global model stays");

        String p = d.proposers().get(0);
        BigInteger loss = stakeAt(p).divide(BigInteger.TEN);
        LedgerEvent slash = only(h.events(0, SLASHED));
        assertEquals(p, slash.getSlashed().getNodeId());
        assertEquals(SettlementReason.REJECTED_PROPOSER, slash.getSlashed().getReason());
        assertEquals(loss.toString(), slash.getSlashed().getAmount());
        assertEquals(stakeAt(p).subtract(loss), h.stake(p));
        assertEquals(BigInteger.ZERO, h.reward(p));

        BigInteger r0 = POOL.divide(BigInteger.valueOf(3));
        BigInteger voters = sum(d.voters());
        BigInteger shares = loss.divide(BigInteger.TEN);
        BigInteger paid = BigInteger.ZERO;
        for (String v : d.voters()) {
            BigInteger expected = r0.multiply(stakeAt(v)).divide(voters)
                    .add(shares.multiply(stakeAt(v)).divide(voters));
            assertEquals(expected, h.reward(v), "voter " + v + ": its part of R_0 and of 10% of the slash");
            paid = paid.add(expected);
        }
        BigInteger pool1 = POOL.add(loss).subtract(paid);
        assertEquals(pool1, h.state().pool());

        // Round 1 starts again from the initial model; its snapshot holds the slashed stake.
        RoleDraw d1 = h.joinAll(nodes);
        StakeSnapshot snapshot = only(h.events(1, ROLES_DRAWN)).getRolesDrawn().getStakesList().stream()
                .filter(s -> s.getNodeId().equals(p)).findFirst().orElseThrow();
        assertEquals(stakeAt(p).subtract(loss).toString(), snapshot.getStake());
        h.contributeAll();
        assertEquals(INITIAL, h.candidates.calls.get(1).previousGlobal(),
                "round 1 trains from the last validated global model, not the rejected candidate "
                        + rejectedCandidate);
        ByteString accepted = h.candidate();
        for (String v : d1.voters()) {
            h.commit(v, 1);
        }
        for (String v : d1.voters()) {
            h.reveal(v);
        }
        assertEquals(RoundResult.ROUND_RESULT_ACCEPTED, only(h.events(1, ROUND_FINISHED)).getRoundFinished()
                .getResult());
        assertEquals(INITIAL, h.state().globalModelAfter(0));
        assertEquals(accepted, h.state().globalModelAfter(1));
        // R_1 = Pool_1 / (T - 1), rewarded pro rata to the round-1 snapshot.
        BigInteger r1 = pool1.divide(BigInteger.TWO);
        BigInteger rewardedStake = BigInteger.ZERO;
        for (StakeSnapshot s : only(h.events(1, ROLES_DRAWN)).getRolesDrawn().getStakesList()) {
            rewardedStake = rewardedStake.add(new BigInteger(s.getStake()));
        }
        BigInteger paid1 = BigInteger.ZERO;
        for (LedgerEvent e : h.events(1, REWARDED)) {
            paid1 = paid1.add(new BigInteger(e.getRewarded().getAmount()));
        }
        assertTrue(paid1.compareTo(r1) <= 0 && r1.subtract(paid1).compareTo(BigInteger.valueOf(5)) < 0,
                "round 1 pays R_1 = " + r1 + " less the floors, paid " + paid1 + " over " + rewardedStake);
        assertEquals(pool1.subtract(paid1), h.state().pool());
    }

    @Test
    void aTieIsAccepted() throws Exception {
        h = RoundHarness.create(dir, params());
        List<String> nodes = RoundHarness.nodes(5);
        stakeAll(nodes, 20, 20, 20, 20, 20);
        RoleDraw d = h.joinAll(nodes);
        h.contributeAll();
        List<String> v = d.voters();
        h.commit(v.get(0), 1);
        h.commit(v.get(1), -1);
        h.commit(v.get(2), 1);
        h.commit(v.get(3), -1);
        for (String voter : v) {
            h.reveal(voter);
        }
        RoundFinished finished = only(h.events(0, ROUND_FINISHED)).getRoundFinished();
        assertEquals(RoundResult.ROUND_RESULT_ACCEPTED, finished.getResult(), "V = 0 is non-negative");
        assertEquals("0", finished.getTally());
        assertEquals(h.state().candidateOf(0).orElseThrow(), h.state().globalModel(), "the candidate is adopted");
        assertEquals(List.of(v.get(1), v.get(3)), h.events(0, SLASHED).stream()
                .map(e -> e.getSlashed().getNodeId()).toList(), "the -1 voters are slashed");
        for (LedgerEvent e : h.events(0, SLASHED)) {
            assertEquals(SettlementReason.DISAGREEING_VOTER, e.getSlashed().getReason());
            assertEquals(Tokens.of(2).toString(), e.getSlashed().getAmount());
        }
        // Proposer and the two +1 voters share R_0 equally (equal stakes); each +1 voter also gets
        // half of 10% of the 4 slashed tokens.
        BigInteger third = POOL.divide(BigInteger.valueOf(3)).divide(BigInteger.valueOf(3));
        assertEquals(third, h.reward(d.proposers().get(0)));
        assertEquals(third.add(Tokens.of(4).divide(BigInteger.TEN).divide(BigInteger.TWO)), h.reward(v.get(0)));
        assertEquals(h.reward(v.get(0)), h.reward(v.get(2)));
    }

    @Test
    void belowTheQuorumTheRoundIsVoidAndOnlyNoShowsAreSlashed() throws Exception {
        h = RoundHarness.create(dir, params().setMinVotes(3));
        List<String> nodes = RoundHarness.nodes(5);
        stakeAll(nodes, 20, 30, 40, 50, 60);
        RoleDraw d = h.joinAll(nodes);
        h.contributeAll();
        List<String> v = d.voters();
        h.commit(v.get(0), 1);
        h.commit(v.get(1), 1);
        h.commit(v.get(2), -1);
        // v3 never commits: the commit phase runs to its deadline.
        assertEquals(Phase.PHASE_COMMIT, h.state().phase());
        h.passDeadline();
        assertEquals(Phase.PHASE_REVEAL, h.state().phase());
        h.reveal(v.get(0));
        h.reveal(v.get(1));
        // v2 never reveals.
        assertEquals(Phase.PHASE_REVEAL, h.state().phase());
        h.passDeadline();

        RoundFinished finished = only(h.events(0, ROUND_FINISHED)).getRoundFinished();
        assertEquals(RoundResult.ROUND_RESULT_VOID, finished.getResult());
        assertEquals(2, finished.getVotesRevealed());
        assertEquals(INITIAL, finished.getGlobalModelSha256(), "the global model stays");
        assertEquals(INITIAL, h.state().globalModel());

        List<LedgerEvent> slashes = h.events(0, SLASHED);
        assertEquals(List.of(v.get(2), v.get(3)), slashes.stream().map(e -> e.getSlashed().getNodeId()).toList());
        BigInteger slashed = BigInteger.ZERO;
        for (LedgerEvent e : slashes) {
            BigInteger loss = stakeAt(e.getSlashed().getNodeId()).divide(BigInteger.TEN);
            assertEquals(SettlementReason.NO_SHOW, e.getSlashed().getReason());
            assertEquals(loss.toString(), e.getSlashed().getAmount());
            assertEquals(loss.toString(), e.getSlashed().getToPool(), "no rewarded voter: all to the pool");
            slashed = slashed.add(loss);
        }
        assertTrue(h.events(0, REWARDED).isEmpty(), "nobody is rewarded in a void round");
        assertEquals(stakeAt(d.proposers().get(0)), h.stake(d.proposers().get(0)), "the proposer is not settled");
        assertEquals(stakeAt(v.get(0)), h.stake(v.get(0)));
        assertEquals(POOL.add(slashed), h.state().pool());
        assertEquals(1, h.round());
    }

    @Test
    void noShowVotersAreSlashedInAnAcceptedRoundAndTheirTenPercentGoesToTheAgreeingVoters() throws Exception {
        h = RoundHarness.create(dir, params());
        List<String> nodes = RoundHarness.nodes(5);
        stakeAll(nodes, 20, 30, 40, 50, 60);
        RoleDraw d = h.joinAll(nodes);
        h.contributeAll();
        List<String> v = d.voters();
        h.commit(v.get(0), 1);
        h.commit(v.get(1), 1);
        h.commit(v.get(2), -1);
        h.passDeadline();
        h.reveal(v.get(0));
        h.reveal(v.get(1));
        h.passDeadline();

        RoundFinished finished = only(h.events(0, ROUND_FINISHED)).getRoundFinished();
        assertEquals(RoundResult.ROUND_RESULT_ACCEPTED, finished.getResult());
        assertEquals(stakeAt(v.get(0)).add(stakeAt(v.get(1))).toString(), finished.getTally(),
                "only revealed votes count");
        BigInteger loss2 = stakeAt(v.get(2)).divide(BigInteger.TEN);
        BigInteger loss3 = stakeAt(v.get(3)).divide(BigInteger.TEN);
        assertEquals(List.of(v.get(2) + " NO_SHOW " + loss2, v.get(3) + " NO_SHOW " + loss3),
                h.events(0, SLASHED).stream().map(e -> e.getSlashed().getNodeId() + " " + e.getSlashed().getReason()
                        + " " + e.getSlashed().getAmount()).toList());

        String p = d.proposers().get(0);
        BigInteger r0 = POOL.divide(BigInteger.valueOf(3));
        BigInteger rewarded = stakeAt(p).add(stakeAt(v.get(0))).add(stakeAt(v.get(1)));
        BigInteger agreeing = stakeAt(v.get(0)).add(stakeAt(v.get(1)));
        BigInteger shares = loss2.divide(BigInteger.TEN).add(loss3.divide(BigInteger.TEN));
        assertEquals(r0.multiply(stakeAt(p)).divide(rewarded), h.reward(p));
        for (String voter : List.of(v.get(0), v.get(1))) {
            assertEquals(r0.multiply(stakeAt(voter)).divide(rewarded)
                    .add(shares.multiply(stakeAt(voter)).divide(agreeing)), h.reward(voter), voter);
        }
        assertEquals(BigInteger.ZERO, h.reward(v.get(2)));
        assertEquals(BigInteger.ZERO, h.reward(v.get(3)));
    }

    @Test
    void aNodeSlashedBelowMinStakeIsRemovedAndCanNeitherJoinNorStakeAgain() throws Exception {
        h = RoundHarness.create(dir, params());
        List<String> nodes = RoundHarness.nodes(5);
        stakeAll(nodes, 10, 10, 10, 10, 10);
        RoleDraw d = h.joinAll(nodes);
        h.contributeAll();
        String absent = d.voters().get(3);
        for (String v : d.voters().subList(0, 3)) {
            h.commit(v, 1);
        }
        h.passDeadline();
        for (String v : d.voters().subList(0, 3)) {
            h.reveal(v);
        }
        // Every committed vote is revealed: the tally does not wait for the reveal deadline.
        assertEquals(1, h.round());

        LedgerEvent removed = only(h.events(0, REMOVED));
        assertEquals(absent, removed.getRemoved().getNodeId());
        assertEquals(Tokens.of(9).toString(), removed.getRemoved().getStakeLeft(), "10 - floor(0.1 * 10)");
        assertTrue(h.state().isRemoved(absent));
        h.refused(RefusalReason.NODE_REMOVED, () -> h.join(absent));
        h.refused(RefusalReason.NODE_REMOVED, () -> h.stake(absent, Tokens.of(100)));

        // The others' draw no longer waits for the removed node.
        List<String> rest = new ArrayList<>(nodes);
        rest.remove(absent);
        RoleDraw d1 = h.joinAll(rest);
        assertFalse(d1.proposers().contains(absent) || d1.voters().contains(absent));
        assertEquals(4, d1.proposers().size() + d1.voters().size());
    }

    @Test
    void theLastRoundFinishesTheTaskReturnsThePoolAndOpensWithdrawals() throws Exception {
        h = RoundHarness.create(dir, params().setTotalRounds(1));
        List<String> nodes = RoundHarness.nodes(5);
        stakeAll(nodes, 20, 30, 40, 50, 60);
        h.refused(RefusalReason.TASK_NOT_FINISHED, () -> h.withdraw(nodes.get(0)));
        RoleDraw d = h.joinAll(nodes);
        h.refused(RefusalReason.TASK_NOT_FINISHED, () -> h.withdraw(d.proposers().get(0)));
        h.contributeAll();
        h.commit(d.voters().get(0), -1);
        for (String v : d.voters().subList(1, 4)) {
            h.commit(v, 1);
        }
        for (String v : d.voters()) {
            h.reveal(v);
        }

        BigInteger poolAfterSettlement = POOL;
        for (LedgerEvent e : h.ledgerEvents()) {
            if (e.hasRewarded()) {
                poolAfterSettlement = poolAfterSettlement.subtract(new BigInteger(e.getRewarded().getAmount()));
            } else if (e.hasSlashed()) {
                poolAfterSettlement = poolAfterSettlement.add(new BigInteger(e.getSlashed().getAmount()));
            }
        }
        LedgerEvent finished = only(h.ledgerEvents().stream().filter(LedgerEvent::hasTaskFinished).toList());
        assertEquals(poolAfterSettlement.toString(), finished.getTaskFinished().getPoolReturned(),
                "the pool's remainder returns to the creator");
        assertTrue(h.state().finished());
        assertEquals(Phase.PHASE_FINISHED, h.state().phase());
        assertEquals(BigInteger.ZERO, h.state().pool());

        h.refused(RefusalReason.TASK_FINISHED, () -> h.stake(nodes.get(0), Tokens.of(1)));
        h.refused(RefusalReason.TASK_FINISHED, () -> h.join(nodes.get(0)));
        h.refused(RefusalReason.DEADLINE_PASSED, () -> h.commit(d.voters().get(0), 1));
        h.refused(RefusalReason.NOT_STAKED, () -> h.withdraw(RoundHarness.hexId("a stranger")));

        BigInteger withdrawn = BigInteger.ZERO;
        for (String node : nodes) {
            BigInteger owed = h.stake(node).add(h.reward(node));
            assertEquals(owed, h.withdraw(node), "stake plus rewards, node " + node);
            assertEquals(BigInteger.ZERO, h.stake(node).add(h.reward(node)));
            h.refused(RefusalReason.NOT_STAKED, () -> h.withdraw(node));
            withdrawn = withdrawn.add(owed);
        }
        BigInteger deposited = sum(nodes);
        assertEquals(POOL.add(deposited), withdrawn.add(poolAfterSettlement),
                "every token the creator and the nodes brought went back out");
        // Withdrawals are the only events after TaskFinished, and nothing else is owed.
        h.advance(3_600_000);
        List<LedgerEvent> all = h.ledgerEvents();
        int at = all.indexOf(finished);
        assertEquals(nodes.size(), all.size() - at - 1);
        assertTrue(all.subList(at + 1, all.size()).stream().allMatch(LedgerEvent::hasWithdrawn));
    }

    @Test
    void failedRoundsStillCountAmongTheRounds() throws Exception {
        h = RoundHarness.create(dir, params().setTotalRounds(2));
        List<String> nodes = RoundHarness.nodes(2);
        stakeAll(nodes, 20, 20);
        h.join(nodes.get(0));
        h.join(nodes.get(1));
        assertEquals(Phase.PHASE_JOIN, h.state().phase(), "2 of min_participants 3: the draw waits");
        h.passDeadline();
        RoundFinished failed = only(h.events(0, ROUND_FINISHED)).getRoundFinished();
        assertEquals(RoundResult.ROUND_RESULT_FAILED, failed.getResult());
        assertTrue(failed.getReason().contains("2"), failed.getReason());
        assertEquals(INITIAL, failed.getGlobalModelSha256());
        assertTrue(h.events(0, SLASHED).isEmpty() && h.events(0, REWARDED).isEmpty(), "no settlement");
        assertEquals(POOL, h.state().pool());
        assertEquals(1, h.round());
        assertEquals(List.of(), h.state().joined(), "round 1 starts with nobody joined");
        h.join(nodes.get(0));
        h.passDeadline();
        assertTrue(h.state().finished(), "round 1 was the last of T = 2");
        assertEquals(POOL.toString(), only(h.ledgerEvents().stream().filter(LedgerEvent::hasTaskFinished).toList())
                .getTaskFinished().getPoolReturned());
    }

    // ------------------------------------------------------------------------------------------ failed rounds

    @Test
    void tooFewJoinsAtTheJoinDeadlineFailTheRoundWithoutSettlement() throws Exception {
        h = RoundHarness.create(dir, params());
        List<String> nodes = RoundHarness.nodes(5);
        stakeAll(nodes, 20, 30, 40, 50, 60);
        h.join(nodes.get(0));
        h.join(nodes.get(1));
        h.advance(599_999);
        assertEquals(Phase.PHASE_JOIN, h.state().phase(), "a millisecond before the deadline");
        h.advance(1);
        RoundFinished failed = only(h.events(0, ROUND_FINISHED)).getRoundFinished();
        assertEquals(RoundResult.ROUND_RESULT_FAILED, failed.getResult());
        assertTrue(h.events(0, ROLES_DRAWN).isEmpty());
        assertEquals(POOL, h.state().pool());
        for (int i = 0; i < 5; i++) {
            assertEquals(stakeAt(nodes.get(i)), h.stake(nodes.get(i)));
        }
        assertEquals(1, h.round());
        assertEquals(Phase.PHASE_JOIN, h.state().phase());
    }

    @Test
    void enoughJoinsAtTheJoinDeadlineStartTheRoundWithThoseWhoJoined() throws Exception {
        h = RoundHarness.create(dir, params());
        List<String> nodes = RoundHarness.nodes(5);
        stakeAll(nodes, 20, 30, 40, 50, 60);
        for (String node : nodes.subList(0, 3)) {
            h.join(node);
        }
        assertEquals(Phase.PHASE_JOIN, h.state().phase(), "two staked nodes may still join");
        h.passDeadline();
        RoleDraw d = h.draw();
        assertEquals(3, d.proposers().size() + d.voters().size());
        h.refused(RefusalReason.WRONG_PHASE, () -> h.join(nodes.get(3)));
    }

    @Test
    void aRoundWithoutAnyUpdateFailsWithoutSettlement() throws Exception {
        h = RoundHarness.create(dir, params());
        List<String> nodes = RoundHarness.nodes(5);
        stakeAll(nodes, 20, 30, 40, 50, 60);
        h.joinAll(nodes);
        h.passDeadline();
        RoundFinished failed = only(h.events(0, ROUND_FINISHED)).getRoundFinished();
        assertEquals(RoundResult.ROUND_RESULT_FAILED, failed.getResult());
        assertFalse(failed.getReason().isEmpty());
        assertTrue(h.events(0, SLASHED).isEmpty(), "no update: the round fails, nobody is settled");
        assertTrue(h.candidates.calls.isEmpty(), "nothing to aggregate");
        assertEquals(POOL, h.state().pool());
        for (int i = 0; i < 5; i++) {
            assertEquals(stakeAt(nodes.get(i)), h.stake(nodes.get(i)));
        }
        assertEquals(1, h.round());
    }

    @Test
    void anAggregationThatFailsFailsTheRoundWithoutSettlement() throws Exception {
        h = RoundHarness.create(dir, params());
        h.candidates.failing(r -> r == 0);
        List<String> nodes = RoundHarness.nodes(5);
        stakeAll(nodes, 20, 30, 40, 50, 60);
        h.joinAll(nodes);
        h.contributeAll();
        RoundFinished failed = only(h.events(0, ROUND_FINISHED)).getRoundFinished();
        assertEquals(RoundResult.ROUND_RESULT_FAILED, failed.getResult());
        assertTrue(failed.getReason().startsWith("aggregation failed: krum needs"), failed.getReason());
        assertEquals(INITIAL, failed.getGlobalModelSha256());
        assertTrue(h.state().candidateOf(0).isEmpty());
        assertTrue(h.events(0, SLASHED).isEmpty() && h.events(0, REWARDED).isEmpty());
        assertEquals(POOL, h.state().pool());
        assertEquals(1, h.round());
        assertEquals(Phase.PHASE_JOIN, h.state().phase());
    }

    // ------------------------------------------------------------------------------------------ refusals

    @Test
    void stakingTwiceAddsUpAndTheSnapshotAndTallyUseTheTotal() throws Exception {
        h = RoundHarness.create(dir, params());
        List<String> nodes = RoundHarness.nodes(5);
        String twice = nodes.get(0);
        h.refused(RefusalReason.NOT_STAKED, () -> h.join(twice));
        h.stake(twice, Tokens.of(6));
        h.refused(RefusalReason.BELOW_MIN_STAKE, () -> h.join(twice));
        h.refused(RefusalReason.INVALID_PARAMETER, () -> h.stake(twice, BigInteger.ZERO));
        h.stake(twice, Tokens.of(5));
        assertEquals(Tokens.of(11), h.stake(twice));
        deposits.put(twice, Tokens.of(11));
        List<Staked> staked = h.ledgerEvents().stream().filter(e -> e.getEventCase() == STAKED)
                .map(LedgerEvent::getStaked).toList();
        assertEquals(List.of(Tokens.of(6).toString(), Tokens.of(5).toString()),
                staked.stream().map(Staked::getAmount).toList());
        assertEquals(List.of(Tokens.of(6).toString(), Tokens.of(11).toString()),
                staked.stream().map(Staked::getTotalStake).toList());
        assertEquals(RoundHarness.publicKey(twice), staked.get(0).getPublicKey());
        assertTrue(staked.get(1).getPublicKey().isEmpty(), "the key is recorded once");

        stakeAll(nodes.subList(1, 5), 20, 30, 40, 50);
        RoleDraw d = h.joinAll(nodes);
        assertEquals(Tokens.of(11), h.state().snapshotStake(twice));
        h.contributeAll();
        for (String v : d.voters()) {
            h.commit(v, 1);
        }
        for (String v : d.voters()) {
            h.reveal(v);
        }
        assertEquals(sum(d.voters()).toString(), only(h.events(0, ROUND_FINISHED)).getRoundFinished().getTally(),
                "votes weigh the snapshotted stakes, the double stake included");
    }

    @Test
    void aRevealThatDoesNotMatchItsCommitmentIsRefused() throws Exception {
        h = RoundHarness.create(dir, params());
        List<String> nodes = RoundHarness.nodes(5);
        stakeAll(nodes, 20, 30, 40, 50, 60);
        RoleDraw d = h.joinAll(nodes);
        h.contributeAll();
        List<String> v = d.voters();
        h.commit(v.get(0), 1);
        RoundHarness.Vote honest = h.votes.get(v.get(0));
        h.refused(RefusalReason.DUPLICATE_VOTE, () -> h.commit(v.get(0), 1));
        h.refused(RefusalReason.MALFORMED_REQUEST, () -> h.engine().commit(v.get(1), 0,
                ByteString.copyFrom(new byte[31]), h.nonce()));
        // v1 copies v0's commitment: the voter id inside the hash makes it worthless to v1.
        h.engine().commit(v.get(1), 0, honest.commitment(), h.nonce());
        h.commit(v.get(2), -1);
        h.refused(RefusalReason.WRONG_PHASE, () -> h.reveal(v.get(0)));
        h.passDeadline();

        TaskEngine e = h.engine();
        h.refused(RefusalReason.REVEAL_MISMATCH, () -> h.revealLie(v.get(0)));
        h.refused(RefusalReason.REVEAL_MISMATCH, () -> e.reveal(v.get(0), 0, honest.score(), honest.metric() + 0.01,
                honest.salt(), h.nonce()));
        h.refused(RefusalReason.REVEAL_MISMATCH, () -> e.reveal(v.get(0), 0, honest.score(), honest.metric(),
                ByteString.copyFrom(new byte[16]), h.nonce()));
        h.refused(RefusalReason.REVEAL_MISMATCH, () -> e.reveal(v.get(1), 0, honest.score(), honest.metric(),
                honest.salt(), h.nonce()));
        h.refused(RefusalReason.INVALID_PARAMETER, () -> e.reveal(v.get(0), 0, 0, honest.metric(), honest.salt(),
                h.nonce()));
        h.refused(RefusalReason.INVALID_PARAMETER, () -> e.reveal(v.get(0), 0, 1, Double.NaN, honest.salt(),
                h.nonce()));
        h.refused(RefusalReason.MALFORMED_REQUEST, () -> e.reveal(v.get(0), 0, 1, honest.metric(),
                ByteString.copyFrom(new byte[15]), h.nonce()));
        h.refused(RefusalReason.NOT_COMMITTED, () -> h.reveal(v.get(3)));
        h.reveal(v.get(0));
        h.refused(RefusalReason.DUPLICATE_VOTE, () -> h.reveal(v.get(0)));
        h.reveal(v.get(2));
        assertEquals(Phase.PHASE_REVEAL, h.state().phase(), "v1 committed and can never reveal");
        h.passDeadline();
        // v1 could not open its copied commitment: a no-show.
        List<String> noShows = h.events(0, SLASHED).stream()
                .filter(s -> s.getSlashed().getReason() == SettlementReason.NO_SHOW)
                .map(s -> s.getSlashed().getNodeId()).toList();
        assertEquals(List.of(v.get(1), v.get(3)), noShows);
    }

    @Test
    void onlyTheDrawnRolesMayContributeAndVote() throws Exception {
        h = RoundHarness.create(dir, params().setProposerFraction("0.4"));
        List<String> nodes = RoundHarness.nodes(6);
        stakeAll(nodes, 20, 30, 40, 50, 60, 70);
        String idle = nodes.get(5);
        h.refused(RefusalReason.WRONG_PHASE, () -> h.contribute(nodes.get(0)));
        for (String node : nodes.subList(0, 5)) {
            h.join(node);
        }
        h.passDeadline();
        RoleDraw d = h.draw();
        assertEquals(2, d.proposers().size(), "ceil(0.4 * 5)");
        String p0 = d.proposers().get(0);
        h.refused(RefusalReason.NOT_PROPOSER, () -> h.contribute(d.voters().get(0)));
        h.refused(RefusalReason.NOT_PROPOSER, () -> h.contribute(idle));
        h.refused(RefusalReason.UNKNOWN_ROUND, () -> h.engine().contributed(p0, 3, TestParams.sha256("u"), 1, 1,
                h.nonce()));
        h.refused(RefusalReason.WRONG_PHASE, () -> h.engine().contributed(p0, 1, TestParams.sha256("u"), 1, 1,
                h.nonce()));
        h.refused(RefusalReason.WRONG_PHASE, () -> h.commit(d.voters().get(0), 1));
        h.contribute(p0);
        h.refused(RefusalReason.DUPLICATE_UPDATE, () -> h.contribute(p0));
        h.contribute(d.proposers().get(1));
        h.refused(RefusalReason.DEADLINE_PASSED, () -> h.contribute(p0));

        h.refused(RefusalReason.NOT_VOTER, () -> h.commit(p0, 1));
        h.refused(RefusalReason.NOT_VOTER, () -> h.commit(idle, 1));
        h.refused(RefusalReason.NOT_VOTER, () -> h.commit(RoundHarness.hexId("a stranger"), 1));
        for (String v : d.voters()) {
            h.commit(v, 1);
        }
        h.refused(RefusalReason.NOT_VOTER, () -> h.reveal(p0));
        for (String v : d.voters()) {
            h.reveal(v);
        }
        assertEquals(BigInteger.ZERO, h.reward(idle), "a node that did not join is not settled");
        assertEquals(stakeAt(idle), h.stake(idle));
    }

    @Test
    void lateRequestsAreRefusedAsPastTheirDeadline() throws Exception {
        h = RoundHarness.create(dir, params().setProposerFraction("0.25"));
        List<String> nodes = RoundHarness.nodes(6);
        stakeAll(nodes, 20, 30, 40, 50, 60, 70);
        RoleDraw d = h.joinAll(nodes);
        assertEquals(2, d.proposers().size(), "ceil(0.25 * 6)");
        String late = d.proposers().get(1);
        h.contribute(d.proposers().get(0));
        h.passDeadline();
        // The contribute deadline passed with one update: it is aggregated alone.
        assertEquals(List.of(d.proposers().get(0)), h.candidates.calls.get(0).contributors());
        h.refused(RefusalReason.DEADLINE_PASSED, () -> h.contribute(late));

        List<String> v = d.voters();
        h.commit(v.get(0), 1);
        h.commit(v.get(1), 1);
        h.advance(600_000 - 1);
        h.commit(v.get(2), 1);
        assertEquals(Phase.PHASE_COMMIT, h.state().phase(), "v3 has not committed and the window is open");
        // The deadline passes and no timer marks it: the late request itself brings the round up
        // to date first, then is refused as DEADLINE_PASSED (the window has closed), not WRONG_PHASE.
        h.clock.addAndGet(1);
        Refusal tooLate = assertThrows(Refusal.class, () -> h.commit(v.get(3), 1));
        assertEquals(RefusalReason.DEADLINE_PASSED, tooLate.reason(), tooLate.getMessage());
        assertEquals(Phase.PHASE_REVEAL, h.state().phase());
        assertEquals(h.clock.get() + 600_000, h.state().deadline(), "the reveal window opened at the deadline");
        h.reveal(v.get(0));
        h.reveal(v.get(1));
        h.passDeadline();
        // A reveal after the reveal deadline: the round is over, so DEADLINE_PASSED too.
        assertEquals(1, h.round());
        h.refused(RefusalReason.DEADLINE_PASSED, () -> h.reveal(v.get(2)));
        assertEquals(List.of(late + " NO_SHOW", v.get(2) + " NO_SHOW", v.get(3) + " NO_SHOW"),
                h.events(0, SLASHED).stream().map(e -> e.getSlashed().getNodeId() + " "
                        + e.getSlashed().getReason()).toList(),
                "a proposer that sent nothing and voters that did not commit or reveal are no-shows");
        // Joining the round that is over, or one that has not opened: WRONG_PHASE.
        h.refused(RefusalReason.WRONG_PHASE, () -> h.engine().join(nodes.get(0), 0, h.nonce()));
        h.refused(RefusalReason.WRONG_PHASE, () -> h.engine().join(nodes.get(0), 2, h.nonce()));
    }

    @Test
    void joinsStopAtTheDrawAndAtMaxParticipants() throws Exception {
        h = RoundHarness.create(dir, params().setMaxParticipants(3));
        List<String> nodes = RoundHarness.nodes(5);
        stakeAll(nodes, 20, 30, 40, 50, 60);
        h.join(nodes.get(0));
        h.refused(RefusalReason.ALREADY_JOINED, () -> h.join(nodes.get(0)));
        h.join(nodes.get(1));
        assertTrue(h.state().draw().isEmpty());
        h.join(nodes.get(2));
        assertTrue(h.state().draw().isPresent(), "max_participants joined: the draw is due at once");
        h.refused(RefusalReason.WRONG_PHASE, () -> h.join(nodes.get(3)));
        assertEquals(3, h.state().joined().size());
    }

    @Test
    void replayedNoncesAreRefusedAlsoAfterARestart() throws Exception {
        h = RoundHarness.create(dir, params());
        List<String> nodes = RoundHarness.nodes(5);
        TaskEngine e = h.engine();
        ByteString stakeNonce = h.nonce();
        e.stake(nodes.get(0), RoundHarness.publicKey(nodes.get(0)), Tokens.of(20), stakeNonce);
        deposits.put(nodes.get(0), Tokens.of(20));
        h.refused(RefusalReason.REPLAYED_NONCE, () -> e.stake(nodes.get(0), RoundHarness.publicKey(nodes.get(0)),
                Tokens.of(20), stakeNonce));
        stakeAll(nodes.subList(1, 5), 30, 40, 50, 60);
        Map<String, ByteString> joinNonces = new HashMap<>();
        for (String node : nodes) {
            joinNonces.put(node, h.nonce());
            e.join(node, 0, joinNonces.get(node));
        }
        RoleDraw d0 = h.draw();
        h.contributeAll();
        Map<String, ByteString> commitNonces = new HashMap<>();
        for (String v : d0.voters()) {
            commitNonces.put(v, h.nonce());
            ByteString salt = ByteString.copyFrom(new byte[16]);
            e.commit(v, 0, ByteString.copyFrom(org.murmur.proto.VoteCommitment.of(TASK, 0, v, h.candidate()
                    .toByteArray(), 1, 0.5, salt.toByteArray())), commitNonces.get(v));
        }
        for (String v : d0.voters()) {
            e.reveal(v, 0, 1, 0.5, ByteString.copyFrom(new byte[16]), h.nonce());
        }
        assertEquals(1, h.round());

        h.reopen();
        TaskEngine reopened = h.engine();
        for (String node : nodes) {
            h.refused(RefusalReason.REPLAYED_NONCE, () -> reopened.join(node, 1, joinNonces.get(node)));
        }
        h.refused(RefusalReason.REPLAYED_NONCE, () -> reopened.stake(nodes.get(0),
                RoundHarness.publicKey(nodes.get(0)), Tokens.of(1), stakeNonce));
        RoleDraw d1 = h.joinAll(nodes);
        h.contributeAll();
        String both = d1.voters().stream().filter(d0.voters()::contains).findFirst().orElseThrow();
        h.refused(RefusalReason.REPLAYED_NONCE, () -> reopened.commit(both, 1, ByteString.copyFrom(new byte[32]),
                commitNonces.get(both)));
        h.commit(both, 1);
    }

    // ------------------------------------------------------------------------------------------ helpers

    /** Each node's deposits, as staked by the test. */
    private final Map<String, BigInteger> deposits = new HashMap<>();

    /** The i-th node stakes the i-th amount of whole tokens. */
    private void stakeAll(List<String> nodes, long... whole) throws Exception {
        assertEquals(nodes.size(), whole.length);
        for (int i = 0; i < whole.length; i++) {
            h.stake(nodes.get(i), Tokens.of(whole[i]));
            deposits.merge(nodes.get(i), Tokens.of(whole[i]), BigInteger::add);
        }
    }

    /** The node's stake as deposited (before any slash). */
    private BigInteger stakeAt(String node) {
        return deposits.get(node);
    }

    private BigInteger sum(List<String> nodes) {
        return nodes.stream().map(this::stakeAt).reduce(BigInteger.ZERO, BigInteger::add);
    }

    private static <T> T only(List<T> list) {
        assertEquals(1, list.size(), "exactly one: " + list);
        return list.get(0);
    }
}
