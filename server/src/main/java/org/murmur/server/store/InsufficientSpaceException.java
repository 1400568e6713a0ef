package org.murmur.server.store;

/**
 * The filesystem has too little usable space for the rest of this upload, on top of the space the
 * other active uploads still need and the configured reserve. Nothing was created.
 */
public final class InsufficientSpaceException extends StoreException {
    private static final long serialVersionUID = 1L;
    private final long neededBytes;
    private final long usableBytes;

    public InsufficientSpaceException(UpdateKey key, long remainingBytes, long otherUploadsBytes, long reserveBytes,
                                      long usableBytes) {
        super(key, "needs " + remainingBytes + " more bytes, plus " + otherUploadsBytes
                + " still due to other active uploads and a reserve of " + reserveBytes + " bytes, but only "
                + usableBytes + " bytes are usable on the filesystem");
        this.neededBytes = UpdateStore.saturatingAdd(UpdateStore.saturatingAdd(remainingBytes, otherUploadsBytes),
                reserveBytes);
        this.usableBytes = usableBytes;
    }

    /** Remaining bytes of this upload + those due to other active uploads + the reserve. */
    public long neededBytes() {
        return neededBytes;
    }

    public long usableBytes() {
        return usableBytes;
    }
}
