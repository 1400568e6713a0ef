package org.murmur.bench.demo;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.v1.Phase;

/**
 * Follows one task's ledger events, in the order the server records them, and tells how far the
 * current round has come and how each round ended. A round's outcome is complete once its
 * settlement is recorded: when the next round opens, or the task finishes. Not thread-safe: one
 * reader.
 */
final class RoundTracker {
    /** How far the current round has come, for a progress line. */
    record Progress(long round, Phase phase, int joined, int proposers, int contributed, int voters, int committed,
                    int revealed) {
    }

    private long round;
    private Phase phase = Phase.PHASE_JOIN;
    private int joined;
    private List<String> proposers = List.of();
    private int voters;
    private int contributed;
    private int committed;
    private int revealed;
    private int votesFor;
    private int votesAgainst;
    private org.murmur.proto.ledger.v1.RoundFinished finished;
    private final Map<String, BigInteger> slashed = new LinkedHashMap<>();
    private final List<String> removed = new ArrayList<>();

    /** Folds in the next event; returns a round's outcome (unscored) once the event completes it. */
    Optional<RoundOutcome> accept(LedgerEvent event) {
        Optional<RoundOutcome> completed = Optional.empty();
        switch (event.getEventCase()) {
            case PHASE_CHANGED -> {
                if (event.getRound() != round) {
                    completed = complete();
                    startRound(event.getRound());
                }
                phase = event.getPhaseChanged().getPhase();
            }
            case JOINED -> joined++;
            case ROLES_DRAWN -> {
                proposers = event.getRolesDrawn().getProposersList();
                voters = event.getRolesDrawn().getVotersCount();
            }
            case CONTRIBUTED -> contributed++;
            case VOTE_COMMITTED -> committed++;
            case VOTE_REVEALED -> {
                revealed++;
                if (event.getVoteRevealed().getScore() > 0) {
                    votesFor++;
                } else {
                    votesAgainst++;
                }
            }
            case ROUND_FINISHED -> {
                finished = event.getRoundFinished();
                phase = Phase.PHASE_FINISHED;
            }
            case SLASHED -> slashed.merge(event.getSlashed().getNodeId(),
                    new BigInteger(event.getSlashed().getAmount()), BigInteger::add);
            case REMOVED -> removed.add(event.getRemoved().getNodeId());
            case TASK_FINISHED -> completed = complete();
            default -> {
            }
        }
        return completed;
    }

    Progress progress() {
        return new Progress(round, phase, joined, proposers.size(), contributed, voters, committed, revealed);
    }

    private Optional<RoundOutcome> complete() {
        if (finished == null) {
            return Optional.empty();
        }
        return Optional.of(new RoundOutcome(round, finished.getResult(), finished.getReason(),
                new BigInteger(finished.getTally()), votesFor, votesAgainst, proposers, slashed, removed,
                Double.NaN, Double.NaN));
    }

    private void startRound(long next) {
        round = next;
        joined = 0;
        proposers = List.of();
        voters = 0;
        contributed = 0;
        committed = 0;
        revealed = 0;
        votesFor = 0;
        votesAgainst = 0;
        finished = null;
        slashed.clear();
        removed.clear();
    }
}
