package org.murmur.server.ledger;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Decides whether the bytes from a bad record to the end of the file can be what a crash during
 * one append leaves behind. Appends are sequential and each is fsynced before the next, so a crash
 * can only leave the next record cut short (a prefix of it), or its full extent with some data not
 * on disk (zeros, or a body that fails its hash). Anything else, in particular a record with a
 * valid hash but a broken chain, or any byte past the declared extent, is damage a crash cannot
 * cause.
 */
final class TornTail {
    private static final byte[] MAGIC = ByteBuffer.allocate(4).putInt(LedgerFormat.RECORD_MAGIC).array();

    private TornTail() {
    }

    /**
     * @param tail every byte from the bad record's start to the end of the file
     * @param seq the seq the record should have
     * @param prevHash the hash the record should chain to
     */
    static boolean isTorn(byte[] tail, long seq, byte[] prevHash) {
        if (tail.length > LedgerFormat.MAX_RECORD_BYTES) {
            return false;
        }
        if (allZero(tail)) {
            return true;
        }
        if (!agrees(tail, 0, MAGIC)) {
            return false;
        }
        if (tail.length < LedgerFormat.FRAME_BYTES) {
            return true;
        }
        int bodyLength = ByteBuffer.wrap(tail).getInt(4);
        if (bodyLength < LedgerFormat.MIN_BODY_BYTES || bodyLength > LedgerFormat.MAX_BODY_BYTES) {
            return false;
        }
        int extent = LedgerFormat.FRAME_BYTES + bodyLength + LedgerFormat.HASH_BYTES;
        if (tail.length != extent) {
            return tail.length < extent && isNextRecordPrefix(tail, bodyLength, seq, prevHash);
        }
        // The whole extent is there: torn if some of its data never reached the disk.
        MessageDigest sha256 = LedgerFormat.sha256();
        sha256.update(tail, LedgerFormat.FRAME_BYTES, bodyLength);
        return !Arrays.equals(sha256.digest(), 0, LedgerFormat.HASH_BYTES, tail, extent - LedgerFormat.HASH_BYTES,
                extent);
    }

    /** Whether every field that {@code tail} holds, wholly or in part, is what the next append writes there. */
    private static boolean isNextRecordPrefix(byte[] tail, int bodyLength, long seq, byte[] prevHash) {
        ByteBuffer t = ByteBuffer.wrap(tail);
        if (!agrees(tail, LedgerFormat.SEQ_OFFSET, ByteBuffer.allocate(8).putLong(seq).array())) {
            return false;
        }
        if (tail.length < LedgerFormat.TYPE_OFFSET) {
            return true;
        }
        int typeLength = t.getInt(LedgerFormat.TYPE_LENGTH_OFFSET);
        if (typeLength < 1 || typeLength > LedgerFormat.MAX_TYPE_BYTES) {
            return false;
        }
        int payloadLengthOffset = LedgerFormat.TYPE_OFFSET + typeLength;
        for (int i = LedgerFormat.TYPE_OFFSET; i < Math.min(tail.length, payloadLengthOffset); i++) {
            if (!LedgerFormat.isTypeByte(tail[i])) {
                return false;
            }
        }
        if (tail.length < payloadLengthOffset + 4) {
            return true;
        }
        int payloadLength = t.getInt(payloadLengthOffset);
        return payloadLength >= 0 && bodyLength == LedgerFormat.FIXED_BODY_BYTES + typeLength + payloadLength
                && agrees(tail, payloadLengthOffset + 4 + payloadLength, prevHash);
    }

    private static boolean allZero(byte[] bytes) {
        for (byte b : bytes) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /** Whether the bytes of {@code tail} at {@code offset}, as far as they go, equal {@code expected}. */
    private static boolean agrees(byte[] tail, int offset, byte[] expected) {
        int n = Math.max(0, Math.min(expected.length, tail.length - offset));
        return n == 0 || Arrays.equals(tail, offset, offset + n, expected, 0, n);
    }
}
