package org.murmur.server.cli;

import com.google.protobuf.ByteString;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.ledger.v1.Removed;
import org.murmur.proto.ledger.v1.Rewarded;
import org.murmur.proto.ledger.v1.RoundFinished;
import org.murmur.proto.ledger.v1.Slashed;
import org.murmur.proto.ledger.v1.StakeSnapshot;
import org.murmur.proto.v1.Phase;
import org.murmur.proto.v1.RoundResult;
import org.murmur.server.economics.TaskRules;
import org.murmur.server.ledger.LedgerRecord;
import org.murmur.server.round.LedgerReplay;
import org.murmur.server.round.TaskState;

/**
 * What a replayed ledger says happened, round by round, in the terms {@code murmur ledger} prints:
 * who joined, drew which role, contributed and voted, how each round ended and who was rewarded,
 * slashed and removed, plus each node's deposits and withdrawals. Collected from the events as
 * {@link LedgerReplay} applies them, so it holds exactly the events that passed the rules. The
 * balances themselves are read from the replayed {@link TaskState}. Not thread-safe.
 */
final class TaskHistory implements LedgerReplay.Listener {

    /** One round as its events recorded it; {@link #finished} is null while it is in progress. */
    static final class Round {
        final long number;
        final List<String> joined = new ArrayList<>();
        boolean drawn;
        List<String> proposers = List.of();
        List<String> voters = List.of();
        final Map<String, BigInteger> snapshot = new LinkedHashMap<>();
        final Set<String> contributed = new LinkedHashSet<>();
        final Set<String> committed = new LinkedHashSet<>();
        final Map<String, Integer> scores = new LinkedHashMap<>();
        Phase phase = Phase.PHASE_JOIN;
        ByteString candidate;
        RoundFinished finished;
        final List<Rewarded> rewards = new ArrayList<>();
        final List<Slashed> slashes = new ArrayList<>();
        final List<Removed> removals = new ArrayList<>();

        Round(long number) {
            this.number = number;
        }

        boolean isOver() {
            return finished != null;
        }

        RoundResult result() {
            return finished == null ? RoundResult.ROUND_RESULT_UNSPECIFIED : finished.getResult();
        }
    }

    /**
     * Conservation in numbers: stakes + unclaimed rewards + pool + withdrawn = the creator's pool +
     * deposits, where withdrawn counts what nodes withdrew and the pool's remainder returned to the
     * creator at the task's end ({@code returned}, part of {@code withdrawn}).
     */
    record Book(BigInteger stakes, BigInteger rewards, BigInteger pool, BigInteger withdrawn, BigInteger returned,
                BigInteger creatorPool, BigInteger deposits) {
        BigInteger held() {
            return stakes.add(rewards).add(pool).add(withdrawn);
        }

        BigInteger brought() {
            return creatorPool.add(deposits);
        }

        boolean balanced() {
            return held().equals(brought());
        }
    }

    private final TreeMap<Long, Round> rounds = new TreeMap<>();
    private final List<String> nodes = new ArrayList<>();
    private final Map<String, BigInteger> deposited = new LinkedHashMap<>();
    private final Map<String, BigInteger> withdrawn = new LinkedHashMap<>();
    private BigInteger returned = BigInteger.ZERO;
    private TaskRules rules;
    private String creatorId = "";
    private long events;
    private long roundsFinished;
    private boolean finished;

    @Override
    public void replayed(LedgerRecord record, LedgerEvent e, TaskState state) {
        events++;
        switch (e.getEventCase()) {
            case TASK_CREATED -> {
                rules = state.rules();
                creatorId = e.getTaskCreated().getCreatorId();
                round(0);
            }
            case STAKED -> {
                String node = e.getStaked().getNodeId();
                if (!deposited.containsKey(node)) {
                    nodes.add(node);
                }
                deposited.merge(node, new BigInteger(e.getStaked().getAmount()), BigInteger::add);
            }
            case PHASE_CHANGED -> round(e.getRound()).phase = e.getPhaseChanged().getPhase();
            case JOINED -> round(e.getRound()).joined.add(e.getJoined().getNodeId());
            case ROLES_DRAWN -> {
                Round r = round(e.getRound());
                r.drawn = true;
                r.proposers = List.copyOf(e.getRolesDrawn().getProposersList());
                r.voters = List.copyOf(e.getRolesDrawn().getVotersList());
                for (StakeSnapshot s : e.getRolesDrawn().getStakesList()) {
                    r.snapshot.put(s.getNodeId(), new BigInteger(s.getStake()));
                }
            }
            case CONTRIBUTED -> round(e.getRound()).contributed.add(e.getContributed().getNodeId());
            case CANDIDATE_PROPOSED -> round(e.getRound()).candidate = e.getCandidateProposed().getSha256();
            case VOTE_COMMITTED -> round(e.getRound()).committed.add(e.getVoteCommitted().getVoterId());
            case VOTE_REVEALED -> round(e.getRound()).scores.put(e.getVoteRevealed().getVoterId(),
                    e.getVoteRevealed().getScore());
            case ROUND_FINISHED -> {
                Round r = round(e.getRound());
                r.finished = e.getRoundFinished();
                r.phase = Phase.PHASE_FINISHED;
                roundsFinished++;
            }
            case REWARDED -> round(e.getRound()).rewards.add(e.getRewarded());
            case SLASHED -> round(e.getRound()).slashes.add(e.getSlashed());
            case REMOVED -> round(e.getRound()).removals.add(e.getRemoved());
            case WITHDRAWN -> withdrawn.merge(e.getWithdrawn().getNodeId(), new BigInteger(e.getWithdrawn().getAmount()),
                    BigInteger::add);
            case TASK_FINISHED -> {
                returned = new BigInteger(e.getTaskFinished().getPoolReturned());
                finished = true;
            }
            default -> {
            }
        }
    }

    private Round round(long number) {
        return rounds.computeIfAbsent(number, Round::new);
    }

    /** The task's rules; null until TaskCreated was replayed. */
    TaskRules rules() {
        return rules;
    }

    String creatorId() {
        return creatorId;
    }

    /** Events that passed the rules. */
    long events() {
        return events;
    }

    long roundsFinished() {
        return roundsFinished;
    }

    boolean finished() {
        return finished;
    }

    /** Every round that started, in order. */
    List<Round> rounds() {
        return List.copyOf(rounds.values());
    }

    /** Every node that ever staked, in the order of its first stake. */
    List<String> nodes() {
        return List.copyOf(nodes);
    }

    BigInteger deposited(String node) {
        return deposited.getOrDefault(node, BigInteger.ZERO);
    }

    BigInteger withdrawn(String node) {
        return withdrawn.getOrDefault(node, BigInteger.ZERO);
    }

    /** The pool's remainder paid back to the creator when the task finished; 0 before. */
    BigInteger returnedToCreator() {
        return returned;
    }

    /** The conservation equation's terms after the replay that ended in {@code state}. */
    Book book(TaskState state) {
        BigInteger stakes = BigInteger.ZERO;
        BigInteger rewards = BigInteger.ZERO;
        BigInteger deposits = BigInteger.ZERO;
        BigInteger paidOut = returned;
        for (String node : nodes) {
            stakes = stakes.add(state.stake(node));
            rewards = rewards.add(state.reward(node));
            deposits = deposits.add(deposited(node));
            paidOut = paidOut.add(withdrawn(node));
        }
        return new Book(stakes, rewards, state.pool(), paidOut, returned, state.rules().rewardPool(), deposits);
    }
}
