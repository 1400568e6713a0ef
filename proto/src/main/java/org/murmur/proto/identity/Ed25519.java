package org.murmur.proto.identity;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.HexFormat;

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

    /**
     * The y coordinates (little-endian, sign bit of x cleared) of the points of small order: 0
     * (order 4), 1 (the neutral element), two of order 8, and p - 1, p, p + 1 (the last two not
     * canonical); the list libsodium refuses. For such a key A, [k]A takes at most 8 values, so a
     * signature (R = -[k]A, S = 0) verifies with probability 1/8 or better for any message and no
     * private key: one with the neutral element verifies every message.
     */
    private static final byte[][] SMALL_ORDER = {
        HexFormat.of().parseHex("0000000000000000000000000000000000000000000000000000000000000000"),
        HexFormat.of().parseHex("0100000000000000000000000000000000000000000000000000000000000000"),
        HexFormat.of().parseHex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
        HexFormat.of().parseHex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
        HexFormat.of().parseHex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        HexFormat.of().parseHex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        HexFormat.of().parseHex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
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
     * A point of small order is refused too ({@link #hasSmallOrder}).
     */
    public static PublicKey publicKey(byte[] raw) {
        if (raw == null || raw.length != PUBLIC_KEY_BYTES) {
            throw new IllegalArgumentException("an Ed25519 public key is " + PUBLIC_KEY_BYTES + " bytes, got "
                    + (raw == null ? "none" : raw.length));
        }
        if (hasSmallOrder(raw)) {
            throw new IllegalArgumentException("not a valid Ed25519 public key: a point of small order, with which"
                    + " signatures verify without the private key");
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

    /**
     * Whether the raw public key is a point of small order. The JDK accepts such keys, and then
     * verifies signatures that anyone can make: whoever registered one could disown every request
     * signed with it, and anyone could sign as that node.
     */
    public static boolean hasSmallOrder(byte[] raw) {
        if (raw == null || raw.length != PUBLIC_KEY_BYTES) {
            return false;
        }
        byte[] y = raw.clone();
        y[PUBLIC_KEY_BYTES - 1] &= 0x7f;
        for (byte[] point : SMALL_ORDER) {
            if (Arrays.equals(point, y)) {
                return true;
            }
        }
        return false;
    }
}
