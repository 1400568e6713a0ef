package org.murmur.server.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing of ledger record decoding: {@link LedgerFile#verify} over any file, over
 * a valid header followed by any bytes, and over chains of records built from fuzzed fields with
 * their hashes computed (so the fuzzer reaches the checks behind the hash) and a fuzzed tail.
 * Only {@link CorruptLedgerException} may escape. Where verification succeeds, the records it
 * visits form a chain, and {@link LedgerFile#open} agrees: it cuts exactly the torn bytes verify
 * reported, and the repaired ledger takes an append and verifies clean. Where it fails, open fails
 * too and leaves the file as it was.
 */
class LedgerFileFuzzTest {
    private static final String LEDGER = "task-7";
    private static final byte[] HEADER = LedgerFormat.header(LEDGER);
    private static Path dir;
    private static Path file;

    @BeforeAll
    static void createDirectory() throws IOException {
        Path shm = Path.of("/dev/shm");
        // tmpfs where there is one: open fsyncs what it repairs, which is no part of what is fuzzed.
        dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "ledger-fuzz")
                : Files.createTempDirectory("ledger-fuzz");
        file = dir.resolve("ledger");
    }

    @AfterAll
    static void deleteDirectory() throws IOException {
        Files.deleteIfExists(file);
        Files.deleteIfExists(dir);
    }

    /** The whole file from the fuzzer. */
    @FuzzTest
    void anyFile(byte[] bytes) throws IOException {
        check(bytes);
    }

    /** This ledger's header, then the fuzzer's bytes. */
    @FuzzTest
    void afterAValidHeader(byte[] bytes) throws IOException {
        byte[] ledger = Arrays.copyOf(HEADER, HEADER.length + bytes.length);
        System.arraycopy(bytes, 0, ledger, HEADER.length, bytes.length);
        check(ledger);
    }

    /**
     * This ledger's header, then up to eight records whose every field is either the one the next
     * append would write or fuzzed, each hashed over its body as written, then a fuzzed tail: a cut
     * record, zeros, or any bytes.
     */
    @FuzzTest
    void recordChains(FuzzedDataProvider data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(HEADER);
        byte[] head = LedgerFormat.genesis();
        int records = data.consumeInt(0, 8);
        for (long seq = 0; seq < records; seq++) {
            byte[] record = record(data, seq, head);
            out.writeBytes(record);
            head = Arrays.copyOfRange(record, record.length - LedgerFormat.HASH_BYTES, record.length);
        }
        switch (data.consumeInt(0, 3)) {
            case 1 -> {
                byte[] next = record(data, records, head);
                out.write(next, 0, data.consumeInt(0, next.length));
            }
            case 2 -> out.writeBytes(new byte[data.consumeInt(1, 128)]);
            case 3 -> out.writeBytes(data.consumeRemainingAsBytes());
            default -> {
            }
        }
        check(out.toByteArray());
    }

    /** One record: each field as the next append writes it, or (on the fuzzer's choice) not. */
    private static byte[] record(FuzzedDataProvider data, long seq, byte[] prevHash) {
        byte[] type = data.consumeInt(0, 7) == 7 ? data.consumeBytes(data.consumeInt(0, 70))
                : "contributed".getBytes(StandardCharsets.US_ASCII);
        byte[] payload = data.consumeBytes(data.consumeInt(0, 64));
        int bodyLength = LedgerFormat.FIXED_BODY_BYTES + type.length + payload.length;
        ByteBuffer body = ByteBuffer.allocate(bodyLength)
                .putLong(data.consumeInt(0, 7) == 7 ? data.consumeLong() : seq)
                .putLong(data.consumeLong())
                .putInt(data.consumeInt(0, 7) == 7 ? data.consumeInt() : type.length).put(type)
                .putInt(data.consumeInt(0, 7) == 7 ? data.consumeInt() : payload.length).put(payload)
                .put(data.consumeInt(0, 7) == 7 ? Arrays.copyOf(data.consumeBytes(32), 32) : prevHash);
        byte[] hash = data.consumeInt(0, 7) == 7 ? Arrays.copyOf(data.consumeBytes(32), 32)
                : LedgerFormat.sha256().digest(body.array());
        return ByteBuffer.allocate(LedgerFormat.FRAME_BYTES + bodyLength + LedgerFormat.HASH_BYTES)
                .putInt(data.consumeInt(0, 15) == 15 ? data.consumeInt() : LedgerFormat.RECORD_MAGIC)
                .putInt(data.consumeInt(0, 7) == 7 ? data.consumeInt() : bodyLength)
                .put(body.array()).put(hash).array();
    }

    /** Verify, then open: the documented failures only, and the two agree. */
    private static void check(byte[] ledger) throws IOException {
        Files.write(file, ledger);
        List<LedgerRecord> visited = new ArrayList<>();
        Verification verification;
        try {
            verification = LedgerFile.verify(file, LEDGER, visited::add);
        } catch (CorruptLedgerException corrupt) {
            assertEquals(file, corrupt.file());
            try (LedgerFile opened = LedgerFile.open(file, LEDGER, r -> { })) {
                throw new AssertionError("verify found " + corrupt.getMessage() + ", but open accepted the file ("
                        + opened.size() + " records, " + opened.tornBytesRepaired() + " torn bytes cut)");
            } catch (CorruptLedgerException alsoCorrupt) {
                assertEquals(corrupt.getMessage(), alsoCorrupt.getMessage(), "open and verify disagree on where");
            }
            assertArrayEquals(ledger, Files.readAllBytes(file), "open changed a corrupt ledger");
            return;
        }
        assertEquals(visited.size(), verification.records());
        byte[] head = LedgerFormat.genesis();
        for (int i = 0; i < visited.size(); i++) {
            LedgerRecord r = visited.get(i);
            assertEquals(i, r.seq());
            assertArrayEquals(head, r.prevHash(), "record " + i + " does not chain to the one before");
            head = r.hash();
        }
        assertArrayEquals(head, verification.head());
        assertTrue(verification.tornBytes() >= 0 && verification.tornBytes() <= ledger.length, verification::toString);

        try (LedgerFile opened = LedgerFile.open(file, LEDGER, r -> { })) {
            assertEquals(verification.records(), opened.size());
            assertArrayEquals(verification.head(), opened.head());
            assertEquals(verification.tornBytes(), opened.tornBytesRepaired());
            opened.append("fuzzed", 1, new byte[] {1, 2, 3});
        }
        Verification repaired = LedgerFile.verify(file, LEDGER, r -> { });
        assertEquals(verification.records() + 1, repaired.records());
        assertEquals(0, repaired.tornBytes());
    }
}
