package org.murmur.server.ledger;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** The ledger format re-derived from its documentation, independently of the production encoder. */
final class LedgerFixtures {
    static final String ID = "task-7";
    static final int RECORD_MAGIC = 0x4D524C31;

    private LedgerFixtures() {
    }

    static byte[] header(String ledgerId) {
        return bytes(out -> {
            out.write("MURMUR-LEDGER\n".getBytes(StandardCharsets.US_ASCII));
            out.writeInt(1);
            byte[] id = ledgerId.getBytes(StandardCharsets.UTF_8);
            out.writeInt(id.length);
            out.write(id);
        });
    }

    static byte[] body(long seq, long timeUnixMs, String type, byte[] payload, byte[] prevHash) {
        return bytes(out -> {
            out.writeLong(seq);
            out.writeLong(timeUnixMs);
            out.writeInt(type.length());
            out.write(type.getBytes(StandardCharsets.US_ASCII));
            out.writeInt(payload.length);
            out.write(payload);
            out.write(prevHash);
        });
    }

    /** Frame, body and hash of one record. */
    static byte[] record(long seq, long timeUnixMs, String type, byte[] payload, byte[] prevHash) {
        byte[] body = body(seq, timeUnixMs, type, payload, prevHash);
        return bytes(out -> {
            out.writeInt(RECORD_MAGIC);
            out.writeInt(body.length);
            out.write(body);
            out.write(sha256(body));
        });
    }

    static byte[] record(LedgerRecord r) {
        return record(r.seq(), r.timeUnixMs(), r.type(), r.payload(), r.prevHash());
    }

    static int recordLength(LedgerRecord r) {
        return 8 + 8 + 8 + 4 + r.type().length() + 4 + r.payload().length + 32 + 32;
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static String randomType(Random random) {
        char[] letters = new char[1 + random.nextInt(64)];
        for (int i = 0; i < letters.length; i++) {
            int letter = random.nextInt(52);
            letters[i] = (char) (letter < 26 ? 'A' + letter : 'a' + letter - 26);
        }
        return new String(letters);
    }

    static byte[] randomPayload(Random random, int maxBytes) {
        byte[] payload = new byte[random.nextInt(maxBytes + 1)];
        random.nextBytes(payload);
        return payload;
    }

    /** Appends {@code count} random records (types, times, payloads up to {@code maxPayload} bytes). */
    static List<LedgerRecord> appendRandom(LedgerFile ledger, Random random, int count, int maxPayload)
            throws IOException {
        List<LedgerRecord> appended = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            appended.add(ledger.append(randomType(random), random.nextLong(), randomPayload(random, maxPayload)));
        }
        return appended;
    }

    /** A closed ledger at {@code file} holding {@code count} random records; returns them. */
    static List<LedgerRecord> createLedger(Path file, Random random, int count, int maxPayload) throws IOException {
        try (LedgerFile ledger = LedgerFile.open(file, ID, r -> { })) {
            return appendRandom(ledger, random, count, maxPayload);
        }
    }

    /** Byte offset of each record, plus the file's end as the last element. */
    static long[] offsets(List<LedgerRecord> records) {
        long[] offsets = new long[records.size() + 1];
        offsets[0] = header(ID).length;
        for (int i = 0; i < records.size(); i++) {
            offsets[i + 1] = offsets[i] + recordLength(records.get(i));
        }
        return offsets;
    }

    private interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] bytes(Writer writer) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(buffer)) {
            writer.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buffer.toByteArray();
    }
}
