package org.murmur.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirectoryTest {
    @TempDir
    Path dir;

    @Test
    void claimsANewOrEmptyDirectoryAndReopensItsOwn() throws IOException {
        Path fresh = dir.resolve("new");
        assertEquals(fresh, DataDirectory.open(fresh));
        assertEquals(DataDirectory.FORMAT, Files.readString(fresh.resolve(DataDirectory.MARKER)));
        Files.createDirectories(fresh.resolve("tasks"));
        assertEquals(fresh, DataDirectory.open(fresh));

        Path empty = Files.createDirectories(dir.resolve("empty"));
        DataDirectory.open(empty);
        assertTrue(Files.isRegularFile(empty.resolve(DataDirectory.MARKER)));
    }

    @Test
    void refusesAForeignDirectoryWithoutWritingThere() throws IOException {
        Path foreign = Files.createDirectories(dir.resolve("home"));
        Files.writeString(foreign.resolve("notes.txt"), "mine");
        IOException refused = assertThrows(IOException.class, () -> DataDirectory.open(foreign));
        assertTrue(refused.getMessage().contains(foreign.toString()), refused.getMessage());
        assertTrue(refused.getMessage().contains("not a Murmur data directory"), refused.getMessage());
        try (var entries = Files.list(foreign)) {
            assertEquals(1, entries.count(), "nothing was written in the foreign directory");
        }
    }

    @Test
    void refusesAnotherFormat() throws IOException {
        Path other = Files.createDirectories(dir.resolve("other"));
        Files.writeString(other.resolve(DataDirectory.MARKER), "murmur data directory, format 9\n",
                StandardCharsets.UTF_8);
        IOException refused = assertThrows(IOException.class, () -> DataDirectory.open(other));
        assertTrue(refused.getMessage().contains("format 9"), refused.getMessage());
    }
}
