package org.murmur.server.store;

/**
 * What the store holds for one key, for a node asking where to resume.
 *
 * @param state        see {@link State}
 * @param durableBytes bytes known to be on disk: the file size when {@code COMPLETE}; the durable
 *                     offset when {@code PARTIAL} or {@code ACTIVE}; 0 when {@code ABSENT}
 * @param totalBytes   the expected total when known (the sidecar's or the file's), else -1
 */
public record UploadStatus(State state, long durableBytes, long totalBytes) {
    public enum State {
        /** Nothing stored: an upload starts at offset 0. */
        ABSENT,
        /** An interrupted upload that {@code begin} with the same expectations resumes. */
        PARTIAL,
        /** An upload is in progress right now (a second {@code begin} would be refused as busy). */
        ACTIVE,
        /** The update is complete and durable. */
        COMPLETE
    }
}
