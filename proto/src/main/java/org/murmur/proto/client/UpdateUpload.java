package org.murmur.proto.client;

import java.nio.file.Path;
import java.util.Objects;
import org.murmur.proto.identity.NodeKeys;

/**
 * What {@link MurmurClient#pushUpdate} uploads: the proposer's keys, the task and round, the
 * update's safetensors file and the number of training samples behind it. The manifest, size and
 * SHA-256 are read from the file itself.
 *
 * @param keys       the proposer's key pair; the header is signed with it
 * @param taskId     the task
 * @param round      the round (0-based)
 * @param file       the update, a safetensors file that stays unchanged during the upload
 * @param numSamples training samples behind the update, at least 1
 */
public record UpdateUpload(NodeKeys keys, String taskId, long round, Path file, long numSamples) {
    public UpdateUpload {
        Objects.requireNonNull(keys, "keys");
        Objects.requireNonNull(taskId, "taskId");
        Objects.requireNonNull(file, "file");
        if (numSamples < 1) {
            throw new IllegalArgumentException("numSamples must be at least 1, was " + numSamples);
        }
    }
}
