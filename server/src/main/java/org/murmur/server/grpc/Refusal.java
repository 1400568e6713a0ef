package org.murmur.server.grpc;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Objects;
import org.murmur.proto.Wire;
import org.murmur.proto.v1.RefusalReason;

/**
 * A request Murmur refuses: a {@link RefusalReason} and a description the node can act on. The
 * gRPC status code follows from the reason alone, by the table in murmur.proto's header (this is
 * the one place that table is encoded), and {@link #toStatusException()} carries the reason's name
 * in the {@link Wire#REFUSAL_REASON} trailer. Immutable.
 */
public final class Refusal extends Exception {
    private static final long serialVersionUID = 1L;
    private final RefusalReason reason;

    public Refusal(RefusalReason reason, String description) {
        super(Objects.requireNonNull(description, "description"), null, false, false);
        this.reason = Objects.requireNonNull(reason, "reason");
        if (reason == RefusalReason.REFUSAL_REASON_UNSPECIFIED || reason == RefusalReason.UNRECOGNIZED) {
            throw new IllegalArgumentException("a refusal needs a specific reason, got " + reason);
        }
    }

    public RefusalReason reason() {
        return reason;
    }

    public Status.Code code() {
        return codeOf(reason);
    }

    /** The status (code and description) and the reason trailer, ready for {@code onError}. */
    public StatusRuntimeException toStatusException() {
        Metadata trailers = new Metadata();
        trailers.put(Wire.REFUSAL_REASON, reason.name());
        return Status.fromCode(code()).withDescription(getMessage()).asRuntimeException(trailers);
    }

    /**
     * {@code text} made safe for one log line: control characters (a client's newlines included)
     * become '?', and at most 2,000 characters are kept.
     */
    static String logSafe(String text) {
        String line = text.length() > 2_000 ? text.substring(0, 2_000) + "..." : text;
        return line.replaceAll("\\p{Cntrl}", "?");
    }

    /** The status code murmur.proto assigns to a refusal reason. */
    public static Status.Code codeOf(RefusalReason reason) {
        return switch (reason) {
            case MALFORMED_REQUEST, INVALID_PARAMETER, SCHEMA_MISMATCH, SIZE_MISMATCH, REVEAL_MISMATCH,
                    NON_FINITE_VALUE -> Status.Code.INVALID_ARGUMENT;
            case UNKNOWN_KEY, NODE_ID_MISMATCH, BAD_SIGNATURE, REPLAYED_NONCE -> Status.Code.UNAUTHENTICATED;
            case NOT_ADMIN, NOT_PROPOSER, NOT_VOTER, NODE_REMOVED -> Status.Code.PERMISSION_DENIED;
            case UNKNOWN_TASK, UNKNOWN_ROUND, UNKNOWN_MODEL, NOTHING_TO_RESUME -> Status.Code.NOT_FOUND;
            case TASK_EXISTS, DUPLICATE_UPDATE, DUPLICATE_VOTE, ALREADY_JOINED -> Status.Code.ALREADY_EXISTS;
            case WRONG_PHASE, DEADLINE_PASSED, NOT_STAKED, BELOW_MIN_STAKE, NOT_COMMITTED, TASK_NOT_FINISHED,
                    TASK_FINISHED -> Status.Code.FAILED_PRECONDITION;
            case CHUNK_OUT_OF_ORDER, CHUNK_PAST_END -> Status.Code.OUT_OF_RANGE;
            case CHECKSUM_MISMATCH, INVALID_FILE -> Status.Code.DATA_LOSS;
            case STREAM_IDLE -> Status.Code.DEADLINE_EXCEEDED;
            case TOO_MANY_STREAMS, TASK_FULL -> Status.Code.RESOURCE_EXHAUSTED;
            case REFUSAL_REASON_UNSPECIFIED, UNRECOGNIZED ->
                    throw new IllegalArgumentException("no status code for " + reason);
        };
    }
}
