package org.murmur.server.store;

import java.util.Objects;

/**
 * Root of the store's domain failures (unchecked; real I/O failures are {@link java.io.IOException}s).
 * Every message starts with the update's key and names the numbers involved; subclasses expose them
 * as accessors so the gRPC layer can map each reason to a status and a counted reason.
 */
public abstract class StoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient UpdateKey key;

    protected StoreException(UpdateKey key, String problem) {
        super(Objects.requireNonNull(key, "key") + ": " + problem);
        this.key = key;
    }

    /** The update this failure concerns. */
    public UpdateKey key() {
        return key;
    }
}
