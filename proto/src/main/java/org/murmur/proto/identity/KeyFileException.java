package org.murmur.proto.identity;

import java.io.IOException;
import java.nio.file.Path;

/** A node key file that is missing, unreadable or corrupt; the message names the file and the fault. */
public final class KeyFileException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    KeyFileException(Path file, String problem) {
        super("node key file " + file + ": " + problem);
        this.file = file;
    }

    KeyFileException(Path file, String problem, Throwable cause) {
        super("node key file " + file + ": " + problem, cause);
        this.file = file;
    }

    /** The file at fault. */
    public Path file() {
        return file;
    }
}
