package org.murmur.server.grpc;

import java.util.Optional;
import org.murmur.proto.v1.RefusalReason;

/**
 * The round gate's answer to "may this node upload its update to this round now?", one constant
 * per reason for a no, in the order the checks run. Each no names the {@link RefusalReason} (and
 * so the status code) murmur.proto assigns to it.
 */
public enum UploadVerdict {
    /** The task does not exist: NOT_FOUND. */
    UNKNOWN_TASK(RefusalReason.UNKNOWN_TASK),
    /** The task has no such round: NOT_FOUND. */
    UNKNOWN_ROUND(RefusalReason.UNKNOWN_ROUND),
    /** The round is not in its contribute phase yet (or any more, other than by its deadline): FAILED_PRECONDITION. */
    NOT_ACCEPTING(RefusalReason.WRONG_PHASE),
    /** The round's contribute deadline has passed: FAILED_PRECONDITION. */
    DEADLINE_PASSED(RefusalReason.DEADLINE_PASSED),
    /** The node was removed from the task (its stake fell below the minimum): PERMISSION_DENIED. */
    NODE_REMOVED(RefusalReason.NODE_REMOVED),
    /** The node has no stake in the task: FAILED_PRECONDITION. */
    NOT_STAKED(RefusalReason.NOT_STAKED),
    /** The node was not drawn as a proposer of this round: PERMISSION_DENIED. */
    NOT_PROPOSER(RefusalReason.NOT_PROPOSER),
    /** Every check passed. */
    ALLOWED(null);

    private final RefusalReason reason;

    UploadVerdict(RefusalReason reason) {
        this.reason = reason;
    }

    /** The refusal reason of a no; empty for {@link #ALLOWED}. */
    public Optional<RefusalReason> reason() {
        return Optional.ofNullable(reason);
    }
}
