package org.murmur.server.grpc;

import java.util.Objects;
import org.murmur.proto.identity.NodeId;
import org.murmur.server.store.UpdateKey;

/**
 * An upload header an {@link UploadTarget} let through: who uploads, under which key of the
 * {@link org.murmur.server.store.UpdateStore} the bytes land while they arrive, and what they must be.
 *
 * @param node   the authenticated uploader (its concurrent streams are limited)
 * @param key    where the partial file is kept, so that a cut stream can be resumed
 * @param header the announced manifest, size and SHA-256, and whether this is a resume
 * @param what   the upload in words, for messages ("this update (task t, round 0, node n)")
 */
record Admission(NodeId node, UpdateKey key, UploadHeader header, String what) {
    Admission {
        Objects.requireNonNull(node, "node");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(header, "header");
        Objects.requireNonNull(what, "what");
    }
}
