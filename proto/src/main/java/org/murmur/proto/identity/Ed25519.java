package org.murmur.proto.identity;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;

/**
 * Conversions between the JDK's Ed25519 keys and the raw 32-byte public key the wire carries.
 * Stateless and thread-safe.
 */
public final class Ed25519 {
    /** JDK algorithm name for keys and signatures. */
    public static final String ALGORITHM = "Ed25519";

    /** Bytes of a raw Ed25519 public key. */
    public static final int PUBLIC_KEY_BYTES = 32;

    /** Bytes of an Ed25519 signature. */
    public static final int SIGNATURE_BYTES = 64;

    /** The fixed X.509 SubjectPublicKeyInfo prefix of every Ed25519 public key (RFC 8410). */
    private static final byte[] X509_PREFIX = {
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00
    };

    private Ed25519() {
    }

    /** The raw 32-byte key inside an Ed25519 public key; IllegalArgumentException for any other key. */
    public static byte[] rawPublicKey(PublicKey key) {
        byte[] encoded = key.getEncoded();
        if (encoded == null || encoded.length != X509_PREFIX.length + PUBLIC_KEY_BYTES
                || !Arrays.equals(encoded, 0, X509_PREFIX.length, X509_PREFIX, 0, X509_PREFIX.length)) {
            throw new IllegalArgumentException("not an Ed25519 public key: " + key.getAlgorithm());
        }
        return Arrays.copyOfRange(encoded, X509_PREFIX.length, encoded.length);
    }

    /**
     * The public key whose raw encoding is {@code raw}. IllegalArgumentException unless it is 32
     * bytes that encode a point of the curve: the JDK's key factory takes any 32 bytes and leaves
     * the check to the first verification, which would then fail as if the JDK could not verify.
     */
    public static PublicKey publicKey(byte[] raw) {
        if (raw == null || raw.length != PUBLIC_KEY_BYTES) {
            throw new IllegalArgumentException("an Ed25519 public key is " + PUBLIC_KEY_BYTES + " bytes, got "
                    + (raw == null ? "none" : raw.length));
        }
        byte[] encoded = Arrays.copyOf(X509_PREFIX, X509_PREFIX.length + PUBLIC_KEY_BYTES);
        System.arraycopy(raw, 0, encoded, X509_PREFIX.length, PUBLIC_KEY_BYTES);
        try {
            PublicKey key = KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(encoded));
            Signature.getInstance(ALGORITHM).initVerify(key); // decodes the point
            return key;
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not a valid Ed25519 public key: " + e.getMessage(), e);
        }
    }
}
