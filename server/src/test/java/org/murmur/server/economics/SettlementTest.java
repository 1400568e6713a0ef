package org.murmur.server.economics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.ledger.v1.SettlementReason;
import org.murmur.proto.v1.Economics;
import org.murmur.proto.v1.RoundResult;

/**
 * Settlement (fl-alliance.md step 9) on hand-computed rounds. Amounts are in raw units so every
 * floor can be checked by hand; each expected line is worked out in the comment above it.
 */
class SettlementTest {
    private static final String TASK = "task-7";
    private static final long SEED = Long.getLong("murmur.seed", 977L);
    private static final RoundResult ACCEPTED = RoundResult.ROUND_RESULT_ACCEPTED;
    private static final RoundResult REJECTED = RoundResult.ROUND_RESULT_REJECTED;
    private static final RoundResult VOID = RoundResult.ROUND_RESULT_VOID;

    // -------------------------------------------------------------------------------------------- pro_rata

    @Test
    void proRataAcceptedWithANoShowVoterAndAProposerThatSentNothing() {
        TaskRules rules = proRata("0.1", 50, 10);
        Map<String, BigInteger> stakes = stakes("P1", 100, "P2", 50, "V1", 200, "V2", 100, "V3", 300);
        // V = 200 - 100 = 100 >= 0; V3 did not reveal, P2 sent no update.
        List<LedgerEvent> events = Settlement.settle(TASK, rules, new Settlement.Round(2, big(1000), stakes, stakes,
                List.of("P1", "P2"), Set.of("P1"), List.of("V1", "V2", "V3"), Map.of("V1", 1, "V2", -1), ACCEPTED));
        assertEquals(List.of(
                // losses floor(0.1 * stake): 5, 10, 30; 10% of each (floor) goes to the rewarded voters
                "slash P2 5 to_pool 5 NO_SHOW",
                "slash V2 10 to_pool 9 DISAGREEING_VOTER",
                "slash V3 30 to_pool 27 NO_SHOW",
                // R = 1000 / (10 - 2) = 125 over the rewarded stakes 100 + 200: 41.67 and 83.33
                "reward P1 41 ACCEPTED_PROPOSER",
                "reward V1 83 AGREEING_VOTER",
                // shares 0 + 1 + 3, all to V1, the one rewarded voter
                "reward V1 4 SLASH_SHARE",
                // P2 keeps 45 < min_stake 50
                "remove P2 45"), lines(events, 2));
        assertEquals(big(1000 + 45 - 41 - 83 - 4), poolAfter(big(1000), events), "the remainder of R stays");
    }

    @Test
    void proRataRejectedInTheLastRoundPaysTheWholePoolAndKeepsShareRemainders() {
        TaskRules rules = proRata("0.1", 50, 10);
        Map<String, BigInteger> stakes = stakes("P1", 100, "P2", 50, "V1", 200, "V2", 100, "V3", 300);
        // V = -200 + 100 - 300 < 0: rejected.
        List<LedgerEvent> events = Settlement.settle(TASK, rules, new Settlement.Round(9, big(1000), stakes, stakes,
                List.of("P1", "P2"), Set.of("P1", "P2"), List.of("V1", "V2", "V3"), Map.of("V1", -1, "V2", 1,
                "V3", -1), REJECTED));
        assertEquals(List.of(
                "slash P1 10 to_pool 9 REJECTED_PROPOSER",
                "slash P2 5 to_pool 5 REJECTED_PROPOSER",
                "slash V2 10 to_pool 9 DISAGREEING_VOTER",
                // R = 1000 / (10 - 9) = 1000 over 200 + 300
                "reward V1 400 AGREEING_VOTER",
                "reward V3 600 AGREEING_VOTER",
                // shares 1 + 0 + 1 = 2 pro rata: V1 floor(0.8) = 0 (no event), V3 floor(1.2) = 1
                "reward V3 1 SLASH_SHARE",
                "remove P2 45"), lines(events, 9));
        assertEquals(big(24), poolAfter(big(1000), events), "1000 + 25 - 1000 - 1: one unit of shares stays");
    }

    @Test
    void proRataVoidSlashesOnlyNoShowsAndKeepsEverySlashedToken() {
        TaskRules rules = proRata("0.1", 50, 10);
        Map<String, BigInteger> stakes = stakes("P1", 100, "P2", 50, "V1", 200, "V2", 100);
        List<LedgerEvent> events = Settlement.settle(TASK, rules, new Settlement.Round(0, big(1000), stakes, stakes,
                List.of("P1", "P2"), Set.of("P1"), List.of("V1", "V2"), Map.of("V1", 1), VOID));
        assertEquals(List.of(
                "slash P2 5 to_pool 5 NO_SHOW",
                "slash V2 10 to_pool 10 NO_SHOW",
                "remove P2 45"), lines(events, 0));
        assertEquals(big(1015), poolAfter(big(1000), events), "no reward in a void round");
    }

    @Test
    void aTieAcceptsAndSlashesTheMinority() {
        TaskRules rules = proRata("0.1", 10, 10);
        Map<String, BigInteger> stakes = stakes("P1", 100, "V1", 100, "V2", 100);
        Tally tally = Tally.of(List.of("V1", "V2"), Map.of("V1", 1, "V2", -1), stakes, true, 1);
        assertEquals(ACCEPTED, tally.result());
        List<LedgerEvent> events = Settlement.settle(TASK, rules, new Settlement.Round(0, big(1000), stakes, stakes,
                List.of("P1"), Set.of("P1"), List.of("V1", "V2"), Map.of("V1", 1, "V2", -1), tally.result()));
        assertEquals(List.of(
                "slash V2 10 to_pool 9 DISAGREEING_VOTER",
                "reward P1 50 ACCEPTED_PROPOSER",
                "reward V1 50 AGREEING_VOTER",
                "reward V1 1 SLASH_SHARE"), lines(events, 0));
    }

    @Test
    void theRoundRewardIsThePoolOverTheRoundsLeft() {
        TaskRules rules = proRata("0.1", 10, 7);
        Map<String, BigInteger> stakes = stakes("P1", 100);
        long[] expected = {1000 / 7, 1000 / 6, 1000 / 5, 1000 / 4, 1000 / 3, 1000 / 2, 1000};
        for (int r = 0; r < 7; r++) {
            List<LedgerEvent> events = Settlement.settle(TASK, rules, new Settlement.Round(r, big(1000), stakes, stakes,
                    List.of("P1"), Set.of("P1"), List.of(), Map.of(), ACCEPTED));
            assertEquals(List.of("reward P1 " + expected[r] + " ACCEPTED_PROPOSER"), lines(events, r), "round " + r);
        }
    }

    @Test
    void proRataSlashesTheSnapshottedStake() {
        // Murmur decides: "stake" in floor(alpha * stake) is the stake snapshotted at the draw (the
        // stake the node risked); a deposit after the draw is not at stake this round.
        TaskRules rules = proRata("0.1", 10, 10);
        Map<String, BigInteger> snapshot = stakes("P1", 100, "V1", 100);
        Map<String, BigInteger> now = stakes("P1", 100, "V1", 150);
        List<LedgerEvent> events = Settlement.settle(TASK, rules, new Settlement.Round(0, big(0), snapshot, now,
                List.of("P1"), Set.of("P1"), List.of("V1"), Map.of(), VOID));
        assertEquals(List.of("slash V1 10 to_pool 10 NO_SHOW"), lines(events, 0));
    }

    @Test
    void aZeroSlashFractionSlashesNothingAndRemovesNobody() {
        TaskRules rules = proRata("0", 10, 10);
        Map<String, BigInteger> stakes = stakes("P1", 10, "V1", 10, "V2", 10);
        List<LedgerEvent> events = Settlement.settle(TASK, rules, new Settlement.Round(0, big(0), stakes, stakes,
                List.of("P1"), Set.of(), List.of("V1", "V2"), Map.of("V1", -1), REJECTED));
        assertEquals(List.of(), lines(events, 0), "no zero-amount events, and nobody fell below min_stake");
    }

    @Test
    void aFullSlashFractionTakesTheWholeStake() {
        TaskRules rules = proRata("1", 10, 10);
        Map<String, BigInteger> stakes = stakes("P1", 40, "V1", 30, "V2", 20);
        // V = -30 + 20 < 0: rejected. Slashes take everything: 40 and 20, 10% of each to V1.
        List<LedgerEvent> events = Settlement.settle(TASK, rules, new Settlement.Round(0, big(100), stakes, stakes,
                List.of("P1"), Set.of("P1"), List.of("V1", "V2"), Map.of("V1", -1, "V2", 1), REJECTED));
        assertEquals(List.of(
                "slash P1 40 to_pool 36 REJECTED_PROPOSER",
                "slash V2 20 to_pool 18 DISAGREEING_VOTER",
                "reward V1 10 AGREEING_VOTER",
                "reward V1 6 SLASH_SHARE",
                "remove P1 0",
                "remove V2 0"), lines(events, 0));
    }

    // -------------------------------------------------------------------------------------------- fixed_penalty

    @Test
    void fixedPenaltyAcceptedSharesVoterSlashesEquallyAndReturnsProposerSlashesToThePool() {
        TaskRules rules = fixedPenalty(8, 60, 4);
        Map<String, BigInteger> stakes = stakes("P1", 64, "P2", 64, "V1", 64, "V2", 100, "V3", 64, "V4", 64,
                "V5", 64);
        // V = 64 + 100 + 64 - 64 >= 0; V5 did not reveal, P2 sent no update.
        List<LedgerEvent> events = Settlement.settle(TASK, rules, new Settlement.Round(1, big(1000), stakes, stakes,
                List.of("P1", "P2"), Set.of("P1"), List.of("V1", "V2", "V3", "V4", "V5"),
                Map.of("V1", 1, "V2", 1, "V3", 1, "V4", -1), ACCEPTED));
        assertEquals(List.of(
                // min(stake, 8); a proposer's goes to the pool, a voter's to the rewarded voters
                "slash P2 8 to_pool 8 NO_SHOW",
                "slash V4 8 to_pool 0 DISAGREEING_VOTER",
                "slash V5 8 to_pool 0 NO_SHOW",
                // R = 1000 / (4 - 1) = 333 over 64 + 64 + 100 + 64 = 292: 72.99, 72.99, 114.04, 72.99
                "reward P1 72 ACCEPTED_PROPOSER",
                "reward V1 72 AGREEING_VOTER",
                "reward V2 114 AGREEING_VOTER",
                "reward V3 72 AGREEING_VOTER",
                // 16 shared equally by three, whatever their stakes: 5 each, 1 left in the pool
                "reward V1 5 SLASH_SHARE",
                "reward V2 5 SLASH_SHARE",
                "reward V3 5 SLASH_SHARE",
                "remove P2 56",
                "remove V4 56",
                "remove V5 56"), lines(events, 1));
        assertEquals(big(1000 + 24 - 330 - 15), poolAfter(big(1000), events));
    }

    @Test
    void fixedPenaltyRejectedTakesAtMostTheStake() {
        TaskRules rules = fixedPenalty(8, 3, 10);
        Map<String, BigInteger> stakes = stakes("P1", 5, "V1", 10, "V2", 4);
        // V = -10 + 4 < 0: rejected.
        List<LedgerEvent> events = Settlement.settle(TASK, rules, new Settlement.Round(0, big(90), stakes, stakes,
                List.of("P1"), Set.of("P1"), List.of("V1", "V2"), Map.of("V1", -1, "V2", 1), REJECTED));
        assertEquals(List.of(
                "slash P1 5 to_pool 5 REJECTED_PROPOSER",
                "slash V2 4 to_pool 0 DISAGREEING_VOTER",
                "reward V1 9 AGREEING_VOTER",
                "reward V1 4 SLASH_SHARE",
                "remove P1 0",
                "remove V2 0"), lines(events, 0));
    }

    @Test
    void fixedPenaltyVoidKeepsNoShowSlashesInThePool() {
        TaskRules rules = fixedPenalty(8, 60, 10);
        Map<String, BigInteger> stakes = stakes("P1", 64, "V1", 64, "V2", 70);
        List<LedgerEvent> events = Settlement.settle(TASK, rules, new Settlement.Round(3, big(500), stakes, stakes,
                List.of("P1"), Set.of("P1"), List.of("V1", "V2"), Map.of("V1", 1), VOID));
        assertEquals(List.of("slash V2 8 to_pool 8 NO_SHOW"), lines(events, 3), "70 - 8 = 62 >= 60: not removed");
        assertEquals(big(508), poolAfter(big(500), events));
    }

    @Test
    void onlyAcceptedRejectedAndVoidRoundsAreSettled() {
        TaskRules rules = proRata("0.1", 10, 10);
        Map<String, BigInteger> stakes = stakes("P1", 10);
        for (RoundResult result : new RoundResult[] {RoundResult.ROUND_RESULT_FAILED,
                RoundResult.ROUND_RESULT_UNSPECIFIED}) {
            assertThrows(IllegalArgumentException.class, () -> Settlement.settle(TASK, rules, new Settlement.Round(0,
                    big(10), stakes, stakes, List.of("P1"), Set.of("P1"), List.of(), Map.of(), result)));
        }
    }

    // -------------------------------------------------------------------------------------------- properties

    /** Random rounds: who is rewarded and slashed follows step 9 exactly, and no token is made or lost. */
    @Test
    void randomRoundsFollowTheRulesAndConserveTokens() {
        Random random = new Random(SEED);
        for (int trial = 0; trial < 2000; trial++) {
            String where = "seed " + SEED + " (-Dmurmur.seed), trial " + trial;
            boolean proRata = random.nextBoolean();
            long minStake = 1 + random.nextInt(100);
            int total = 1 + random.nextInt(12);
            TaskRules rules = proRata
                    ? proRata(new String[] {"0", "0.1", "0.25", "0.333", "1"}[random.nextInt(5)], minStake, total)
                    : fixedPenalty(random.nextInt(3) == 0 ? 0 : 1 + random.nextInt(150), minStake, total);
            int n = 1 + random.nextInt(9);
            List<String> nodes = new ArrayList<>();
            Map<String, BigInteger> snapshot = new LinkedHashMap<>();
            Map<String, BigInteger> current = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                String node = "n" + i;
                nodes.add(node);
                BigInteger s = big(minStake + random.nextInt(300));
                snapshot.put(node, s);
                current.put(node, s.add(big(random.nextInt(3) == 0 ? random.nextInt(50) : 0)));
            }
            int proposerCount = 1 + random.nextInt(n);
            List<String> proposers = nodes.subList(0, proposerCount);
            List<String> voters = nodes.subList(proposerCount, n);
            Set<String> contributors = new HashSet<>();
            proposers.forEach(p -> {
                if (random.nextInt(4) != 0) {
                    contributors.add(p);
                }
            });
            Map<String, Integer> scores = new HashMap<>();
            voters.forEach(v -> {
                if (random.nextInt(4) != 0) {
                    scores.put(v, random.nextBoolean() ? 1 : -1);
                }
            });
            RoundResult result = new RoundResult[] {ACCEPTED, REJECTED, VOID}[random.nextInt(3)];
            long r = random.nextInt(total);
            BigInteger pool = big(random.nextInt(10_000));
            List<LedgerEvent> events = Settlement.settle(TASK, rules, new Settlement.Round(r, pool, snapshot, current,
                    proposers, contributors, voters, scores, result));

            Map<String, SettlementReason> expectedSlash = new HashMap<>();
            Set<String> expectedRewarded = new HashSet<>();
            for (String p : proposers) {
                if (!contributors.contains(p)) {
                    expectedSlash.put(p, SettlementReason.NO_SHOW);
                } else if (result == ACCEPTED) {
                    expectedRewarded.add(p);
                } else if (result == REJECTED) {
                    expectedSlash.put(p, SettlementReason.REJECTED_PROPOSER);
                }
            }
            for (String v : voters) {
                Integer s = scores.get(v);
                if (s == null) {
                    expectedSlash.put(v, SettlementReason.NO_SHOW);
                } else if (result != VOID) {
                    if ((s > 0) == (result == ACCEPTED)) {
                        expectedRewarded.add(v);
                    } else {
                        expectedSlash.put(v, SettlementReason.DISAGREEING_VOTER);
                    }
                }
            }

            BigInteger slashedTotal = BigInteger.ZERO;
            BigInteger slashedFromVoters = BigInteger.ZERO;
            BigInteger roundRewards = BigInteger.ZERO;
            BigInteger shares = BigInteger.ZERO;
            Map<String, BigInteger> after = new HashMap<>(current);
            Set<String> slashedSeen = new HashSet<>();
            Set<String> removed = new HashSet<>();
            for (LedgerEvent e : events) {
                assertEquals(TASK, e.getTaskId(), where);
                assertEquals(r, e.getRound(), where);
                if (e.hasSlashed()) {
                    String node = e.getSlashed().getNodeId();
                    BigInteger amount = new BigInteger(e.getSlashed().getAmount());
                    assertTrue(amount.signum() > 0, "no zero slash, " + where);
                    assertTrue(slashedSeen.add(node), "slashed twice: " + node + ", " + where);
                    assertEquals(expectedSlash.get(node), e.getSlashed().getReason(), node + ", " + where);
                    BigInteger loss = proRata ? rules.slashFraction().floorTimes(snapshot.get(node))
                            : rules.penalty().min(current.get(node));
                    assertEquals(loss, amount, "the loss of " + node + ", " + where);
                    after.merge(node, amount.negate(), BigInteger::add);
                    slashedTotal = slashedTotal.add(amount);
                    if (voters.contains(node)) {
                        slashedFromVoters = slashedFromVoters.add(amount);
                    }
                } else if (e.hasRewarded()) {
                    String node = e.getRewarded().getNodeId();
                    BigInteger amount = new BigInteger(e.getRewarded().getAmount());
                    assertTrue(amount.signum() > 0, "no zero reward, " + where);
                    if (e.getRewarded().getReason() == SettlementReason.SLASH_SHARE) {
                        assertTrue(expectedRewarded.contains(node) && voters.contains(node),
                                "a share goes to a rewarded voter, not " + node + ", " + where);
                        shares = shares.add(amount);
                    } else {
                        assertTrue(expectedRewarded.contains(node), node + " is not to be rewarded, " + where);
                        assertEquals(proposers.contains(node) ? SettlementReason.ACCEPTED_PROPOSER
                                : SettlementReason.AGREEING_VOTER, e.getRewarded().getReason(), where);
                        roundRewards = roundRewards.add(amount);
                    }
                } else {
                    assertTrue(e.hasRemoved(), where);
                    String node = e.getRemoved().getNodeId();
                    removed.add(node);
                    assertEquals(after.get(node).toString(), e.getRemoved().getStakeLeft(), where);
                }
            }
            Set<String> expectedSlashedNonZero = new HashSet<>();
            expectedSlash.keySet().forEach(node -> {
                BigInteger loss = proRata ? rules.slashFraction().floorTimes(snapshot.get(node))
                        : rules.penalty().min(current.get(node));
                if (loss.signum() > 0) {
                    expectedSlashedNonZero.add(node);
                }
            });
            assertEquals(expectedSlashedNonZero, slashedSeen, "who is slashed, " + where);
            BigInteger reward = result == VOID ? BigInteger.ZERO : pool.divide(big(total - r));
            assertTrue(roundRewards.compareTo(reward) <= 0, "round rewards within R, " + where);
            if (result != VOID && !expectedRewarded.isEmpty()) {
                assertTrue(reward.subtract(roundRewards).compareTo(big(expectedRewarded.size())) < 0,
                        "floor leaves less than one unit per rewarded node, " + where);
            }
            BigInteger shareable = proRata ? BigInteger.ZERO : slashedFromVoters;
            if (proRata) {
                for (LedgerEvent e : events) {
                    if (e.hasSlashed()) {
                        shareable = shareable.add(new BigInteger(e.getSlashed().getAmount()).divide(BigInteger.TEN));
                    }
                }
            }
            assertTrue(shares.compareTo(shareable) <= 0, "shares within the shareable slashes, " + where);
            BigInteger poolAfter = pool.add(slashedTotal).subtract(roundRewards).subtract(shares);
            assertTrue(poolAfter.signum() >= 0, "the pool never goes negative, " + where);
            Set<String> expectedRemoved = new HashSet<>();
            slashedSeen.forEach(node -> {
                if (after.get(node).compareTo(rules.minStake()) < 0) {
                    expectedRemoved.add(node);
                }
            });
            assertEquals(expectedRemoved, removed, "removed exactly those slashed below min_stake, " + where);
        }
    }

    // -------------------------------------------------------------------------------------------- helpers

    static TaskRules proRata(String alpha, long minStake, int totalRounds) {
        return TestParams.rules(TestParams.minimal().setEconomics(Economics.ECONOMICS_PRO_RATA).setSlashFraction(alpha)
                .setMinStake(Long.toString(minStake)).setTotalRounds(totalRounds));
    }

    static TaskRules fixedPenalty(long gamma, long minStake, int totalRounds) {
        return TestParams.rules(TestParams.minimal().setEconomics(Economics.ECONOMICS_FIXED_PENALTY)
                .setPenalty(Long.toString(gamma)).setMinStake(Long.toString(minStake)).setTotalRounds(totalRounds));
    }

    private static Map<String, BigInteger> stakes(Object... nodeAndStake) {
        Map<String, BigInteger> stakes = new LinkedHashMap<>();
        for (int i = 0; i < nodeAndStake.length; i += 2) {
            stakes.put((String) nodeAndStake[i], big(((Number) nodeAndStake[i + 1]).longValue()));
        }
        return stakes;
    }

    /** Each event as one line, checking its task and round on the way. */
    private static List<String> lines(List<LedgerEvent> events, long round) {
        List<String> lines = new ArrayList<>();
        for (LedgerEvent e : events) {
            assertEquals(TASK, e.getTaskId());
            assertEquals(round, e.getRound());
            switch (e.getEventCase()) {
                case SLASHED -> lines.add("slash " + e.getSlashed().getNodeId() + " " + e.getSlashed().getAmount()
                        + " to_pool " + e.getSlashed().getToPool() + " " + e.getSlashed().getReason());
                case REWARDED -> lines.add("reward " + e.getRewarded().getNodeId() + " " + e.getRewarded().getAmount()
                        + " " + e.getRewarded().getReason());
                case REMOVED -> lines.add("remove " + e.getRemoved().getNodeId() + " " + e.getRemoved().getStakeLeft());
                default -> throw new AssertionError("settlement produced " + e.getEventCase());
            }
        }
        return lines;
    }

    private static BigInteger poolAfter(BigInteger pool, List<LedgerEvent> events) {
        for (LedgerEvent e : events) {
            if (e.hasSlashed()) {
                pool = pool.add(new BigInteger(e.getSlashed().getAmount()));
            } else if (e.hasRewarded()) {
                pool = pool.subtract(new BigInteger(e.getRewarded().getAmount()));
            }
        }
        return pool;
    }

    private static BigInteger big(long v) {
        return BigInteger.valueOf(v);
    }
}
