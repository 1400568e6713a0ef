package org.murmur.server.store;

/**
 * The complete upload's SHA-256 differs from the declared one. The partial file has been deleted,
 * so a clean retry from offset 0 is possible.
 */
public final class ChecksumMismatchException extends StoreException {
    private static final long serialVersionUID = 1L;
    private final String expectedSha256;
    private final String actualSha256;
    private final long bytes;

    public ChecksumMismatchException(UpdateKey key, String expectedSha256, String actualSha256, long bytes) {
        super(key, "SHA-256 of the " + bytes + " bytes received is " + actualSha256 + " but " + expectedSha256
                + " was declared; the partial upload was deleted, retry from offset 0");
        this.expectedSha256 = expectedSha256;
        this.actualSha256 = actualSha256;
        this.bytes = bytes;
    }

    public String expectedSha256() {
        return expectedSha256;
    }

    public String actualSha256() {
        return actualSha256;
    }

    public long bytes() {
        return bytes;
    }
}
