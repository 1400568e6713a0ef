package org.murmur.server.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The server's data directory, marked as such by a small file at its root so the server never
 * mistakes another directory for its own: a new or empty directory is claimed (the marker is
 * written durably), a marked one is opened, and anything else (a home directory, another program's
 * data, a newer format) is refused with a message naming it, before anything is written there.
 */
public final class DataDirectory {
    /** The marker's file name. */
    public static final String MARKER = "MURMUR-DATA";
    /** The marker's content: this format of data directory. */
    static final String FORMAT = "murmur data directory, format 1\n";

    private DataDirectory() {
    }

    /** Opens or claims {@code dir}; {@link IOException} naming it when it is not a Murmur data directory. */
    public static Path open(Path dir) throws IOException {
        Path root = dir.toAbsolutePath().normalize();
        Path marker = root.resolve(MARKER);
        if (Files.isRegularFile(marker)) {
            String found = Files.readString(marker, StandardCharsets.UTF_8);
            if (!found.equals(FORMAT)) {
                throw new IOException(root + " is a data directory of another Murmur format (" + marker + " says \""
                        + found.strip() + "\"); this server reads \"" + FORMAT.strip() + "\"");
            }
            return root;
        }
        Files.createDirectories(root);
        try (Stream<Path> entries = Files.list(root)) {
            if (entries.findAny().isPresent()) {
                throw new IOException(root + " is not empty and is not a Murmur data directory (it has no "
                        + MARKER + " file): choose an empty or new --data-dir");
            }
        }
        Durable.writeAtomically(marker, FORMAT.getBytes(StandardCharsets.UTF_8));
        Durable.syncDirectory(root);
        return root;
    }
}
