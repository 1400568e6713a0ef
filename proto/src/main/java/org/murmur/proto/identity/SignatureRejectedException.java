package org.murmur.proto.identity;

/** A signature check that failed, with what failed and for which request. */
public final class SignatureRejectedException extends Exception {
    private static final long serialVersionUID = 1L;

    private final SignatureVerifier.Outcome outcome;

    SignatureRejectedException(SignatureVerifier.Outcome outcome, CanonicalRequest request) {
        super(request.purpose().tag() + " from node " + request.nodeId() + " refused: " + outcome.description());
        this.outcome = outcome;
    }

    /** What failed: never {@link SignatureVerifier.Outcome#VALID}. */
    public SignatureVerifier.Outcome outcome() {
        return outcome;
    }
}
