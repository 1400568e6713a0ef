package org.murmur.server.ledger;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/** The byte layout documented on {@link LedgerFile}: its limits, and the encoding the writer and reader share. */
final class LedgerFormat {
    static final byte[] FILE_MAGIC = "MURMUR-LEDGER\n".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int MAX_LEDGER_ID_BYTES = 256;
    static final int RECORD_MAGIC = 0x4D524C31;
    /** Record magic and body length. */
    static final int FRAME_BYTES = 8;
    static final int HASH_BYTES = 32;
    static final int MAX_TYPE_BYTES = 64;
    static final int MAX_PAYLOAD_BYTES = 1 << 20;
    /** The body bytes besides type and payload: seq, time, their two length prefixes, prevHash. */
    static final int FIXED_BODY_BYTES = 8 + 8 + 4 + 4 + HASH_BYTES;
    static final int MIN_BODY_BYTES = FIXED_BODY_BYTES + 1;
    static final int MAX_BODY_BYTES = FIXED_BODY_BYTES + MAX_TYPE_BYTES + MAX_PAYLOAD_BYTES;
    static final int MAX_RECORD_BYTES = FRAME_BYTES + MAX_BODY_BYTES + HASH_BYTES;
    /** Offsets from the start of a record. */
    static final int SEQ_OFFSET = FRAME_BYTES;
    static final int TYPE_LENGTH_OFFSET = SEQ_OFFSET + 16;
    static final int TYPE_OFFSET = TYPE_LENGTH_OFFSET + 4;

    private static final HexFormat HEX = HexFormat.of();

    private LedgerFormat() {
    }

    static byte[] genesis() {
        return new byte[HASH_BYTES];
    }

    /** The exact file header for {@code ledgerId}; a valid ledger starts with these bytes and no others. */
    static byte[] header(String ledgerId) {
        Objects.requireNonNull(ledgerId, "ledgerId");
        byte[] id = ledgerId.getBytes(StandardCharsets.UTF_8);
        if (id.length == 0 || id.length > MAX_LEDGER_ID_BYTES) {
            throw new IllegalArgumentException("ledgerId must be 1 to " + MAX_LEDGER_ID_BYTES + " UTF-8 bytes, got "
                    + id.length);
        }
        return ByteBuffer.allocate(FILE_MAGIC.length + 8 + id.length)
                .put(FILE_MAGIC).putInt(VERSION).putInt(id.length).put(id).array();
    }

    static boolean isTypeByte(byte b) {
        return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z');
    }

    /** The type's bytes, or an IllegalArgumentException saying why it cannot be stored. */
    static byte[] typeBytes(String type) {
        Objects.requireNonNull(type, "type");
        byte[] bytes = type.getBytes(StandardCharsets.US_ASCII);
        boolean letters = bytes.length == type.length();
        for (int i = 0; letters && i < bytes.length; i++) {
            letters = isTypeByte(bytes[i]);
        }
        if (!letters || bytes.length == 0 || bytes.length > MAX_TYPE_BYTES) {
            throw new IllegalArgumentException("type must be 1 to " + MAX_TYPE_BYTES + " ASCII letters, got \""
                    + type + "\"");
        }
        return bytes;
    }

    /** One whole record, frame to hash, ready for a single write. */
    static ByteBuffer encode(MessageDigest sha256, long seq, long timeUnixMs, byte[] type, byte[] payload,
            byte[] prevHash) {
        int bodyLength = FIXED_BODY_BYTES + type.length + payload.length;
        ByteBuffer record = ByteBuffer.allocate(FRAME_BYTES + bodyLength + HASH_BYTES);
        record.putInt(RECORD_MAGIC).putInt(bodyLength)
                .putLong(seq).putLong(timeUnixMs)
                .putInt(type.length).put(type)
                .putInt(payload.length).put(payload)
                .put(prevHash);
        sha256.update(record.array(), FRAME_BYTES, bodyLength);
        return record.put(sha256.digest()).flip();
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always provides SHA-256", e);
        }
    }

    static String hex(byte[] bytes) {
        return HEX.formatHex(bytes);
    }
}
