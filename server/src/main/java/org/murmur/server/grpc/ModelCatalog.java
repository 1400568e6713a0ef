package org.murmur.server.grpc;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * Which model file PullModel serves for a task: the global model (after a round, or the current
 * one) and each round's candidate, by their SHA-256 in the {@link org.murmur.server.store.ModelStore}.
 * The round engine keeps it; implementations must be thread-safe.
 */
public interface ModelCatalog {

    /**
     * A model the catalog names.
     *
     * @param sha256Hex its content address: 64 lowercase hex digits
     * @param round     the round whose acceptance (global) or aggregation (candidate) produced it;
     *                  0 for the initial model
     * @param initial   whether it is the task's initial model
     */
    record Entry(String sha256Hex, long round, boolean initial) {
        private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");

        public Entry {
            Objects.requireNonNull(sha256Hex, "sha256Hex");
            if (!HEX.matcher(sha256Hex).matches()) {
                throw new IllegalArgumentException("sha256Hex must be 64 lowercase hex digits, got " + sha256Hex);
            }
        }
    }

    /** Whether the task exists. */
    boolean hasTask(String taskId);

    /**
     * The global model of the task after {@code round} (unsigned), or the current global model
     * when {@code round} is empty (the initial model before round 0 is accepted). Empty when the
     * task or that round's model is unknown.
     */
    Optional<Entry> global(String taskId, OptionalLong round);

    /** The candidate aggregated in {@code round} (unsigned); empty when there is none (yet). */
    Optional<Entry> candidate(String taskId, long round);
}
