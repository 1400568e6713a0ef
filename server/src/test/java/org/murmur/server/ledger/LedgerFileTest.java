package org.murmur.server.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LedgerFileTest {
    private static final long SEED = 20240611L;

    @TempDir
    Path dir;

    @Test
    void replayReturnsEveryAppendedRecordInOrder() throws IOException {
        Random random = new Random(SEED);
        Path file = dir.resolve("task.ledger");
        List<LedgerRecord> appended = new ArrayList<>();
        try (LedgerFile ledger = LedgerFile.open(file, LedgerFixtures.ID, r -> { })) {
            appended.addAll(LedgerFixtures.appendRandom(ledger, random, 300, 2_000));
            // Edge sizes: empty, one byte, the 1 MiB limit (more than one read buffer).
            appended.add(ledger.append("Empty", 0, new byte[0]));
            appended.add(ledger.append("x", -1, new byte[] {42}));
            appended.add(ledger.append("Latest", Long.MAX_VALUE, new byte[0]));
            byte[] max = new byte[LedgerFormat.MAX_PAYLOAD_BYTES];
            random.nextBytes(max);
            appended.add(ledger.append("Largest", Long.MIN_VALUE, max));
            appended.addAll(LedgerFixtures.appendRandom(ledger, random, 20, 100));
            assertEquals(appended.size(), ledger.size());
        }
        List<LedgerRecord> replayed = new ArrayList<>();
        try (LedgerFile ledger = LedgerFile.open(file, LedgerFixtures.ID, replayed::add)) {
            assertEquals(appended, replayed, "seed " + SEED);
            assertEquals(appended.size(), ledger.size());
            assertArrayEquals(appended.get(appended.size() - 1).hash(), ledger.head());
            assertEquals(0, ledger.tornBytesRepaired());
            assertEquals(file, ledger.path());
        }
        List<LedgerRecord> visited = new ArrayList<>();
        Verification verification = LedgerFile.verify(file, LedgerFixtures.ID, visited::add);
        assertEquals(appended, visited, "seed " + SEED);
        assertEquals(new Verification(appended.size(), appended.get(appended.size() - 1).hash(), 0), verification);
    }

    @Test
    void fileBytesAndHashesMatchAnIndependentEncoding() throws IOException {
        Random random = new Random(SEED);
        Path file = dir.resolve("task.ledger");
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes(LedgerFixtures.header(LedgerFixtures.ID));
        byte[] prev = new byte[32];
        assertArrayEquals(prev, LedgerFile.genesis());
        try (LedgerFile ledger = LedgerFile.open(file, LedgerFixtures.ID, r -> { })) {
            assertArrayEquals(prev, ledger.head(), "an empty ledger's head is genesis");
            for (int seq = 0; seq < 40; seq++) {
                String type = LedgerFixtures.randomType(random);
                long time = random.nextLong();
                byte[] payload = LedgerFixtures.randomPayload(random, 300);
                LedgerRecord record = ledger.append(type, time, payload);
                byte[] hash = LedgerFixtures.sha256(LedgerFixtures.body(seq, time, type, payload, prev));
                String where = "seq " + seq + ", seed " + SEED;
                assertEquals(seq, record.seq(), where);
                assertArrayEquals(prev, record.prevHash(), where);
                assertArrayEquals(hash, record.hash(), where);
                assertArrayEquals(payload, record.payload(), where);
                expected.writeBytes(LedgerFixtures.record(seq, time, type, payload, prev));
                prev = hash;
            }
        }
        assertArrayEquals(expected.toByteArray(), Files.readAllBytes(file), "seed " + SEED);
    }

    @Test
    void reopenContinuesSeqAndChain() throws IOException {
        Random random = new Random(SEED);
        Path file = dir.resolve("task.ledger");
        List<LedgerRecord> all = new ArrayList<>(LedgerFixtures.createLedger(file, random, 3, 50));
        for (int session = 0; session < 3; session++) {
            List<LedgerRecord> replayed = new ArrayList<>();
            try (LedgerFile ledger = LedgerFile.open(file, LedgerFixtures.ID, replayed::add)) {
                assertEquals(all, replayed, "seed " + SEED);
                LedgerRecord next = ledger.append("Next", session, new byte[] {(byte) session});
                assertEquals(all.size(), next.seq());
                assertArrayEquals(all.get(all.size() - 1).hash(), next.prevHash());
                all.add(next);
            }
        }
        assertEquals(all.size(), LedgerFile.verify(file, LedgerFixtures.ID, r -> { }).records());
    }

    @Test
    void concurrentAppendsFormOneChain() throws Exception {
        Path file = dir.resolve("task.ledger");
        int threads = 4;
        int perThread = 50;
        List<LedgerRecord> appended = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (LedgerFile ledger = LedgerFile.open(file, LedgerFixtures.ID, r -> { })) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                byte[] payload = {(byte) t};
                done.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        appended.add(ledger.append("Concurrent", i, payload));
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        Set<Long> seqs = new HashSet<>();
        appended.forEach(r -> seqs.add(r.seq()));
        assertEquals(threads * perThread, seqs.size());
        List<LedgerRecord> replayed = new ArrayList<>();
        LedgerFile.verify(file, LedgerFixtures.ID, replayed::add);
        assertEquals(threads * perThread, replayed.size());
        assertTrue(replayed.containsAll(appended));
    }

    @Test
    void createsAHeaderOnlyFileForAnAbsentOrEmptyLedger() throws IOException {
        Path absent = dir.resolve("absent.ledger");
        assertThrows(NoSuchFileException.class, () -> LedgerFile.verify(absent, LedgerFixtures.ID, r -> { }));
        try (LedgerFile ledger = LedgerFile.open(absent, LedgerFixtures.ID, r -> { })) {
            assertEquals(0, ledger.size());
        }
        assertArrayEquals(LedgerFixtures.header(LedgerFixtures.ID), Files.readAllBytes(absent));

        Path empty = Files.createFile(dir.resolve("empty.ledger"));
        assertEquals(new Verification(0, LedgerFile.genesis(), 0), LedgerFile.verify(empty, LedgerFixtures.ID, r -> { }));
        try (LedgerFile ledger = LedgerFile.open(empty, LedgerFixtures.ID, r -> { })) {
            assertEquals(0, ledger.tornBytesRepaired());
        }
        assertArrayEquals(LedgerFixtures.header(LedgerFixtures.ID), Files.readAllBytes(empty));
    }

    @Test
    void oneOpenInstancePerFile() throws IOException {
        Path file = dir.resolve("task.ledger");
        try (LedgerFile ledger = LedgerFile.open(file, LedgerFixtures.ID, r -> { })) {
            IOException refused = assertThrows(IOException.class,
                    () -> LedgerFile.open(file, LedgerFixtures.ID, r -> { }));
            assertTrue(refused.getMessage().contains("already open"), refused.getMessage());
            ledger.append("Still", 1, new byte[0]);
        }
        try (LedgerFile ledger = LedgerFile.open(file, LedgerFixtures.ID, r -> { })) {
            assertEquals(1, ledger.size());
        }
    }

    @Test
    void rejectsWhatItCannotStore() throws IOException {
        Path file = dir.resolve("task.ledger");
        assertThrows(IllegalArgumentException.class, () -> LedgerFile.open(file, "", r -> { }));
        assertThrows(IllegalArgumentException.class, () -> LedgerFile.open(file, "x".repeat(257), r -> { }));
        assertTrue(Files.notExists(file), "a refused ledger id creates nothing");
        LedgerFile ledger = LedgerFile.open(file, LedgerFixtures.ID, r -> { });
        for (String type : new String[] {"", "a-b", "Round1", "é", "A".repeat(65)}) {
            assertThrows(IllegalArgumentException.class, () -> ledger.append(type, 0, new byte[0]), type);
        }
        ledger.append("A".repeat(64), 0, new byte[0]);
        assertThrows(IllegalArgumentException.class,
                () -> ledger.append("Big", 0, new byte[LedgerFormat.MAX_PAYLOAD_BYTES + 1]));
        assertEquals(1, ledger.size(), "refused appends leave nothing");
        ledger.close();
        ledger.close();
        assertThrows(IllegalStateException.class, () -> ledger.append("Late", 0, new byte[0]));
        assertEquals(1, LedgerFile.verify(file, LedgerFixtures.ID, r -> { }).records());
    }

    @Test
    void recordsCopyTheirArrays() {
        byte[] payload = {1, 2, 3};
        byte[] hash = new byte[32];
        LedgerRecord record = new LedgerRecord(0, 5, "T", payload, new byte[32], hash);
        payload[0] = 9;
        hash[0] = 9;
        record.payload()[1] = 9;
        record.hash()[1] = 9;
        assertEquals(new LedgerRecord(0, 5, "T", new byte[] {1, 2, 3}, new byte[32], new byte[32]), record);
        assertEquals(new LedgerRecord(0, 5, "T", new byte[] {1, 2, 3}, new byte[32], new byte[32]).hashCode(),
                record.hashCode());
        assertTrue(record.toString().contains("payload=3 bytes"), record.toString());
        assertTrue(record.toString().contains("hash=" + "00".repeat(32)), record.toString());
    }
}
