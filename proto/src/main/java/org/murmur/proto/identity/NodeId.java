package org.murmur.proto.identity;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.util.HexFormat;

/**
 * A node's identity on the wire: the lowercase hex of the first 20 bytes of SHA-256 of its raw
 * 32-byte Ed25519 public key (40 characters). Derived, never chosen, so a node id names exactly
 * one key. Immutable.
 */
public final class NodeId implements Comparable<NodeId> {
    /** Bytes of the SHA-256 prefix a node id keeps. */
    public static final int BYTES = 20;

    /** Characters of a node id. */
    public static final int HEX_LENGTH = 2 * BYTES;

    private static final HexFormat HEX = HexFormat.of();

    private final String hex;

    private NodeId(String hex) {
        this.hex = hex;
    }

    /** The node id of an Ed25519 public key. */
    public static NodeId of(PublicKey key) {
        return ofRawKey(Ed25519.rawPublicKey(key));
    }

    /** The node id of a raw 32-byte Ed25519 public key. */
    public static NodeId ofRawKey(byte[] rawPublicKey) {
        if (rawPublicKey == null || rawPublicKey.length != Ed25519.PUBLIC_KEY_BYTES) {
            throw new IllegalArgumentException("an Ed25519 public key is " + Ed25519.PUBLIC_KEY_BYTES + " bytes");
        }
        byte[] digest = sha256(rawPublicKey);
        return new NodeId(HEX.formatHex(digest, 0, BYTES));
    }

    /**
     * Parses a node id as written on the wire; IllegalArgumentException, quoting the value, unless
     * it is exactly 40 lowercase hex characters.
     */
    public static NodeId parse(String text) {
        if (text == null || text.length() != HEX_LENGTH || !isLowerHex(text)) {
            throw new IllegalArgumentException("a node id is " + HEX_LENGTH + " lowercase hex characters, got "
                    + (text == null ? "none" : "\"" + text + "\""));
        }
        return new NodeId(text);
    }

    /** The 40 lowercase hex characters. */
    public String hex() {
        return hex;
    }

    /** The id's ASCII bytes, as signed in a {@link CanonicalRequest}. */
    byte[] asciiBytes() {
        return hex.getBytes(StandardCharsets.US_ASCII);
    }

    private static boolean isLowerHex(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
    }

    @Override
    public int compareTo(NodeId other) {
        return hex.compareTo(other.hex);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NodeId other && hex.equals(other.hex);
    }

    @Override
    public int hashCode() {
        return hex.hashCode();
    }

    /** The 40 lowercase hex characters. */
    @Override
    public String toString() {
        return hex;
    }
}
