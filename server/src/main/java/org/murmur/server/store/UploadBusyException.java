package org.murmur.server.store;

/** Another upload (or discard) of the same key is in progress; only one may be active per key. */
public final class UploadBusyException extends StoreException {
    private static final long serialVersionUID = 1L;

    public UploadBusyException(UpdateKey key) {
        super(key, "another upload of this update is in progress");
    }
}
