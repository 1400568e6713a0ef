package org.murmur.server.round;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.io.TempDirFactory;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.ledger.v1.RoundFinished;
import org.murmur.proto.ledger.v1.StakeSnapshot;
import org.murmur.proto.v1.Economics;
import org.murmur.proto.v1.Phase;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.RoundResult;
import org.murmur.proto.v1.TaskParams;
import org.murmur.server.economics.RoleDraw;
import org.murmur.server.economics.TaskRules;
import org.murmur.server.economics.TestParams;
import org.murmur.server.grpc.Refusal;
import org.murmur.server.ledger.LedgerRecord;

/**
 * Random runs of whole tasks: random parameters, then random stakes, joins, contributions, commits,
 * honest and lying reveals, clock jumps, aggregations finishing, withdrawals, and (in a second run
 * of the same script) crashes: the engine closed and reopened from its ledger at random points.
 * Throughout, tokens are conserved and a refused request records nothing; at the end, the ledger
 * replays to the same state, every role draw and tally is recomputed from the ledger alone, and
 * the crashed run ends exactly as the uncrashed one: same stakes, rewards and pool, same ledger
 * bytes.
 *
 * <p>Seeded: {@code -Dmurmur.seed=N} sets the first seed, {@code -Dmurmur.runs=K} how many (the
 * seed of a failure is in its message; rerun it alone with {@code -Dmurmur.runs=1}). Ledgers live
 * in a RAM-backed directory where there is one, since every append is fsynced.
 */
class RoundPropertyTest {
    private static final long FIRST_SEED = Long.getLong("murmur.seed", 7_2024_0607L);
    private static final int RUNS = Integer.getInteger("murmur.runs", 40);
    private static final int ACTIONS = 200;
    private static final int NODES = 6;

    @TempDir(factory = RamDirs.class)
    Path dir;

    @Test
    void randomRunsConserveTokensReplayExactlyAndSurviveCrashes() throws Exception {
        int crashes = 0;
        for (int i = 0; i < RUNS; i++) {
            long seed = FIRST_SEED + i;
            String where = "seed " + seed + " (rerun with -Dmurmur.seed=" + seed + " -Dmurmur.runs=1)";
            Run plain = new Run(seed, Files.createDirectories(dir.resolve(seed + "-plain")), false, where);
            StateView.Outcome expected = plain.play();
            Run crashing = new Run(seed, Files.createDirectories(dir.resolve(seed + "-crashing")), true,
                    where + ", crashing");
            StateView.Outcome actual = crashing.play();
            crashes += crashing.crashes;
            assertEquals(expected, actual, "a crashed and reopened run ends as the uncrashed one, " + where);
            assertEquals(-1, Files.mismatch(plain.h.ledger, crashing.h.ledger),
                    "and writes the same ledger, byte for byte, " + where);
        }
        assertTrue(crashes > 0, "the crashing runs crashed, seeds from " + FIRST_SEED);
    }

    /** One run of the script a seed draws. */
    private static final class Run {
        private final Random script;
        private final Random crashDice;
        private final boolean crashing;
        private final String where;
        private final Path dir;
        private final ManualExecutor aggregations = new ManualExecutor();
        private final List<String> nodes = RoundHarness.nodes(NODES);
        private RoundHarness h;
        private TaskRules rules;
        private BigInteger deposits = BigInteger.ZERO;
        private BigInteger withdrawn = BigInteger.ZERO;
        private BigInteger poolReturned;
        private int crashes;
        private int steps;

        Run(long seed, Path dir, boolean crashing, String where) {
            // Scrambled: java.util.Random's first draws from neighbouring seeds are alike.
            this.script = new Random(seed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L);
            this.crashDice = new Random(seed * 0xC2B2AE3D27D4EB4FL + 17);
            this.crashing = crashing;
            this.dir = dir;
            this.where = where;
        }

        StateView.Outcome play() throws Exception {
            TaskParams.Builder params = TestParams.minimal()
                    .setTotalRounds(1 + script.nextInt(6))
                    .setRoundSeconds(60)
                    .setMinStake("10")
                    .setRewardPool(Integer.toString(script.nextInt(100_000)))
                    .setProposerFraction(pick("0.2", "0.34", "0.5", "1"))
                    .setCommitteeSize(pick(0, 0, 1, 2))
                    .setStakeWeightedVotes(script.nextBoolean())
                    .setEconomics(script.nextBoolean() ? Economics.ECONOMICS_PRO_RATA
                            : Economics.ECONOMICS_FIXED_PENALTY)
                    .setSlashFraction(pick("0", "0.1", "0.5", "1"))
                    .setPenalty(pick("0", "3", "8", "25"))
                    .setMinVotes(1 + script.nextInt(2));
            int min = 1 + script.nextInt(4);
            params.setMinParticipants(min).setMaxParticipants(min + script.nextInt(4));
            h = RoundHarness.create(dir, params, aggregations);
            rules = h.rules();
            long failingRound = script.nextInt(8);
            h.candidates.failing(r -> r == failingRound);
            for (String node : nodes) {
                stake(node, 5 + script.nextInt(30));
            }
            for (steps = 0; steps < ACTIONS && !h.state().finished(); steps++) {
                act();
                check();
                maybeCrash();
                if (steps % 25 == 0) {
                    assertReplays();
                }
            }
            for (int guard = 0; !h.state().finished(); guard++) {
                assertTrue(guard < 20 * rules.totalRounds() + 20, "the task finishes, " + where);
                aggregations.runAll();
                h.advance(60_000);
                check();
                maybeCrash();
            }
            for (String node : nodes) {
                withdraw(node);
                check();
            }
            assertEquals(BigInteger.ZERO, h.state().pool());
            assertEquals(creatorPool().add(deposits), withdrawn.add(poolReturned),
                    "every token brought in went out, " + where);
            assertReplays();
            assertLedgerRecomputes();
            StateView.Outcome outcome = h.view().outcome();
            h.close();
            return outcome;
        }

        // -------------------------------------------------------------------------------------- actions

        /** Mostly what the phase asks for (so rounds get somewhere), otherwise anything at all. */
        private void act() throws Exception {
            TaskState s = h.state();
            if (script.nextInt(100) < 65) {
                switch (s.phase()) {
                    case PHASE_JOIN -> join(waiting(s.joined()));
                    case PHASE_CONTRIBUTE -> {
                        List<String> idle = new ArrayList<>(s.draw().orElseThrow().proposers());
                        s.contributions().forEach(c -> idle.remove(c.getNodeId()));
                        attemptContribution(idle.isEmpty() ? any() : pick(idle));
                    }
                    case PHASE_AGGREGATE -> aggregations.runAll();
                    case PHASE_COMMIT -> {
                        List<String> idle = new ArrayList<>(s.draw().orElseThrow().voters());
                        idle.removeAll(s.committedVoters());
                        commit(idle.isEmpty() ? any() : pick(idle));
                    }
                    case PHASE_REVEAL -> {
                        List<String> idle = new ArrayList<>(s.committedVoters());
                        idle.removeAll(s.reveals().keySet());
                        idle.sort(null);
                        reveal(idle.isEmpty() ? any() : pick(idle), s);
                    }
                    default -> advance();
                }
                return;
            }
            int dice = script.nextInt(100);
            if (dice < 10) {
                stake(any(), 1 + script.nextInt(25));
            } else if (dice < 20) {
                join(any());
            } else if (dice < 30) {
                attemptContribution(any());
            } else if (dice < 40) {
                commit(any());
            } else if (dice < 50) {
                reveal(any(), s);
            } else if (dice < 85) {
                advance();
            } else if (dice < 95) {
                aggregations.runAll();
            } else {
                withdraw(any());
            }
        }

        private String waiting(List<String> joined) {
            List<String> waiting = new ArrayList<>(nodes);
            waiting.removeAll(joined);
            return waiting.isEmpty() ? any() : pick(waiting);
        }

        private void join(String node) throws IOException {
            attempt(() -> h.join(node));
        }

        private void attemptContribution(String node) throws IOException {
            attempt(() -> h.contribute(node));
        }

        private void commit(String node) throws IOException {
            int score = script.nextBoolean() ? 1 : -1;
            attempt(() -> h.commit(node, score));
        }

        /** An honest reveal, or (one time in five) the opposite of what was committed, which must be refused. */
        private void reveal(String node, TaskState s) throws IOException {
            if (script.nextInt(5) > 0 || !h.votes.containsKey(node)) {
                attempt(() -> h.reveal(node));
                return;
            }
            boolean open = s.phase() == Phase.PHASE_REVEAL && h.votes.get(node).round() == s.round()
                    && s.committedVoters().contains(node) && !s.reveals().containsKey(node);
            long before = h.events();
            try {
                h.revealLie(node);
                fail("a reveal that contradicts its commitment was accepted, " + where);
            } catch (Refusal refused) {
                assertEquals(before, h.events(), where);
                if (open) {
                    assertEquals(RefusalReason.REVEAL_MISMATCH, refused.reason(), where);
                }
            }
        }

        /** The clock moves: mostly a little, sometimes past any deadline. */
        private void advance() throws IOException {
            h.advance(script.nextInt(4) == 0 ? script.nextInt(70_000) : script.nextInt(15_000));
        }

        private void stake(String node, long amount) throws Exception {
            BigInteger a = BigInteger.valueOf(amount);
            if (attempt(() -> h.stake(node, a))) {
                deposits = deposits.add(a);
            }
        }

        private void withdraw(String node) throws Exception {
            BigInteger owed = h.stake(node).add(h.reward(node));
            BigInteger[] paid = new BigInteger[1];
            if (attempt(() -> paid[0] = h.withdraw(node))) {
                assertEquals(owed, paid[0], "a withdrawal pays stake plus rewards, " + where);
                withdrawn = withdrawn.add(paid[0]);
            }
        }

        /** Runs a request; a refusal must leave the ledger untouched. Returns whether it was accepted. */
        private boolean attempt(Request request) throws IOException {
            long before = h.events();
            try {
                request.run();
                return true;
            } catch (Refusal refused) {
                assertEquals(before, h.events(), "a refused request records nothing (" + refused.reason() + "), "
                        + where);
                return false;
            }
        }

        private void maybeCrash() throws IOException {
            if (crashing && crashDice.nextInt(100) < 5) {
                h.reopen();
                crashes++;
            }
        }

        // -------------------------------------------------------------------------------------- checks

        private void check() throws IOException {
            TaskState s = h.state();
            if (s.finished() && poolReturned == null) {
                poolReturned = new BigInteger(h.ledgerEvents().stream().filter(LedgerEvent::hasTaskFinished)
                        .findFirst().orElseThrow().getTaskFinished().getPoolReturned());
            }
            BigInteger held = s.pool().add(withdrawn).add(poolReturned == null ? BigInteger.ZERO : poolReturned);
            for (Map.Entry<String, BigInteger> stake : s.stakes().entrySet()) {
                assertTrue(stake.getValue().signum() >= 0, "stakes are never negative, " + where);
                held = held.add(stake.getValue()).add(s.reward(stake.getKey()));
                if (s.isRemoved(stake.getKey())) {
                    assertTrue(stake.getValue().compareTo(rules.minStake()) < 0,
                            "a removed node is below min_stake, " + where);
                }
            }
            assertTrue(s.pool().signum() >= 0, "the pool is never negative, " + where);
            assertEquals(creatorPool().add(deposits), held,
                    "stakes + rewards + pool + withdrawn = creator's pool + deposits, step " + steps + ", " + where);
        }

        private void assertReplays() throws IOException {
            assertEquals(h.view(), StateView.of(RoundHarness.replay(h.ledger)), "replay, step " + steps + ", " + where);
        }

        /** Every draw and tally recomputed from the ledger alone; removed nodes never come back. */
        private void assertLedgerRecomputes() throws IOException {
            Map<Long, List<String>> joined = new HashMap<>();
            Map<Long, Map<String, BigInteger>> snapshots = new HashMap<>();
            Map<Long, RoleDraw> draws = new HashMap<>();
            Map<Long, Map<String, Integer>> reveals = new HashMap<>();
            Set<String> removed = new HashSet<>();
            for (LedgerRecord record : h.records()) {
                LedgerEvent e = RoundHarness.decode(record);
                long r = e.getRound();
                switch (e.getEventCase()) {
                    case STAKED -> assertFalse(removed.contains(e.getStaked().getNodeId()), "stake after removal, "
                            + where);
                    case JOINED -> {
                        assertFalse(removed.contains(e.getJoined().getNodeId()), "join after removal, " + where);
                        joined.computeIfAbsent(r, k -> new ArrayList<>()).add(e.getJoined().getNodeId());
                    }
                    case ROLES_DRAWN -> {
                        RoleDraw expected = RoundHarness.independentDraw(record.prevHash(), r,
                                joined.getOrDefault(r, List.of()), rules);
                        assertArrayEquals(expected.seed(), e.getRolesDrawn().getSeed().toByteArray(),
                                "seed of round " + r + ", " + where);
                        assertEquals(expected.proposers(), e.getRolesDrawn().getProposersList(), "round " + r + ", "
                                + where);
                        assertEquals(expected.voters(), e.getRolesDrawn().getVotersList(), "round " + r + ", " + where);
                        Map<String, BigInteger> snapshot = new LinkedHashMap<>();
                        for (StakeSnapshot st : e.getRolesDrawn().getStakesList()) {
                            snapshot.put(st.getNodeId(), new BigInteger(st.getStake()));
                        }
                        assertEquals(joined.get(r), List.copyOf(snapshot.keySet()), "snapshot of the joined, " + where);
                        snapshots.put(r, snapshot);
                        draws.put(r, expected);
                    }
                    case VOTE_REVEALED -> reveals.computeIfAbsent(r, k -> new HashMap<>())
                            .put(e.getVoteRevealed().getVoterId(), e.getVoteRevealed().getScore());
                    case ROUND_FINISHED -> {
                        RoundFinished f = e.getRoundFinished();
                        if (f.getResult() != RoundResult.ROUND_RESULT_FAILED) {
                            assertTally(r, f, draws.get(r), snapshots.get(r), reveals.getOrDefault(r, Map.of()));
                        }
                    }
                    case REMOVED -> removed.add(e.getRemoved().getNodeId());
                    default -> {
                    }
                }
            }
        }

        /** V = sum of w * s over revealed votes; accepted iff V >= 0 with min_votes revealed, else void. */
        private void assertTally(long r, RoundFinished f, RoleDraw draw, Map<String, BigInteger> snapshot,
                                 Map<String, Integer> scores) {
            BigInteger v = BigInteger.ZERO;
            int revealed = 0;
            for (Map.Entry<String, Integer> vote : scores.entrySet()) {
                assertTrue(draw.voters().contains(vote.getKey()), "only voters reveal, " + where);
                BigInteger w = rules.stakeWeightedVotes() ? snapshot.get(vote.getKey()) : BigInteger.ONE;
                v = v.add(w.multiply(BigInteger.valueOf(vote.getValue())));
                revealed++;
            }
            RoundResult expected = revealed < rules.minVotes() ? RoundResult.ROUND_RESULT_VOID
                    : v.signum() >= 0 ? RoundResult.ROUND_RESULT_ACCEPTED : RoundResult.ROUND_RESULT_REJECTED;
            assertEquals(expected, f.getResult(), "result of round " + r + ", " + where);
            assertEquals(v.toString(), f.getTally(), "V of round " + r + ", " + where);
            assertEquals(revealed, f.getVotesRevealed(), where);
        }

        // -------------------------------------------------------------------------------------- dice

        private BigInteger creatorPool() {
            return rules.rewardPool();
        }

        private String any() {
            return nodes.get(script.nextInt(nodes.size()));
        }

        private <T> T pick(List<T> from) {
            return from.get(script.nextInt(from.size()));
        }

        @SafeVarargs
        private <T> T pick(T... from) {
            return from[script.nextInt(from.length)];
        }
    }

    @FunctionalInterface
    private interface Request {
        void run() throws Refusal, IOException;
    }

    /** Temporary directories in RAM (/dev/shm) where the system has one: fsync is then free. */
    static final class RamDirs implements TempDirFactory {
        @Override
        public Path createTempDirectory(AnnotatedElementContext element, ExtensionContext context) throws IOException {
            Path shm = Path.of("/dev/shm");
            if (Files.isDirectory(shm) && Files.isWritable(shm)) {
                return Files.createTempDirectory(shm, "murmur-rounds-");
            }
            return Files.createTempDirectory("murmur-rounds-");
        }
    }
}
