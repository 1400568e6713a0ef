package org.murmur.server.grpc;

import com.google.protobuf.ByteString;
import org.murmur.server.model.ModelSchema;

/**
 * The fields every upload header has (an {@code UpdateHeader}, a {@code ModelHeader}), checked
 * well formed by {@link HeaderChecks#wellFormed}: what the uploaded file must be.
 *
 * @param manifest   the file's tensors as announced
 * @param totalBytes the file's size, at least 1
 * @param sha256     the file's SHA-256, 32 bytes
 * @param resume     whether the stream continues an interrupted upload
 */
record UploadHeader(ModelSchema manifest, long totalBytes, ByteString sha256, boolean resume) {
}
