package org.murmur.bench.fl;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An IDX file that is not what it must be. The message always starts with the file's path, so it
 * can be shown to a user as it is.
 */
public final class IdxFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public IdxFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }
}
