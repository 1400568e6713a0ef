package org.murmur.server.round;

import com.google.protobuf.ByteString;
import java.util.List;
import java.util.OptionalDouble;
import org.murmur.proto.ledger.v1.Contributed;
import org.murmur.proto.v1.UpdateScore;
import org.murmur.server.economics.TaskRules;

/**
 * Turns a round's admitted updates into its candidate: aggregates them by the task's rule and stores
 * the result in the model store. Called by a task's engine off its lock, once per round (again after
 * a restart that interrupted it, so it must be idempotent). Implementations must be thread-safe.
 */
public interface CandidateMaker {

    /**
     * The candidate of a round.
     *
     * @param sha256 the candidate's SHA-256, 32 bytes, under which the model store holds it
     * @param scores how each update relates to the candidate (norm, cosine, distance; the Krum
     *               score for the Krum family), one per update in contribution order
     * @param serverMetric the candidate's accuracy on the task's validation set; empty without one
     */
    record Candidate(ByteString sha256, List<UpdateScore> scores, OptionalDouble serverMetric) {
        public Candidate {
            scores = List.copyOf(scores);
        }
    }

    /**
     * Aggregates {@code contributions} (in admission order) of round {@code round} of {@code taskId}.
     * {@code previousGlobal} is the SHA-256 of the global model the proposers trained from (the
     * center of centered clipping). Throws {@link RoundFailedException} when the rule cannot
     * aggregate these updates (the round fails with that reason); any other exception is retried.
     */
    Candidate make(String taskId, long round, TaskRules rules, List<Contributed> contributions,
                   ByteString previousGlobal) throws Exception;

    /** The round's updates cannot be aggregated by the task's rule; the message says why. */
    final class RoundFailedException extends Exception {
        private static final long serialVersionUID = 1L;

        public RoundFailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
