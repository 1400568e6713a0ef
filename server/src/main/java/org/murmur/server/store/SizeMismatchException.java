package org.murmur.server.store;

/**
 * The bytes do not add up to the declared total: a chunk would run past it (nothing is written),
 * or {@code complete} was called short of it. The upload stays usable in both cases.
 */
public final class SizeMismatchException extends StoreException {
    private static final long serialVersionUID = 1L;
    private final long expectedBytes;
    private final long actualBytes;

    private SizeMismatchException(UpdateKey key, long expectedBytes, long actualBytes, String problem) {
        super(key, problem);
        this.expectedBytes = expectedBytes;
        this.actualBytes = actualBytes;
    }

    static SizeMismatchException pastTotal(UpdateKey key, long totalBytes, long offset, long length) {
        return new SizeMismatchException(key, totalBytes, offset + length, "chunk of " + length + " bytes at offset "
                + offset + " would end at " + (offset + length) + ", past the declared total of " + totalBytes + " bytes");
    }

    static SizeMismatchException shortOfTotal(UpdateKey key, long totalBytes, long written) {
        return new SizeMismatchException(key, totalBytes, written, "upload completed with " + written
                + " bytes but declared " + totalBytes + " bytes (" + (totalBytes - written) + " missing)");
    }

    /** The declared total. */
    public long expectedBytes() {
        return expectedBytes;
    }

    /** The end the chunk would have reached, or the bytes written at {@code complete}. */
    public long actualBytes() {
        return actualBytes;
    }
}
