package org.murmur.proto.client;

import java.util.Objects;
import org.murmur.proto.v1.ModelKind;
import org.murmur.proto.v1.PullModelRequest;

/**
 * Which model {@link MurmurClient#pullModel} downloads: a task's current global model, its global
 * model after a given round, or a round's candidate.
 *
 * @param taskId the task
 * @param kind   {@code MODEL_KIND_GLOBAL} or {@code MODEL_KIND_CANDIDATE}
 * @param round  the round, or null for the current global model (required for a candidate)
 */
public record PullRequest(String taskId, ModelKind kind, Long round) {
    public PullRequest {
        Objects.requireNonNull(taskId, "taskId");
        Objects.requireNonNull(kind, "kind");
        if (kind != ModelKind.MODEL_KIND_GLOBAL && kind != ModelKind.MODEL_KIND_CANDIDATE) {
            throw new IllegalArgumentException("kind must be MODEL_KIND_GLOBAL or MODEL_KIND_CANDIDATE, was " + kind);
        }
        if (kind == ModelKind.MODEL_KIND_CANDIDATE && round == null) {
            throw new IllegalArgumentException("a candidate needs its round");
        }
    }

    /** The task's current global model. */
    public static PullRequest global(String taskId) {
        return new PullRequest(taskId, ModelKind.MODEL_KIND_GLOBAL, null);
    }

    /** The global model after round {@code round}. */
    public static PullRequest globalAfter(String taskId, long round) {
        return new PullRequest(taskId, ModelKind.MODEL_KIND_GLOBAL, round);
    }

    /** The candidate aggregated in round {@code round}. */
    public static PullRequest candidate(String taskId, long round) {
        return new PullRequest(taskId, ModelKind.MODEL_KIND_CANDIDATE, round);
    }

    /** The wire request for the bytes from {@code offset} on. */
    PullModelRequest toProto(long offset) {
        PullModelRequest.Builder request = PullModelRequest.newBuilder().setTaskId(taskId).setWhich(kind)
                .setOffset(offset);
        if (round != null) {
            request.setRound(round);
        }
        return request.build();
    }
}
