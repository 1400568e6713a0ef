package org.murmur.bench.demo;

import java.util.Iterator;
import org.murmur.proto.v1.Phase;
import org.murmur.proto.v1.RoundEvent;

/**
 * A node's view of its task's progress, from its own WatchRound stream: the furthest round and
 * phase the stream has announced, and whether the task has finished. Nodes wait on it rather than
 * poll. Only the node's thread uses it.
 */
final class RoundFeed {
    private final Iterator<RoundEvent> events;
    private long round;
    private Phase phase = Phase.PHASE_UNSPECIFIED;
    private boolean taskFinished;

    RoundFeed(Iterator<RoundEvent> events) {
        this.events = events;
    }

    /**
     * Blocks until round {@code r} has reached {@code p} or gone past it, or the task has finished.
     *
     * @return whether round {@code r} is in phase {@code p} now, as far as the stream has told: false when
     *         the round went past it (a failed round skips phases) or the task finished first
     */
    boolean awaitPhase(long r, Phase p) {
        while (!reached(r, p) && !taskFinished) {
            if (!events.hasNext()) {
                taskFinished = true;
                break;
            }
            apply(events.next());
        }
        return round == r && phase == p;
    }

    /** Whether the stream has said the task finished (it never blocks). */
    boolean taskFinished() {
        return taskFinished;
    }

    /** Blocks until the task has finished. */
    void awaitTaskFinished() {
        while (!taskFinished) {
            if (!events.hasNext()) {
                taskFinished = true;
                break;
            }
            apply(events.next());
        }
    }

    private boolean reached(long r, Phase p) {
        return round > r || (round == r && phase.getNumber() >= p.getNumber());
    }

    private void apply(RoundEvent event) {
        switch (event.getEventCase()) {
            case PHASE_CHANGED -> advance(event.getRound(), event.getPhaseChanged().getPhase());
            case ROUND_FINISHED -> advance(event.getRound(), Phase.PHASE_FINISHED);
            case TASK_FINISHED -> taskFinished = true;
            default -> {
            }
        }
    }

    /** Events replayed from the ledger may trail the current-state event; the position only moves on. */
    private void advance(long r, Phase p) {
        if (r > round || (r == round && p.getNumber() > phase.getNumber())) {
            round = r;
            phase = p;
        }
    }
}
