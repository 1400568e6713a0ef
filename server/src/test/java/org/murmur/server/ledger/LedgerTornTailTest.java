package org.murmur.server.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a crash during an append can leave at the end of the file, and that it is cut, never more. */
class LedgerTornTailTest {
    private static final long SEED = 77L;
    private static final int RECORDS = 5;

    @TempDir
    Path dir;

    @Test
    void everyCutOfTheLastRecordIsRepaired() throws IOException {
        Random random = new Random(SEED);
        Path original = dir.resolve("original.ledger");
        List<LedgerRecord> records = LedgerFixtures.createLedger(original, random, RECORDS, 120);
        byte[] full = Files.readAllBytes(original);
        long[] offsets = LedgerFixtures.offsets(records);
        int lastStart = (int) offsets[RECORDS - 1];
        for (int cut = 1; cut < full.length - lastStart; cut++) {
            String where = "cut " + cut + " bytes into the last record, seed " + SEED;
            Path file = dir.resolve("cut-" + cut + ".ledger");
            Files.write(file, Arrays.copyOf(full, lastStart + cut));
            assertRepairs(file, records.subList(0, RECORDS - 1), cut, where);
        }
    }

    @Test
    void everyCutOfTheHeaderIsRewritten() throws IOException {
        byte[] header = LedgerFixtures.header(LedgerFixtures.ID);
        for (int cut = 1; cut < header.length; cut++) {
            Path file = dir.resolve("header-" + cut + ".ledger");
            Files.write(file, Arrays.copyOf(header, cut));
            assertRepairs(file, List.of(), cut, "header cut at " + cut);
        }
    }

    @Test
    void aLastRecordWhoseDataNeverLandedIsRepaired() throws IOException {
        Random random = new Random(SEED);
        Path original = dir.resolve("original.ledger");
        List<LedgerRecord> records = LedgerFixtures.createLedger(original, random, RECORDS, 120);
        byte[] full = Files.readAllBytes(original);
        int lastStart = (int) LedgerFixtures.offsets(records)[RECORDS - 1];
        int lastLength = full.length - lastStart;
        // The size became durable but none, or only the first part, of the data did.
        for (int landed : new int[] {0, 8, 40, lastLength / 2, lastLength - 32, lastLength - 1}) {
            byte[] torn = full.clone();
            Arrays.fill(torn, lastStart + landed, torn.length, (byte) 0);
            Path file = dir.resolve("landed-" + landed + ".ledger");
            Files.write(file, torn);
            assertRepairs(file, records.subList(0, RECORDS - 1), lastLength,
                    landed + " bytes landed, seed " + SEED);
        }
    }

    @Test
    void aWholeLastRecordFailingItsHashIsRepaired() throws IOException {
        Random random = new Random(SEED);
        Path original = dir.resolve("original.ledger");
        List<LedgerRecord> records = LedgerFixtures.createLedger(original, random, RECORDS, 120);
        byte[] full = Files.readAllBytes(original);
        int lastStart = (int) LedgerFixtures.offsets(records)[RECORDS - 1];
        // Every byte after the frame: seq, time, type, payload, prevHash and hash alike.
        for (int at = lastStart + 8; at < full.length; at++) {
            byte[] bytes = full.clone();
            int mask = 1 + random.nextInt(255);
            bytes[at] ^= (byte) mask;
            Path file = dir.resolve("flip-" + at + ".ledger");
            Files.write(file, bytes);
            assertRepairs(file, records.subList(0, RECORDS - 1), full.length - lastStart,
                    "byte " + (at - lastStart) + " of the last record ^ " + mask + ", seed " + SEED);
        }
    }

    @Test
    void aHashValidLastRecordWithABrokenChainIsCorruptNotTorn() throws IOException {
        Random random = new Random(SEED);
        Path file = dir.resolve("task.ledger");
        List<LedgerRecord> records = LedgerFixtures.createLedger(file, random, RECORDS, 120);
        long[] offsets = LedgerFixtures.offsets(records);
        byte[] kept = Arrays.copyOf(Files.readAllBytes(file), (int) offsets[RECORDS - 1]);
        LedgerRecord last = records.get(RECORDS - 1);
        byte[] wrongSeq = LedgerFixtures.record(last.seq() + 1, last.timeUnixMs(), last.type(), last.payload(),
                last.prevHash());
        byte[] wrongPrev = LedgerFixtures.record(last.seq(), last.timeUnixMs(), last.type(), last.payload(),
                LedgerFile.genesis());
        for (byte[] forged : List.of(wrongSeq, wrongPrev)) {
            byte[] bytes = Arrays.copyOf(kept, kept.length + forged.length);
            System.arraycopy(forged, 0, bytes, kept.length, forged.length);
            Files.write(file, bytes);
            CorruptLedgerException e = assertThrows(CorruptLedgerException.class,
                    () -> LedgerFile.open(file, LedgerFixtures.ID, r -> { }));
            assertEquals(RECORDS - 1, e.seq(), e.getMessage());
            assertEquals(offsets[RECORDS - 1], e.offset(), e.getMessage());
            assertArrayEquals(bytes, Files.readAllBytes(file));
        }
    }

    @Test
    void bytesThatNoAppendWritesAfterTheLastRecordAreCorrupt() throws IOException {
        Random random = new Random(SEED);
        Path file = dir.resolve("task.ledger");
        LedgerFixtures.createLedger(file, random, RECORDS, 120);
        byte[] clean = Files.readAllBytes(file);
        byte[] bytes = Arrays.copyOf(clean, clean.length + 3);
        bytes[clean.length] = 'X';
        Files.write(file, bytes);
        CorruptLedgerException e = assertThrows(CorruptLedgerException.class,
                () -> LedgerFile.verify(file, LedgerFixtures.ID, r -> { }));
        assertEquals(RECORDS, e.seq(), e.getMessage());
        assertEquals(clean.length, e.offset(), e.getMessage());
        assertArrayEquals(bytes, Files.readAllBytes(file));
    }

    /**
     * verify reports {@code tornBytes} without touching the file; open cuts exactly them, keeps
     * {@code kept}, accepts an append, and the result reopens cleanly.
     */
    private static void assertRepairs(Path file, List<LedgerRecord> kept, long tornBytes, String where)
            throws IOException {
        byte[] before = Files.readAllBytes(file);
        byte[] head = kept.isEmpty() ? LedgerFile.genesis() : kept.get(kept.size() - 1).hash();
        assertEquals(new Verification(kept.size(), head, tornBytes),
                LedgerFile.verify(file, LedgerFixtures.ID, r -> { }), where);
        assertArrayEquals(before, Files.readAllBytes(file), "verify modified the file, " + where);

        List<LedgerRecord> replayed = new ArrayList<>();
        LedgerRecord appended;
        try (LedgerFile ledger = LedgerFile.open(file, LedgerFixtures.ID, replayed::add)) {
            assertEquals(tornBytes, ledger.tornBytesRepaired(), where);
            assertEquals(kept, replayed, where);
            assertArrayEquals(head, ledger.head(), where);
            long validLength = Math.max(before.length - tornBytes, LedgerFixtures.header(LedgerFixtures.ID).length);
            assertEquals(validLength, Files.size(file), where);
            appended = ledger.append("AfterRepair", 1, new byte[] {7});
            assertEquals(kept.size(), appended.seq(), where);
            assertArrayEquals(head, appended.prevHash(), where);
        }
        replayed.clear();
        try (LedgerFile ledger = LedgerFile.open(file, LedgerFixtures.ID, replayed::add)) {
            assertEquals(0, ledger.tornBytesRepaired(), where);
            assertEquals(kept.size() + 1, ledger.size(), where);
            assertEquals(appended, replayed.get(replayed.size() - 1), where);
        }
    }
}
