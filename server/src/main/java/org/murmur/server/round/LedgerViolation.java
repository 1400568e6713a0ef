package org.murmur.server.round;

/**
 * An event that the rules of fl-alliance.md do not allow at its place in a task's ledger: on replay
 * or verification it means the ledger is corrupt. The message names the event and the rule broken.
 */
public final class LedgerViolation extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public LedgerViolation(String message) {
        super(message);
    }
}
