package org.murmur.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.murmur.server.store.StoreFixtures.sha256;
import static org.murmur.server.store.StoreFixtures.writeRange;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A content check that refuses the bytes leaves no complete file, no partial, and a free key. */
class UploadContentCheckTest {
    private static final UpdateKey KEY = new UpdateKey("task-1", 0, "node_B");
    private static final long TOTAL = 200_000;
    private static final int SEED = 11;

    @Test
    void aRefusedUploadIsNeverVisibleAsComplete(@TempDir Path data) throws IOException {
        UpdateStore store = new UpdateStore(data, 0);
        Upload upload = store.begin(KEY, TOTAL, sha256(TOTAL, SEED));
        writeRange(upload, 0, TOTAL, SEED);
        long[] checkedSize = new long[1];
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> upload.complete(file -> {
            checkedSize[0] = Files.size(file);
            assertTrue(store.find(KEY).isEmpty(), "nothing is published while the check runs");
            throw new IllegalStateException("NaN in tensor 'w'");
        }));
        assertEquals("NaN in tensor 'w'", refused.getMessage());
        assertEquals(TOTAL, checkedSize[0], "the check saw the whole, verified file");
        assertTrue(store.find(KEY).isEmpty());
        try (Stream<Path> files = Files.walk(data)) {
            assertTrue(files.filter(Files::isRegularFile).findAny().isEmpty(), "partial and sidecar are gone");
        }
        Upload retry = store.begin(KEY, TOTAL, sha256(TOTAL, SEED));
        writeRange(retry, 0, TOTAL, SEED);
        assertTrue(store.find(KEY).isEmpty());
        assertTrue(Files.isRegularFile(retry.complete(file -> { })));
        assertTrue(store.find(KEY).isPresent());
    }
}
