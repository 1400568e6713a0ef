package org.murmur.server.grpc;

import com.google.protobuf.MessageOrBuilder;
import java.security.PublicKey;
import java.util.Optional;
import java.util.function.Function;
import org.murmur.proto.identity.CanonicalRequest;
import org.murmur.proto.identity.Ed25519;
import org.murmur.proto.identity.NodeId;
import org.murmur.proto.identity.Purpose;
import org.murmur.proto.identity.SignatureRejectedException;
import org.murmur.proto.identity.SignatureVerifier;
import org.murmur.proto.v1.Auth;
import org.murmur.proto.v1.RefusalReason;

/**
 * Checks the {@code Auth} block of a signed request: well formed (node id, nonce length, public
 * key), the key belonging to the claimed node id, and the Ed25519 signature over the canonical
 * request bytes (murmur.proto, {@code Auth}). Every failure is a {@link Refusal} whose message names
 * the field at fault and what the node should do. Nonce replay is not checked here: the caller
 * knows where nonces are remembered. Thread-safe.
 */
public final class RequestAuthenticator {
    private final Function<NodeId, Optional<PublicKey>> registeredKeys;

    /** @param registeredKeys the key registered for a node id (by its first Stake), if any */
    public RequestAuthenticator(Function<NodeId, Optional<PublicKey>> registeredKeys) {
        this.registeredKeys = registeredKeys;
    }

    /**
     * The signer of a request whose signature verified.
     *
     * @param node the signer's node id
     * @param key  the key the signature verified with
     */
    public record Signer(NodeId node, PublicKey key) {
    }

    /**
     * Authenticates {@code message}, signed for {@code purpose}, {@code taskId} and {@code round}.
     *
     * @param field           how the auth block is named in messages ("auth", "header.auth")
     * @param keyFromRequest  whether a key carried in the request may be used when none is
     *                        registered for the node (its first Stake, an admin's requests)
     */
    public Signer authenticate(Purpose purpose, String taskId, long round, MessageOrBuilder message, Auth auth,
                               String field, boolean keyFromRequest) throws Refusal {
        NodeId node;
        try {
            node = NodeId.parse(auth.getNodeId());
        } catch (IllegalArgumentException e) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, field + ".node_id: " + e.getMessage());
        }
        int nonce = auth.getNonce().size();
        if (nonce < CanonicalRequest.MIN_NONCE_BYTES || nonce > CanonicalRequest.MAX_NONCE_BYTES) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, field + ".nonce must be "
                    + CanonicalRequest.MIN_NONCE_BYTES + " to " + CanonicalRequest.MAX_NONCE_BYTES
                    + " random bytes, got " + nonce);
        }
        PublicKey carried = null;
        if (!auth.getPublicKey().isEmpty()) {
            NodeId ofKey;
            try {
                ofKey = NodeId.ofRawKey(auth.getPublicKey().toByteArray());
                carried = Ed25519.publicKey(auth.getPublicKey().toByteArray());
            } catch (IllegalArgumentException e) {
                throw new Refusal(RefusalReason.MALFORMED_REQUEST, field + ".public_key: " + e.getMessage());
            }
            if (!ofKey.equals(node)) {
                throw new Refusal(RefusalReason.NODE_ID_MISMATCH, field + ".node_id is " + node + " but "
                        + field + ".public_key belongs to node " + ofKey + ": a node signs only as itself");
            }
        }
        Optional<PublicKey> registered = registeredKeys.apply(node);
        PublicKey key;
        if (registered.isPresent()) {
            key = registered.get();
        } else if (keyFromRequest && carried != null) {
            key = carried;
        } else {
            throw new Refusal(RefusalReason.UNKNOWN_KEY, "no public key is registered for node " + node
                    + (keyFromRequest ? ": put the node's public key in " + field + ".public_key"
                    : ": a node registers its key with its first Stake"));
        }
        try {
            SignatureVerifier.verify(purpose, taskId, round, message, auth, key);
        } catch (SignatureRejectedException e) {
            RefusalReason reason = switch (e.outcome()) {
                case UNKNOWN_KEY -> RefusalReason.UNKNOWN_KEY;
                case NODE_ID_MISMATCH -> RefusalReason.NODE_ID_MISMATCH;
                default -> RefusalReason.BAD_SIGNATURE;
            };
            throw new Refusal(reason, "the signature does not verify with the key of node " + node
                    + ": sign last (after every field is set), with the node's own key, for purpose "
                    + purpose.tag() + ", task '" + taskId + "' and round " + Long.toUnsignedString(round));
        } catch (IllegalArgumentException e) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "the request cannot be verified: " + e.getMessage());
        }
        return new Signer(node, key);
    }
}
