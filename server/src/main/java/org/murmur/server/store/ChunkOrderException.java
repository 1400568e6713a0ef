package org.murmur.server.store;

/**
 * A chunk did not start exactly at the current end of the upload (a gap when it starts later, an
 * overlap when it starts earlier). Nothing was written; the upload stays usable.
 */
public final class ChunkOrderException extends StoreException {
    private static final long serialVersionUID = 1L;
    private final long expectedOffset;
    private final long actualOffset;

    public ChunkOrderException(UpdateKey key, long expectedOffset, long actualOffset) {
        super(key, "chunk at offset " + actualOffset + " but the upload continues at offset " + expectedOffset
                + (actualOffset > expectedOffset ? " (gap of " + (actualOffset - expectedOffset) + " bytes)"
                        : " (overlap of " + (expectedOffset - actualOffset) + " bytes)"));
        this.expectedOffset = expectedOffset;
        this.actualOffset = actualOffset;
    }

    public long expectedOffset() {
        return expectedOffset;
    }

    public long actualOffset() {
        return actualOffset;
    }
}
