package org.murmur.proto.identity;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageOrBuilder;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.Signature;
import java.util.Objects;
import org.murmur.proto.v1.Auth;

/**
 * Signs canonical requests with a node's private key. Thread-safe: each signature uses its own
 * {@link Signature} instance.
 */
public final class RequestSigner {
    /** Bytes of the nonces {@link #newNonce()} draws. */
    public static final int NONCE_BYTES = 16;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final NodeKeys keys;

    public RequestSigner(NodeKeys keys) {
        this.keys = Objects.requireNonNull(keys, "keys");
    }

    /** The signer's node id. */
    public NodeId nodeId() {
        return keys.nodeId();
    }

    /** A fresh random nonce: unique per (node, purpose) with overwhelming probability. */
    public static byte[] newNonce() {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        return nonce;
    }

    /**
     * The 64-byte Ed25519 signature of {@code request}. IllegalArgumentException when the request
     * names another node: a node signs only for itself.
     */
    public byte[] sign(CanonicalRequest request) {
        if (!request.nodeId().equals(keys.nodeId())) {
            throw new IllegalArgumentException("request is for node " + request.nodeId() + ", this signer is node "
                    + keys.nodeId());
        }
        try {
            Signature signature = Signature.getInstance(Ed25519.ALGORITHM);
            signature.initSign(keys.privateKey());
            signature.update(request.encode());
            return signature.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 signing failed", e);
        }
    }

    /**
     * The {@code Auth} block for a request message: a fresh nonce, this node's id and raw public
     * key, and the signature over the canonical request of {@code purpose}, {@code taskId},
     * {@code round} and the canonical payload of {@code payload} (its {@code auth} field, if any,
     * is left out). Set the result as the message's {@code auth} field, changing nothing else.
     */
    public Auth auth(Purpose purpose, String taskId, long round, MessageOrBuilder payload) {
        byte[] nonce = newNonce();
        CanonicalRequest request = CanonicalRequest.of(purpose, taskId, round, keys.nodeId(), nonce,
                CanonicalPayload.digest(payload));
        return Auth.newBuilder()
                .setNodeId(keys.nodeId().hex())
                .setPublicKey(ByteString.copyFrom(keys.rawPublicKey()))
                .setNonce(ByteString.copyFrom(nonce))
                .setSignature(ByteString.copyFrom(sign(request)))
                .build();
    }
}
