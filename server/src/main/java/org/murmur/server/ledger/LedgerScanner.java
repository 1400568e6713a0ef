package org.murmur.server.ledger;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Reads a ledger file front to back in bounded memory (one record body at a time) and classifies
 * how it ends: cleanly, with a torn tail, or corrupt. Never writes to the file.
 */
final class LedgerScanner {
    private static final int READ_BUFFER_BYTES = 64 * 1024;

    /**
     * The valid part of a file: {@code records} complete records ending at byte {@code validEnd},
     * the last with hash {@code head}. {@code headerMissing}: the file is empty or holds only part
     * of the header, which must be (re)written.
     */
    record Result(long records, byte[] head, long validEnd, long fileLength, boolean headerMissing) {
        long tornBytes() {
            return fileLength - validEnd;
        }
    }

    /** A record that fails a check; becomes a torn tail or a {@link CorruptLedgerException}. */
    private static final class BadRecord extends Exception {
        private static final long serialVersionUID = 1L;

        BadRecord(String reason) {
            super(reason, null, false, false);
        }
    }

    private LedgerScanner() {
    }

    static Result scan(FileChannel channel, Path file, String ledgerId, Consumer<LedgerRecord> visitor)
            throws IOException {
        byte[] header = LedgerFormat.header(ledgerId);
        long length = channel.size();
        byte[] found = readAt(channel, 0, (int) Math.min(length, LedgerHeader.MAX_BYTES));
        if (length < header.length && LedgerHeader.isTorn(found, header)) {
            return new Result(0, LedgerFormat.genesis(), 0, length, true);
        }
        if (!Arrays.equals(found, 0, Math.min(found.length, header.length), header, 0, header.length)) {
            throw new CorruptLedgerException(file, -1, 0, LedgerHeader.mismatch(found, length, ledgerId));
        }
        // Not closed: that would close the channel, which the caller owns.
        DataInputStream in = new DataInputStream(new BufferedInputStream(
                Channels.newInputStream(channel.position(header.length)), READ_BUFFER_BYTES));
        MessageDigest sha256 = LedgerFormat.sha256();
        byte[] body = new byte[256];
        byte[] hash = new byte[LedgerFormat.HASH_BYTES];
        byte[] head = LedgerFormat.genesis();
        long seq = 0;
        long offset = header.length;
        while (offset < length) {
            long remaining = length - offset;
            int bodyLength;
            LedgerRecord record;
            try {
                if (remaining < LedgerFormat.FRAME_BYTES) {
                    throw new BadRecord("only " + remaining + " bytes remain, fewer than a record frame");
                }
                int magic = in.readInt();
                bodyLength = in.readInt();
                checkFrame(magic, bodyLength, remaining);
                if (body.length < bodyLength) {
                    body = new byte[Math.min(LedgerFormat.MAX_BODY_BYTES, Math.max(bodyLength, body.length * 2))];
                }
                in.readFully(body, 0, bodyLength);
                in.readFully(hash);
                record = decode(sha256, body, bodyLength, hash, seq, head);
            } catch (BadRecord bad) {
                if (remaining <= LedgerFormat.MAX_RECORD_BYTES
                        && TornTail.isTorn(readAt(channel, offset, (int) remaining), seq, head)) {
                    return new Result(seq, head, offset, length, false);
                }
                throw new CorruptLedgerException(file, seq, offset, bad.getMessage() + "; the " + remaining
                        + " bytes from here to the end of the file are not a record torn by a crash");
            }
            visitor.accept(record);
            head = hash.clone();
            seq++;
            offset += LedgerFormat.FRAME_BYTES + bodyLength + LedgerFormat.HASH_BYTES;
        }
        return new Result(seq, head, offset, length, false);
    }

    private static void checkFrame(int magic, int bodyLength, long remaining) throws BadRecord {
        if (magic != LedgerFormat.RECORD_MAGIC) {
            throw new BadRecord(String.format("magic is 0x%08X, expected 0x%08X (\"MRL1\")", magic,
                    LedgerFormat.RECORD_MAGIC));
        }
        if (bodyLength < LedgerFormat.MIN_BODY_BYTES || bodyLength > LedgerFormat.MAX_BODY_BYTES) {
            throw new BadRecord("body length " + Integer.toUnsignedString(bodyLength) + " is outside "
                    + LedgerFormat.MIN_BODY_BYTES + ".." + LedgerFormat.MAX_BODY_BYTES);
        }
        long extent = (long) LedgerFormat.FRAME_BYTES + bodyLength + LedgerFormat.HASH_BYTES;
        if (extent > remaining) {
            throw new BadRecord("the record declares " + extent + " bytes but only " + remaining + " remain");
        }
    }

    private static LedgerRecord decode(MessageDigest sha256, byte[] body, int bodyLength, byte[] hash,
            long expectedSeq, byte[] expectedPrevHash) throws BadRecord {
        sha256.update(body, 0, bodyLength);
        if (!MessageDigest.isEqual(sha256.digest(), hash)) {
            throw new BadRecord("the hash does not match the record's body");
        }
        ByteBuffer b = ByteBuffer.wrap(body, 0, bodyLength);
        long seq = b.getLong();
        long timeUnixMs = b.getLong();
        int typeLength = b.getInt();
        if (typeLength < 1 || typeLength > LedgerFormat.MAX_TYPE_BYTES
                || bodyLength < LedgerFormat.FIXED_BODY_BYTES + typeLength) {
            throw new BadRecord("type length " + Integer.toUnsignedString(typeLength) + " is outside 1.."
                    + LedgerFormat.MAX_TYPE_BYTES + " or overruns the body");
        }
        for (int i = b.position(); i < b.position() + typeLength; i++) {
            if (!LedgerFormat.isTypeByte(body[i])) {
                throw new BadRecord("the type holds a byte that is not an ASCII letter");
            }
        }
        String type = new String(body, b.position(), typeLength, StandardCharsets.US_ASCII);
        b.position(b.position() + typeLength);
        int payloadLength = b.getInt();
        if (payloadLength != bodyLength - LedgerFormat.FIXED_BODY_BYTES - typeLength) {
            throw new BadRecord("payload length " + Integer.toUnsignedString(payloadLength)
                    + " disagrees with the body length " + bodyLength);
        }
        byte[] payload = new byte[payloadLength];
        b.get(payload);
        byte[] prevHash = new byte[LedgerFormat.HASH_BYTES];
        b.get(prevHash);
        if (seq != expectedSeq) {
            throw new BadRecord("seq is " + seq + ", expected " + expectedSeq);
        }
        if (!Arrays.equals(prevHash, expectedPrevHash)) {
            throw new BadRecord("prevHash is " + LedgerFormat.hex(prevHash) + ", not the previous record's hash "
                    + LedgerFormat.hex(expectedPrevHash));
        }
        return new LedgerRecord(seq, timeUnixMs, type, payload, prevHash, hash);
    }

    /** Exactly {@code count} bytes from {@code position}, read without moving the channel's position. */
    private static byte[] readAt(FileChannel channel, long position, int count) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(count);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new EOFException("the ledger file shrank while it was read, at byte "
                        + (position + buffer.position()));
            }
        }
        return buffer.array();
    }
}
