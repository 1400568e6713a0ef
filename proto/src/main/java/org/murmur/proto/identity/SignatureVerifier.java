package org.murmur.proto.identity;

import com.google.protobuf.MessageOrBuilder;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import org.murmur.proto.v1.Auth;

/**
 * Checks a request's Ed25519 signature against the public key the caller holds for the node.
 *
 * <p>The caller supplies the key: the one registered for the node id, or, on a node's first
 * request, the key the request presents in {@code Auth.public_key} (this class then checks that
 * the key's id is the claimed node id, so a node cannot claim another's id). A null key means the
 * server knows no key for the node.
 *
 * <p>Verification is stateless: it does not remember nonces. Each nonce must be unique per (node,
 * purpose), and refusing a repeated nonce (replay protection) is the server's job. Thread-safe.
 */
public final class SignatureVerifier {

    /** What a check found; everything but {@link #VALID} is a refusal. */
    public enum Outcome {
        VALID("signature valid"),
        UNKNOWN_KEY("no public key is known for the node; send it in auth.public_key"),
        NODE_ID_MISMATCH("the node id is not the one derived from the public key"),
        BAD_SIGNATURE("the signature does not match the request (wrong key, altered field, or wrong purpose)");

        private final String description;

        Outcome(String description) {
            this.description = description;
        }

        /** One sentence for the refusal's status message. */
        public String description() {
            return description;
        }
    }

    private SignatureVerifier() {
    }

    /** Checks {@code signature} over {@code request} with {@code key} (null: no key known). */
    public static Outcome check(CanonicalRequest request, byte[] signature, PublicKey key) {
        if (key == null) {
            return Outcome.UNKNOWN_KEY;
        }
        if (!NodeId.of(key).equals(request.nodeId())) {
            return Outcome.NODE_ID_MISMATCH;
        }
        if (signature == null || signature.length != Ed25519.SIGNATURE_BYTES
                || Ed25519.hasSmallOrder(Ed25519.rawPublicKey(key))) {
            return Outcome.BAD_SIGNATURE;
        }
        try {
            Signature verifier = Signature.getInstance(Ed25519.ALGORITHM);
            verifier.initVerify(key);
            verifier.update(request.encode());
            return verifier.verify(signature) ? Outcome.VALID : Outcome.BAD_SIGNATURE;
        } catch (java.security.SignatureException | java.security.InvalidKeyException e) {
            // InvalidKeyException: the key is not a point of the curve, so nothing verifies with it.
            return Outcome.BAD_SIGNATURE;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 verification failed to run", e);
        }
    }

    /** As {@link #check}, throwing {@link SignatureRejectedException} for anything but VALID. */
    public static void verify(CanonicalRequest request, byte[] signature, PublicKey key)
            throws SignatureRejectedException {
        Outcome outcome = check(request, signature, key);
        if (outcome != Outcome.VALID) {
            throw new SignatureRejectedException(outcome, request);
        }
    }

    /**
     * Rebuilds the canonical request of a signed message (its {@code Auth}, {@code purpose},
     * {@code taskId}, {@code round} and its other fields) and verifies it with {@code key}.
     * IllegalArgumentException when the auth block is malformed (node id not 40 lowercase hex,
     * nonce not 16 to 64 bytes) or the message holds unknown fields: a malformed request, not a
     * failed signature.
     */
    public static void verify(Purpose purpose, String taskId, long round, MessageOrBuilder signedMessage,
            Auth auth, PublicKey key) throws SignatureRejectedException {
        CanonicalRequest request = CanonicalRequest.of(purpose, taskId, round, NodeId.parse(auth.getNodeId()),
                auth.getNonce().toByteArray(), CanonicalPayload.digest(signedMessage));
        verify(request, auth.getSignature().toByteArray(), key);
    }
}
