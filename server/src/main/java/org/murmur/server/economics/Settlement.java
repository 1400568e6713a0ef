package org.murmur.server.economics;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.ledger.v1.Removed;
import org.murmur.proto.ledger.v1.Rewarded;
import org.murmur.proto.ledger.v1.SettlementReason;
import org.murmur.proto.ledger.v1.Slashed;
import org.murmur.proto.v1.Economics;
import org.murmur.proto.v1.RoundResult;

/**
 * Settlement of a tallied round (fl-alliance.md, step 9), as the ledger events it produces, in this
 * order: every slash (proposers, then voters, each in draw order), the round reward of each
 * rewarded node, the shares of slashed tokens paid to the rewarded voters, then the removal of every
 * slashed node whose stake fell below {@code min_stake}. A pure function of its inputs; all
 * arithmetic is integer with floor rounding, and whatever a floor leaves over stays in the pool, so
 * tokens are conserved exactly: the pool gains every slashed token and pays every reward.
 *
 * <p>Who: accepted, every proposer that contributed and every voter with s = +1 is rewarded, every
 * voter with s = -1 slashed; rejected, every voter with s = -1 is rewarded, every proposer that
 * contributed and every voter with s = +1 slashed; void, nobody is rewarded. In every result a
 * voter that did not reveal and a proposer that sent no update are slashed as no-shows (Murmur
 * decides the second: a proposer slot left empty costs the round a contribution). Zero amounts
 * produce no event.
 *
 * <p>How much: the round reward R = pool / (T - r) is shared among the rewarded nodes pro rata to
 * their snapshotted stakes. In {@code pro_rata} mode a slashed node loses floor(alpha * snapshotted
 * stake), of which floor(10%) is shared among the rewarded voters pro rata to their stakes; in
 * {@code fixed_penalty} mode it loses min(stake, gamma), and the tokens slashed from voters are
 * shared equally among the rewarded voters. Without rewarded voters every slashed token stays in
 * the pool.
 */
public final class Settlement {
    private static final BigInteger TEN = BigInteger.TEN;

    /**
     * The round as the ledger recorded it.
     *
     * @param round        r, counted from 0
     * @param pool         the pool before settlement
     * @param snapshot     every joined node's stake at the draw
     * @param stakes       every node's current stake
     * @param contributors proposers whose update was aggregated
     * @param scores       revealed votes: voter id to +1 or -1
     */
    public record Round(long round, BigInteger pool, Map<String, BigInteger> snapshot, Map<String, BigInteger> stakes,
                        List<String> proposers, Set<String> contributors, List<String> voters,
                        Map<String, Integer> scores, RoundResult result) {
    }

    private Settlement() {
    }

    /** The settlement events of {@code round} under {@code rules}, for task {@code taskId}. */
    public static List<LedgerEvent> settle(String taskId, TaskRules rules, Round round) {
        boolean accepted = round.result() == RoundResult.ROUND_RESULT_ACCEPTED;
        boolean rejected = round.result() == RoundResult.ROUND_RESULT_REJECTED;
        if (!accepted && !rejected && round.result() != RoundResult.ROUND_RESULT_VOID) {
            throw new IllegalArgumentException("only accepted, rejected and void rounds are settled, not "
                    + round.result());
        }
        Map<String, SettlementReason> slashed = new LinkedHashMap<>();
        Map<String, SettlementReason> rewarded = new LinkedHashMap<>();
        for (String proposer : round.proposers()) {
            if (!round.contributors().contains(proposer)) {
                slashed.put(proposer, SettlementReason.NO_SHOW);
            } else if (accepted) {
                rewarded.put(proposer, SettlementReason.ACCEPTED_PROPOSER);
            } else if (rejected) {
                slashed.put(proposer, SettlementReason.REJECTED_PROPOSER);
            }
        }
        List<String> rewardedVoters = new ArrayList<>();
        for (String voter : round.voters()) {
            Integer score = round.scores().get(voter);
            if (score == null) {
                slashed.put(voter, SettlementReason.NO_SHOW);
            } else if (accepted || rejected) {
                boolean agrees = (score > 0) == accepted;
                if (agrees) {
                    rewarded.put(voter, SettlementReason.AGREEING_VOTER);
                    rewardedVoters.add(voter);
                } else {
                    slashed.put(voter, SettlementReason.DISAGREEING_VOTER);
                }
            }
        }

        List<LedgerEvent> events = new ArrayList<>();
        Map<String, BigInteger> stakeAfter = new LinkedHashMap<>();
        BigInteger sharesToVoters = BigInteger.ZERO;
        boolean proRata = rules.economics() == Economics.ECONOMICS_PRO_RATA;
        for (Map.Entry<String, SettlementReason> slash : slashed.entrySet()) {
            String node = slash.getKey();
            BigInteger current = round.stakes().get(node);
            BigInteger loss = proRata ? rules.slashFraction().floorTimes(round.snapshot().get(node)) : rules.penalty();
            loss = loss.min(current);
            stakeAfter.put(node, current.subtract(loss));
            if (loss.signum() == 0) {
                continue;
            }
            BigInteger share;
            if (rewardedVoters.isEmpty()) {
                share = BigInteger.ZERO;
            } else if (proRata) {
                share = loss.divide(TEN);
            } else {
                share = round.proposers().contains(node) ? BigInteger.ZERO : loss;
            }
            sharesToVoters = sharesToVoters.add(share);
            events.add(event(taskId, round.round()).setSlashed(Slashed.newBuilder().setNodeId(node)
                    .setAmount(Tokens.format(loss)).setToPool(Tokens.format(loss.subtract(share)))
                    .setReason(slash.getValue())).build());
        }

        if (accepted || rejected) {
            BigInteger reward = round.pool().divide(BigInteger.valueOf(rules.totalRounds() - round.round()));
            payProRata(taskId, round, reward, new ArrayList<>(rewarded.keySet()), rewarded, events);
        }
        if (sharesToVoters.signum() > 0) {
            if (proRata) {
                Map<String, SettlementReason> shareReasons = new LinkedHashMap<>();
                rewardedVoters.forEach(v -> shareReasons.put(v, SettlementReason.SLASH_SHARE));
                payProRata(taskId, round, sharesToVoters, rewardedVoters, shareReasons, events);
            } else {
                BigInteger each = sharesToVoters.divide(BigInteger.valueOf(rewardedVoters.size()));
                for (String voter : rewardedVoters) {
                    addReward(taskId, round.round(), voter, each, SettlementReason.SLASH_SHARE, events);
                }
            }
        }
        for (Map.Entry<String, BigInteger> after : stakeAfter.entrySet()) {
            if (after.getValue().compareTo(rules.minStake()) < 0) {
                events.add(event(taskId, round.round()).setRemoved(Removed.newBuilder().setNodeId(after.getKey())
                        .setStakeLeft(Tokens.format(after.getValue()))).build());
            }
        }
        return events;
    }

    private static void payProRata(String taskId, Round round, BigInteger total, List<String> nodes,
                                   Map<String, SettlementReason> reasons, List<LedgerEvent> events) {
        BigInteger weight = BigInteger.ZERO;
        for (String node : nodes) {
            weight = weight.add(round.snapshot().get(node));
        }
        if (weight.signum() == 0) {
            return;
        }
        for (String node : nodes) {
            BigInteger amount = total.multiply(round.snapshot().get(node)).divide(weight);
            addReward(taskId, round.round(), node, amount, reasons.get(node), events);
        }
    }

    private static void addReward(String taskId, long round, String node, BigInteger amount, SettlementReason reason,
                                  List<LedgerEvent> events) {
        if (amount.signum() > 0) {
            events.add(event(taskId, round).setRewarded(Rewarded.newBuilder().setNodeId(node)
                    .setAmount(Tokens.format(amount)).setReason(reason)).build());
        }
    }

    private static LedgerEvent.Builder event(String taskId, long round) {
        return LedgerEvent.newBuilder().setTaskId(taskId).setRound(round);
    }
}
