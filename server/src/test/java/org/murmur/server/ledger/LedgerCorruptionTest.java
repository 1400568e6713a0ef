package org.murmur.server.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damage a crash cannot cause is refused by open and verify alike, and the file is left as it was. */
class LedgerCorruptionTest {
    private static final long SEED = 4242L;
    private static final int RECORDS = 6;

    @TempDir
    Path dir;

    @Test
    void aFlippedByteAnywhereInAMiddleRecordIsRefused() throws IOException {
        Random random = new Random(SEED);
        Path original = dir.resolve("original.ledger");
        List<LedgerRecord> records = LedgerFixtures.createLedger(original, random, RECORDS, 80);
        byte[] full = Files.readAllBytes(original);
        long[] offsets = LedgerFixtures.offsets(records);
        for (int victim : new int[] {0, 2, RECORDS - 2}) {
            int start = (int) offsets[victim];
            LedgerRecord record = records.get(victim);
            assertTrue(record.payload().length > 0, "the payload field is exercised too, seed " + SEED);
            for (int at = start; at < offsets[victim + 1]; at++) {
                byte[] bytes = full.clone();
                int mask = 1 + random.nextInt(255);
                bytes[at] ^= (byte) mask;
                Path file = dir.resolve("flip.ledger");
                Files.write(file, bytes);
                String where = field(record, at - start) + " of record " + victim + " ^ " + mask + ", seed " + SEED;
                assertRefused(file, victim, start, where);
            }
        }
    }

    @Test
    void aRecordDeletedFromTheMiddleIsRefused() throws IOException {
        Random random = new Random(SEED);
        Path original = dir.resolve("original.ledger");
        List<LedgerRecord> records = LedgerFixtures.createLedger(original, random, RECORDS, 80);
        byte[] full = Files.readAllBytes(original);
        long[] offsets = LedgerFixtures.offsets(records);
        // Up to the second-to-last: the last record then follows a gap, hash-valid but unchained.
        for (int deleted = 0; deleted < RECORDS - 1; deleted++) {
            byte[] bytes = new byte[full.length - (int) (offsets[deleted + 1] - offsets[deleted])];
            System.arraycopy(full, 0, bytes, 0, (int) offsets[deleted]);
            System.arraycopy(full, (int) offsets[deleted + 1], bytes, (int) offsets[deleted],
                    full.length - (int) offsets[deleted + 1]);
            Path file = dir.resolve("deleted.ledger");
            Files.write(file, bytes);
            assertRefused(file, deleted, offsets[deleted], "record " + deleted + " deleted, seed " + SEED);
        }
    }

    @Test
    void anotherLedgersFileIsRefused() throws IOException {
        Path file = dir.resolve("task.ledger");
        LedgerFixtures.createLedger(file, new Random(SEED), 2, 10);
        CorruptLedgerException e = assertRefused(file, "task-8", "ledger id");
        assertTrue(e.reason().contains("\"task-7\"") && e.reason().contains("\"task-8\""), e.getMessage());
        assertRefused(file, "task-70", "a longer ledger id sharing a prefix");
        assertRefused(file, "task", "a shorter ledger id sharing a prefix");
    }

    @Test
    void foreignFilesAreRefused() throws IOException {
        Path file = dir.resolve("foreign.ledger");
        Files.writeString(file, "{\"not\": \"a ledger\", \"padding\": \"...................\"}");
        assertTrue(assertRefused(file, LedgerFixtures.ID, "JSON").reason().contains("not a Murmur ledger"));
        Files.writeString(file, "MURMUR-LEDGE?"); // shorter than a header, but no prefix of it
        assertRefused(file, LedgerFixtures.ID, "short foreign file");

        byte[] header = LedgerFixtures.header(LedgerFixtures.ID);
        ByteBuffer.wrap(header).putInt(14, 2);
        Files.write(file, header);
        assertTrue(assertRefused(file, LedgerFixtures.ID, "version 2").reason().contains("version 2"));
        Files.write(file, "MURMUR-LEDGER\n".getBytes(StandardCharsets.US_ASCII)); // a torn header, for contrast
        assertEquals(14, LedgerFile.verify(file, LedgerFixtures.ID, r -> { }).tornBytes());
    }

    @Test
    void verifyNeverModifiesAFile() throws IOException {
        Random random = new Random(SEED);
        Path file = dir.resolve("task.ledger");
        List<LedgerRecord> records = LedgerFixtures.createLedger(file, random, RECORDS, 80);
        byte[] full = Files.readAllBytes(file);
        byte[] torn = Arrays.copyOf(full, full.length - 5);
        Files.write(file, torn);
        FileTime modified = FileTime.fromMillis(1_000_000_000_000L);
        Files.setLastModifiedTime(file, modified);
        Verification verification = LedgerFile.verify(file, LedgerFixtures.ID, r -> { });
        assertEquals(new Verification(RECORDS - 1, records.get(RECORDS - 2).hash(),
                LedgerFixtures.recordLength(records.get(RECORDS - 1)) - 5), verification);
        assertArrayEquals(torn, Files.readAllBytes(file));
        assertEquals(modified, Files.getLastModifiedTime(file));
    }

    /** Both open and verify refuse {@code file} at record {@code seq}, starting at {@code offset}; nothing changes. */
    private static void assertRefused(Path file, long seq, long offset, String where) throws IOException {
        byte[] before = Files.readAllBytes(file);
        for (boolean open : new boolean[] {true, false}) {
            CorruptLedgerException e = assertThrows(CorruptLedgerException.class, () -> {
                if (open) {
                    LedgerFile.open(file, LedgerFixtures.ID, r -> { }).close();
                } else {
                    LedgerFile.verify(file, LedgerFixtures.ID, r -> { });
                }
            }, where);
            String how = (open ? "open: " : "verify: ") + where + ": " + e.getMessage();
            assertEquals(seq, e.seq(), how);
            assertEquals(offset, e.offset(), how);
            assertEquals(file, e.file(), how);
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("seq " + seq)
                    && e.getMessage().contains("offset " + offset), how);
            assertArrayEquals(before, Files.readAllBytes(file), "the file changed; " + how);
        }
    }

    private static CorruptLedgerException assertRefused(Path file, String ledgerId, String where) throws IOException {
        byte[] before = Files.readAllBytes(file);
        CorruptLedgerException e = assertThrows(CorruptLedgerException.class,
                () -> LedgerFile.open(file, ledgerId, r -> { }), where);
        assertEquals(-1, e.seq(), where);
        assertEquals(0, e.offset(), where);
        assertEquals(e.seq(), assertThrows(CorruptLedgerException.class,
                () -> LedgerFile.verify(file, ledgerId, r -> { }), where).seq());
        assertArrayEquals(before, Files.readAllBytes(file), where);
        return e;
    }

    /** Names the field at {@code offset} within {@code record}, for failure messages. */
    private static String field(LedgerRecord record, int offset) {
        int typeEnd = 28 + record.type().length();
        int payloadEnd = typeEnd + 4 + record.payload().length;
        String[] names = {"magic", "length", "seq", "time", "type length", "type", "payload length", "payload",
            "prevHash", "hash"};
        int[] ends = {4, 8, 16, 24, 28, typeEnd, typeEnd + 4, payloadEnd, payloadEnd + 32, payloadEnd + 64};
        for (int i = 0; i < ends.length; i++) {
            if (offset < ends[i]) {
                return names[i] + " (byte " + offset + ")";
            }
        }
        throw new AssertionError("offset " + offset + " is past the record");
    }
}
