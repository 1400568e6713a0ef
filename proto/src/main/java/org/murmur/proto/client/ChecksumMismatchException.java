package org.murmur.proto.client;

import java.io.IOException;

/** A downloaded model's bytes do not hash to the SHA-256 its ModelInfo announced; nothing was written to the target. */
public final class ChecksumMismatchException extends IOException {
    private static final long serialVersionUID = 1L;

    public ChecksumMismatchException(String message) {
        super(message);
    }
}
