package org.murmur.server.round;

import java.util.HexFormat;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.server.ledger.LedgerRecord;

/**
 * One log line per ledger event that an operator follows: task creation, phase changes, role draws,
 * candidates, round results, slashes, removals and the task's end, each as {@code key=value} pairs
 * with the task, the round and (where there is one) the node, so a line can be found by any of
 * them. Routine events (stakes, joins, votes, rewards) are logged at DEBUG.
 */
public final class RoundLog implements TaskEngine.Listener {
    private static final System.Logger LOG = System.getLogger("org.murmur.rounds");
    private static final HexFormat HEX = HexFormat.of();

    @Override
    public void recorded(LedgerRecord record, LedgerEvent e) {
        String where = "task=" + e.getTaskId() + " round=" + Long.toUnsignedString(e.getRound()) + " seq="
                + record.seq() + " event=" + LedgerEvents.type(e);
        String line = switch (e.getEventCase()) {
            case TASK_CREATED -> where + " creator=" + e.getTaskCreated().getCreatorId() + " rounds="
                    + e.getTaskCreated().getParams().getTotalRounds() + " rule="
                    + e.getTaskCreated().getParams().getRule().getName();
            case PHASE_CHANGED -> where + " phase=" + e.getPhaseChanged().getPhase().name().substring(6).toLowerCase()
                    + " deadline_ms=" + e.getPhaseChanged().getDeadlineUnixMs();
            case ROLES_DRAWN -> where + " proposers=" + e.getRolesDrawn().getProposersCount() + " voters="
                    + e.getRolesDrawn().getVotersCount();
            case CANDIDATE_PROPOSED -> where + " sha256=" + HEX.formatHex(e.getCandidateProposed().getSha256()
                    .toByteArray()) + " rule=" + e.getCandidateProposed().getRule() + " updates="
                    + e.getCandidateProposed().getContributorsCount();
            case ROUND_FINISHED -> where + " result=" + e.getRoundFinished().getResult().name().substring(13)
                    .toLowerCase() + " tally=" + e.getRoundFinished().getTally() + " revealed="
                    + e.getRoundFinished().getVotesRevealed()
                    + (e.getRoundFinished().getReason().isEmpty() ? ""
                    : " reason=\"" + e.getRoundFinished().getReason() + "\"");
            case SLASHED -> where + " node=" + e.getSlashed().getNodeId() + " amount=" + e.getSlashed().getAmount()
                    + " reason=" + e.getSlashed().getReason().name().toLowerCase();
            case REMOVED -> where + " node=" + e.getRemoved().getNodeId() + " stake_left="
                    + e.getRemoved().getStakeLeft();
            case TASK_FINISHED -> where + " pool_returned=" + e.getTaskFinished().getPoolReturned();
            default -> null;
        };
        if (line != null) {
            LOG.log(System.Logger.Level.INFO, line);
        } else if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
            LOG.log(System.Logger.Level.DEBUG, where + " " + e.toString().replaceAll("\\s+", " ").trim());
        }
    }
}
