package org.murmur.server.store;

/**
 * An interrupted upload exists for this key with other expectations (total size or SHA-256) than
 * the new {@code begin}, or its expectations cannot be read. Nothing is deleted: the caller decides,
 * and may call {@link UpdateStore#discard(UpdateKey)} to start over.
 */
public final class UploadConflictException extends StoreException {
    private static final long serialVersionUID = 1L;
    private final long partialBytes;

    public UploadConflictException(UpdateKey key, long partialBytes, String problem) {
        super(key, "an interrupted upload holding " + partialBytes + " bytes conflicts: " + problem
                + "; discard it to start over");
        this.partialBytes = partialBytes;
    }

    /** Bytes the interrupted upload holds on disk. */
    public long partialBytes() {
        return partialBytes;
    }
}
