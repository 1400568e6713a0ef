package org.murmur.server.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.murmur.server.store.StoreFixtures.assertContent;
import static org.murmur.server.store.StoreFixtures.assertPrefix;
import static org.murmur.server.store.StoreFixtures.chunk;
import static org.murmur.server.store.StoreFixtures.sha256;
import static org.murmur.server.store.StoreFixtures.writeRange;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UpdateStoreTest {
    private static final UpdateKey KEY = new UpdateKey("task-1", 3, "node_A");
    private static final long TOTAL = (1L << 20) + 37; // not a multiple of the chunk size
    private static final int SEED = 7;

    @TempDir
    Path data;
    private UpdateStore store;
    private Path roundDir;

    @BeforeEach
    void open() throws IOException {
        store = new UpdateStore(data);
        roundDir = data.resolve("updates").resolve("task-1").resolve("3");
    }

    private Path partial(String node) {
        return roundDir.resolve(node + ".safetensors.partial");
    }

    private Path sidecar(String node) {
        return roundDir.resolve(node + ".upload");
    }

    @Test
    void freshUploadInChunksCompletesAndIsFoundAndListed() throws IOException {
        assertEquals(new UploadStatus(UploadStatus.State.ABSENT, 0, -1), store.status(KEY));
        Upload upload = store.begin(KEY, TOTAL, sha256(TOTAL, SEED));
        assertFalse(upload.resumed());
        assertEquals(0, upload.durableOffset());
        writeRange(upload, 0, TOTAL / 2, SEED);
        assertEquals(0, upload.durableOffset(), "not durable before sync");
        upload.sync();
        assertEquals(TOTAL / 2, upload.durableOffset());
        assertEquals(new UploadStatus(UploadStatus.State.ACTIVE, TOTAL / 2, TOTAL), store.status(KEY));
        assertTrue(store.find(KEY).isEmpty(), "in progress is not complete");
        writeRange(upload, TOTAL / 2, TOTAL, SEED);
        Path done = upload.complete();

        assertEquals(roundDir.resolve("node_A.safetensors"), done);
        assertEquals(TOTAL, upload.durableOffset());
        assertContent(done, TOTAL, SEED);
        assertEquals(Optional.of(done), store.find(KEY));
        assertEquals(List.of(new StoredUpdate(KEY, done)), store.list("task-1", 3));
        assertFalse(Files.exists(partial("node_A")));
        assertFalse(Files.exists(sidecar("node_A")));
        assertEquals(new UploadStatus(UploadStatus.State.COMPLETE, TOTAL, TOTAL), store.status(KEY));
        assertThrows(IllegalStateException.class, () -> upload.write(TOTAL, ByteBuffer.allocate(0)));
        upload.abort(); // a no-op after complete
        assertEquals(Optional.of(done), store.find(KEY));
    }

    @Test
    void heapBuffersAndAnEmptyUpdateWorkToo() throws IOException {
        byte[] bytes = "hello, murmur".getBytes(StandardCharsets.US_ASCII);
        Upload upload = store.begin(KEY, bytes.length, Durable.sha256().digest(bytes));
        upload.write(0, ByteBuffer.wrap(bytes, 0, 5));
        upload.write(5, ByteBuffer.wrap(bytes, 5, bytes.length - 5));
        assertArrayEquals(bytes, Files.readAllBytes(upload.complete()));

        UpdateKey empty = new UpdateKey("task-1", 3, "empty");
        Path done = store.begin(empty, 0, Durable.sha256().digest()).complete();
        assertEquals(0, Files.size(done));
    }

    @Test
    void resumesAfterAbortFromTheDurableOffset() throws IOException {
        byte[] sha = sha256(TOTAL, SEED);
        Upload first = store.begin(KEY, TOTAL, sha);
        writeRange(first, 0, 300_001, SEED);
        first.sync();
        first.abort();
        assertTrue(Files.exists(partial("node_A")), "abort keeps the partial");
        assertEquals(new UploadStatus(UploadStatus.State.PARTIAL, 300_001, TOTAL), store.status(KEY));

        Upload second = store.begin(KEY, TOTAL, sha);
        assertTrue(second.resumed());
        assertEquals(300_001, second.durableOffset());
        assertEquals(300_001, second.position());
        writeRange(second, 300_001, TOTAL, SEED);
        assertContent(second.complete(), TOTAL, SEED);
    }

    @Test
    void resumesAfterASimulatedCrashInANewStore() throws IOException {
        byte[] sha = sha256(TOTAL, SEED);
        Upload dropped = store.begin(KEY, TOTAL, sha);
        try {
            writeRange(dropped, 0, 200_000, SEED);
            dropped.sync();
            writeRange(dropped, 200_000, 500_000, SEED); // written, never synced; then "crash"

            UpdateStore reopened = new UpdateStore(data);
            assertTrue(reopened.find(KEY).isEmpty());
            assertTrue(reopened.list("task-1", 3).isEmpty());
            Upload resumed = reopened.begin(KEY, TOTAL, sha);
            long durable = resumed.durableOffset();
            assertTrue(durable >= 200_000 && durable <= 500_000, "durable offset " + durable);
            assertPrefix(partial("node_A"), durable, SEED);
            writeRange(resumed, durable, TOTAL, SEED);
            assertContent(resumed.complete(), TOTAL, SEED);
        } finally {
            dropped.abort(); // only releases the dropped file handle
        }
    }

    @Test
    void aResumedUploadIsRehashedFromDisk() throws IOException {
        byte[] sha = sha256(TOTAL, SEED);
        Upload first = store.begin(KEY, TOTAL, sha);
        writeRange(first, 0, 100_000, SEED);
        first.abort();
        try (var channel = java.nio.channels.FileChannel.open(partial("node_A"),
                java.nio.file.StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {(byte) ~StoreFixtures.byteAt(10, SEED)}), 10);
        }
        Upload second = store.begin(KEY, TOTAL, sha);
        writeRange(second, second.durableOffset(), TOTAL, SEED);
        assertThrows(ChecksumMismatchException.class, second::complete);
        assertFalse(Files.exists(partial("node_A")));
        assertTrue(store.find(KEY).isEmpty());
    }

    @Test
    void chunkGapAndOverlapAreRefusedAndWriteNothing() throws IOException {
        Upload upload = store.begin(KEY, TOTAL, sha256(TOTAL, SEED));
        writeRange(upload, 0, 1000, SEED);

        ChunkOrderException gap = assertThrows(ChunkOrderException.class,
                () -> upload.write(1001, chunk(1001, 10, SEED)));
        assertEquals(1000, gap.expectedOffset());
        assertEquals(1001, gap.actualOffset());
        assertTrue(gap.getMessage().contains("task task-1, round 3, node node_A"), gap.getMessage());
        assertTrue(gap.getMessage().contains("gap of 1 bytes"), gap.getMessage());

        ChunkOrderException overlap = assertThrows(ChunkOrderException.class,
                () -> upload.write(999, chunk(999, 10, SEED)));
        assertEquals(1000, overlap.expectedOffset());
        assertEquals(999, overlap.actualOffset());
        assertTrue(overlap.getMessage().contains("overlap"), overlap.getMessage());

        assertEquals(1000, upload.position());
        writeRange(upload, 1000, TOTAL, SEED);
        assertContent(upload.complete(), TOTAL, SEED);
    }

    @Test
    void chunkPastTheTotalAndCompletingShortAreSizeMismatches() throws IOException {
        Upload upload = store.begin(KEY, TOTAL, sha256(TOTAL, SEED));
        writeRange(upload, 0, TOTAL - 10, SEED);

        SizeMismatchException past = assertThrows(SizeMismatchException.class,
                () -> upload.write(TOTAL - 10, chunk(TOTAL - 10, 11, SEED)));
        assertEquals(TOTAL, past.expectedBytes());
        assertEquals(TOTAL + 1, past.actualBytes());
        assertEquals(TOTAL - 10, upload.position(), "nothing written");

        SizeMismatchException shortTotal = assertThrows(SizeMismatchException.class, upload::complete);
        assertEquals(TOTAL, shortTotal.expectedBytes());
        assertEquals(TOTAL - 10, shortTotal.actualBytes());
        assertTrue(shortTotal.getMessage().contains("10 missing"), shortTotal.getMessage());

        writeRange(upload, TOTAL - 10, TOTAL, SEED);
        assertContent(upload.complete(), TOTAL, SEED);
    }

    @Test
    void checksumMismatchDeletesThePartialSoARetryStartsClean() throws IOException {
        byte[] wrong = sha256(TOTAL, SEED + 1);
        Upload upload = store.begin(KEY, TOTAL, wrong);
        writeRange(upload, 0, TOTAL, SEED);
        ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class, upload::complete);
        assertEquals(Durable.hex(wrong), e.expectedSha256());
        assertEquals(Durable.hex(sha256(TOTAL, SEED)), e.actualSha256());
        assertEquals(TOTAL, e.bytes());
        assertFalse(Files.exists(partial("node_A")));
        assertFalse(Files.exists(sidecar("node_A")));
        assertTrue(store.find(KEY).isEmpty());
        assertThrows(IllegalStateException.class, () -> upload.write(TOTAL, ByteBuffer.allocate(0)));

        Upload retry = store.begin(KEY, TOTAL, sha256(TOTAL, SEED)); // key freed, starts at 0
        assertFalse(retry.resumed());
        writeRange(retry, 0, TOTAL, SEED);
        assertContent(retry.complete(), TOTAL, SEED);
    }

    @Test
    void aCompleteUpdateIsNeverOverwritten() throws IOException {
        Upload upload = store.begin(KEY, 1000, sha256(1000, SEED));
        writeRange(upload, 0, 1000, SEED);
        upload.complete();
        DuplicateUpdateException e = assertThrows(DuplicateUpdateException.class,
                () -> store.begin(KEY, 1000, sha256(1000, SEED)));
        assertEquals(1000, e.existingBytes());
        assertEquals(KEY, e.key());
        assertFalse(store.discard(KEY), "discard never touches a complete update");
        assertContent(store.find(KEY).orElseThrow(), 1000, SEED);
    }

    @Test
    void differentExpectationsConflictWithoutDestroyingThePartial() throws IOException {
        byte[] sha = sha256(TOTAL, SEED);
        Upload first = store.begin(KEY, TOTAL, sha);
        writeRange(first, 0, 5000, SEED);
        first.abort();

        UploadConflictException size = assertThrows(UploadConflictException.class,
                () -> store.begin(KEY, TOTAL + 1, sha));
        assertEquals(5000, size.partialBytes());
        assertTrue(size.getMessage().contains(Long.toString(TOTAL + 1)), size.getMessage());
        assertThrows(UploadConflictException.class, () -> store.begin(KEY, TOTAL, sha256(TOTAL, SEED + 1)));
        assertEquals(5000, Files.size(partial("node_A")), "the partial is intact");

        assertTrue(store.discard(KEY));
        assertFalse(Files.exists(partial("node_A")));
        Upload fresh = store.begin(KEY, 10, sha256(10, SEED));
        assertFalse(fresh.resumed());
        fresh.abort();
    }

    @Test
    void aPartialWithoutItsSidecarConflictsUnlessItIsEmpty() throws IOException {
        Upload first = store.begin(KEY, TOTAL, sha256(TOTAL, SEED));
        first.abort(); // empty partial and a sidecar
        Files.delete(sidecar("node_A"));
        Upload again = store.begin(KEY, TOTAL, sha256(TOTAL, SEED)); // empty: nothing to lose
        assertFalse(again.resumed());
        writeRange(again, 0, 10, SEED);
        again.abort();

        Files.delete(sidecar("node_A"));
        UploadConflictException e = assertThrows(UploadConflictException.class,
                () -> store.begin(KEY, TOTAL, sha256(TOTAL, SEED)));
        assertTrue(e.getMessage().contains("sidecar"), e.getMessage());
        assertEquals(new UploadStatus(UploadStatus.State.PARTIAL, 10, -1), store.status(KEY));
    }

    @Test
    void oneActiveUploadPerKey() throws Exception {
        Upload first = store.begin(KEY, TOTAL, sha256(TOTAL, SEED));
        assertThrows(UploadBusyException.class, () -> store.begin(KEY, TOTAL, sha256(TOTAL, SEED)));
        assertThrows(UploadBusyException.class, () -> store.discard(KEY));
        Upload other = store.begin(new UpdateKey("task-1", 3, "node_B"), 10, sha256(10, SEED)); // other key: fine
        other.abort();
        first.abort();
        store.begin(KEY, TOTAL, sha256(TOTAL, SEED)).abort();

        // Racing begins of one key: exactly one wins.
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Upload>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    try {
                        return store.begin(KEY, TOTAL, sha256(TOTAL, SEED));
                    } catch (UploadBusyException busy) {
                        return null;
                    }
                }));
            }
            start.countDown();
            List<Upload> winners = new ArrayList<>();
            for (Future<Upload> result : results) {
                Upload upload = result.get(10, TimeUnit.SECONDS);
                if (upload != null) {
                    winners.add(upload);
                }
            }
            assertEquals(1, winners.size());
            winners.get(0).abort();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void idsThatCouldEscapeTheDirectoryAreRejected() {
        assertEquals("mnist.v2", new UpdateKey("mnist.v2", 0, "node").taskId());
        for (String bad : new String[] {"", "..", ".", "../x", ".hidden", "a/b", "a\\b", "/abs", "a b", "\u00e9",
                "a\u0000b", "x".repeat(65)}) {
            IllegalArgumentException task = assertThrows(IllegalArgumentException.class,
                    () -> new UpdateKey(bad, 0, "node"));
            assertTrue(task.getMessage().startsWith("taskId"), task.getMessage());
            IllegalArgumentException node = assertThrows(IllegalArgumentException.class,
                    () -> new UpdateKey("task", 0, bad));
            assertTrue(node.getMessage().startsWith("nodeId"), node.getMessage());
            assertThrows(IllegalArgumentException.class, () -> store.list(bad, 0));
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new UpdateKey(null, 0, "n"))
                .getMessage().startsWith("taskId"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new UpdateKey("t", -1, "n"))
                .getMessage().startsWith("round"));
        assertThrows(IllegalArgumentException.class, () -> store.list("task", -1));
        new UpdateKey("A-z_0-9", 0, "x".repeat(64)); // the widest valid ids
        assertThrows(IllegalArgumentException.class, () -> store.begin(KEY, -1, new byte[32]));
        assertThrows(IllegalArgumentException.class, () -> store.begin(KEY, 1, new byte[31]));
    }

    @Test
    void listShowsOnlyCompleteUpdatesInNodeOrder() throws IOException {
        for (String node : new String[] {"n-c", "n-a", "N-z", "n-b"}) {
            Upload upload = store.begin(new UpdateKey("task-1", 3, node), 100, sha256(100, SEED));
            writeRange(upload, 0, 100, SEED);
            upload.complete();
        }
        Upload inProgress = store.begin(new UpdateKey("task-1", 3, "n-0"), 100, sha256(100, SEED));
        writeRange(inProgress, 0, 50, SEED);
        Upload interrupted = store.begin(new UpdateKey("task-1", 3, "n-1"), 100, sha256(100, SEED));
        writeRange(interrupted, 0, 50, SEED);
        interrupted.abort();
        Files.writeString(roundDir.resolve("stray.txt"), "x");
        Files.writeString(roundDir.resolve(".hidden.safetensors"), "x");
        Files.createDirectory(roundDir.resolve("dir.safetensors"));

        List<String> listed = store.list("task-1", 3).stream().map(u -> u.key().nodeId()).toList();
        assertEquals(List.of("N-z", "n-a", "n-b", "n-c"), listed);
        for (StoredUpdate update : store.list("task-1", 3)) {
            assertTrue(update.path().getFileName().toString().endsWith(".safetensors"));
            assertEquals(Optional.of(update.path()), store.find(update.key()));
        }
        assertTrue(store.find(new UpdateKey("task-1", 3, "n-0")).isEmpty());
        assertTrue(store.find(new UpdateKey("task-1", 3, "n-1")).isEmpty());
        assertTrue(store.list("task-1", 4).isEmpty());
        assertTrue(store.list("no-such-task", 0).isEmpty());
        inProgress.abort();
    }

    @Test
    void refusesWhenTheFilesystemCannotHoldTheRestPlusTheReserve() throws IOException {
        UpdateStore tight = new UpdateStore(data, Long.MAX_VALUE / 2);
        InsufficientSpaceException e = assertThrows(InsufficientSpaceException.class,
                () -> tight.begin(KEY, TOTAL, sha256(TOTAL, SEED)));
        assertTrue(e.getMessage().contains(Long.toString(TOTAL)), e.getMessage());
        assertTrue(e.neededBytes() > e.usableBytes());
        assertFalse(Files.exists(sidecar("node_A")), "nothing created");
        assertFalse(Files.exists(partial("node_A")));
        store.begin(KEY, TOTAL, sha256(TOTAL, SEED)).abort(); // ample space with the default reserve

        // the space still due to other active uploads counts too
        long usable = Files.getFileStore(data).getUsableSpace();
        UpdateStore counting = new UpdateStore(data, 0);
        Upload big = counting.begin(new UpdateKey("task-1", 3, "big"), usable / 2 + (1L << 30), new byte[32]);
        try {
            assertThrows(InsufficientSpaceException.class,
                    () -> counting.begin(KEY, usable / 2 + (1L << 30), new byte[32]));
        } finally {
            big.abort();
        }
    }
}
