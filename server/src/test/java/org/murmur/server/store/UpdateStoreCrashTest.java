package org.murmur.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real crash: a child JVM writes part of an upload, syncs, keeps writing, and is SIGKILLed
 * mid-write. The durable prefix must be intact, nothing partial may look complete, and a resume
 * must finish a byte-identical update.
 */
class UpdateStoreCrashTest {
    static final UpdateKey KEY = new UpdateKey("crash-task", 7, "node-A");
    private static final long TOTAL = 8L << 20;
    private static final long SYNC_AT = (2L << 20) + 12_345;
    private static final int SEED = 42;

    @TempDir
    Path data;

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void sigkillMidWriteKeepsTheDurablePrefixAndResumes() throws Exception {
        Path stderr = data.resolve("child-stderr.txt"); // inside the temp dir, beside updates/
        Process child = new ProcessBuilder(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-cp", System.getProperty("java.class.path"),
                CrashingUploader.class.getName(),
                data.toString(), Long.toString(TOTAL), Long.toString(SYNC_AT), Integer.toString(SEED)))
                .redirectError(stderr.toFile())
                .start();
        long reportedDurable;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.US_ASCII))) {
            String synced = out.readLine();
            assertNotNull(synced, () -> "child ended early: " + readQuietly(stderr));
            assertTrue(synced.startsWith("SYNCED "), synced);
            reportedDurable = Long.parseLong(synced.substring("SYNCED ".length()));
            assertEquals(SYNC_AT, reportedDurable);
            assertEquals("WRITING", out.readLine(), () -> readQuietly(stderr));
            Thread.sleep(25); // let it get well into the unsynced writes
        } finally {
            child.destroyForcibly(); // SIGKILL on Linux
            assertTrue(child.waitFor(20, TimeUnit.SECONDS), "child did not die");
        }
        assertNotEquals(0, child.exitValue(), "child must have been killed, not have exited");

        UpdateStore store = new UpdateStore(data);
        assertTrue(store.find(KEY).isEmpty(), "a partial upload is never complete");
        assertTrue(store.list(KEY.taskId(), KEY.round()).isEmpty());
        assertEquals(UploadStatus.State.PARTIAL, store.status(KEY).state());

        try (Upload upload = store.begin(KEY, TOTAL, StoreFixtures.sha256(TOTAL, SEED))) {
            assertTrue(upload.resumed());
            long durable = upload.durableOffset();
            assertTrue(durable >= reportedDurable, "durable offset " + durable + " < synced " + reportedDurable);
            assertTrue(durable < TOTAL, "the child never writes the last chunk");
            Path partial = store.root().resolve(KEY.taskId()).resolve("7").resolve("node-A.safetensors.partial");
            StoreFixtures.assertPrefix(partial, durable, SEED);
            StoreFixtures.writeRange(upload, durable, TOTAL, SEED);
            upload.sync();
            Path done = upload.complete();
            StoreFixtures.assertContent(done, TOTAL, SEED);
            assertEquals(List.of(new StoredUpdate(KEY, done)), store.list(KEY.taskId(), KEY.round()));
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (Exception e) {
            return "(no stderr: " + e + ")";
        }
    }
}
