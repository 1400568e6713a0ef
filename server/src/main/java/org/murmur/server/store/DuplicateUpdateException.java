package org.murmur.server.store;

/** A complete update already exists for this key; it is never overwritten. */
public final class DuplicateUpdateException extends StoreException {
    private static final long serialVersionUID = 1L;
    private final long existingBytes;

    public DuplicateUpdateException(UpdateKey key, long existingBytes) {
        super(key, "a complete update of " + existingBytes + " bytes is already stored");
        this.existingBytes = existingBytes;
    }

    public long existingBytes() {
        return existingBytes;
    }
}
