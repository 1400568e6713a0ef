package org.murmur.proto.identity;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The exact bytes a node signs for a state-changing request. With {@code str(x)} a u32
 * big-endian length followed by the bytes (strings as UTF-8) and {@code u64(x)} eight bytes
 * big-endian:
 *
 * <pre>
 * str("murmur.v1/canonical-request") str(purpose tag) str(task id) u64(round) str(node id)
 * str(nonce) str(payload digest)
 * </pre>
 *
 * Every field is length-prefixed or fixed-width and in a fixed order, so two different requests
 * never encode the same. The payload digest is SHA-256 over the request's remaining fields
 * ({@link CanonicalPayload}), so the signature covers all of them.
 *
 * <p>The nonce makes each request unique: it must be unique per (node, purpose), and the server
 * refuses a nonce it has already accepted. This class and {@link SignatureVerifier} do not
 * remember nonces; replay protection is the server's job. Immutable.
 */
public final class CanonicalRequest {
    /** Domain separation: these bytes start every canonical request and nothing else Murmur signs. */
    public static final String DOMAIN = "murmur.v1/canonical-request";

    /** Fewest nonce bytes accepted (128 bits of randomness). */
    public static final int MIN_NONCE_BYTES = 16;

    /** Most nonce bytes accepted. */
    public static final int MAX_NONCE_BYTES = 64;

    /** Longest task id, in UTF-8 bytes, that a canonical request carries. */
    public static final int MAX_TASK_ID_BYTES = 1024;

    /** Bytes of the payload digest (SHA-256). */
    public static final int DIGEST_BYTES = 32;

    private final Purpose purpose;
    private final String taskId;
    private final long round;
    private final NodeId nodeId;
    private final byte[] nonce;
    private final byte[] payloadDigest;

    private CanonicalRequest(Purpose purpose, String taskId, long round, NodeId nodeId, byte[] nonce,
            byte[] payloadDigest) {
        this.purpose = purpose;
        this.taskId = taskId;
        this.round = round;
        this.nodeId = nodeId;
        this.nonce = nonce;
        this.payloadDigest = payloadDigest;
    }

    /**
     * A canonical request. {@code taskId} is "" for requests without a task (PutModel);
     * {@code round} is an unsigned 64-bit value (0 for requests without a round). Throws
     * IllegalArgumentException naming the field when the nonce is not 16 to 64 bytes, the digest
     * not 32 bytes, or the task id too long or not valid Unicode.
     */
    public static CanonicalRequest of(Purpose purpose, String taskId, long round, NodeId nodeId, byte[] nonce,
            byte[] payloadDigest) {
        Objects.requireNonNull(purpose, "purpose");
        Objects.requireNonNull(taskId, "taskId");
        Objects.requireNonNull(nodeId, "nodeId");
        if (nonce == null || nonce.length < MIN_NONCE_BYTES || nonce.length > MAX_NONCE_BYTES) {
            throw new IllegalArgumentException("nonce: must be " + MIN_NONCE_BYTES + " to " + MAX_NONCE_BYTES
                    + " bytes, got " + (nonce == null ? "none" : nonce.length));
        }
        if (payloadDigest == null || payloadDigest.length != DIGEST_BYTES) {
            throw new IllegalArgumentException("payload digest: must be " + DIGEST_BYTES + " bytes, got "
                    + (payloadDigest == null ? "none" : payloadDigest.length));
        }
        if (CanonicalWriter.utf8(taskId).length > MAX_TASK_ID_BYTES) {
            throw new IllegalArgumentException("task id: longer than " + MAX_TASK_ID_BYTES + " bytes");
        }
        return new CanonicalRequest(purpose, taskId, round, nodeId, nonce.clone(), payloadDigest.clone());
    }

    /** The bytes to sign or verify; a fresh array each call. */
    public byte[] encode() {
        return new CanonicalWriter()
                .string(DOMAIN)
                .string(purpose.tag())
                .string(taskId)
                .u64(round)
                .bytes(nodeId.asciiBytes())
                .bytes(nonce)
                .bytes(payloadDigest)
                .toByteArray();
    }

    public Purpose purpose() {
        return purpose;
    }

    public String taskId() {
        return taskId;
    }

    /** The round, an unsigned 64-bit value. */
    public long round() {
        return round;
    }

    public NodeId nodeId() {
        return nodeId;
    }

    public byte[] nonce() {
        return nonce.clone();
    }

    public byte[] payloadDigest() {
        return payloadDigest.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CanonicalRequest other
                && purpose == other.purpose
                && taskId.equals(other.taskId)
                && round == other.round
                && nodeId.equals(other.nodeId)
                && Arrays.equals(nonce, other.nonce)
                && Arrays.equals(payloadDigest, other.payloadDigest);
    }

    @Override
    public int hashCode() {
        return Objects.hash(purpose, taskId, round, nodeId, Arrays.hashCode(nonce), Arrays.hashCode(payloadDigest));
    }

    @Override
    public String toString() {
        return "CanonicalRequest[" + purpose.tag() + ", task=" + taskId + ", round=" + Long.toUnsignedString(round)
                + ", node=" + nodeId + ", nonce=" + HexFormat.of().formatHex(nonce) + "]";
    }
}
