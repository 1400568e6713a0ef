package org.murmur.server.grpc;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import org.murmur.server.store.UpdateKey;

/**
 * An admitted update, as the round engine records it ({@code Contributed(round, node, sha256,
 * num_samples)} in the ledger).
 *
 * @param key        task, round and node
 * @param sha256     the SHA-256 of the file, 32 bytes (copied in and out)
 * @param numSamples training samples behind the update, at least 1
 * @param bytes      size of the file
 * @param file       the complete file in the update store
 * @param nonce      the nonce of the upload's first header (recorded with the contribution)
 */
public record Contribution(UpdateKey key, byte[] sha256, long numSamples, long bytes, Path file, byte[] nonce) {
    public Contribution {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(file, "file");
        if (sha256 == null || sha256.length != 32) {
            throw new IllegalArgumentException("sha256 must be 32 bytes");
        }
        sha256 = sha256.clone();
        nonce = nonce.clone();
    }

    @Override
    public byte[] sha256() {
        return sha256.clone();
    }

    @Override
    public byte[] nonce() {
        return nonce.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Contribution other && key.equals(other.key)
                && Arrays.equals(sha256, other.sha256) && numSamples == other.numSamples
                && bytes == other.bytes && file.equals(other.file) && Arrays.equals(nonce, other.nonce);
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, Arrays.hashCode(sha256), numSamples, bytes, file, Arrays.hashCode(nonce));
    }

    @Override
    public String toString() {
        return "Contribution[" + key + ", sha256=" + HexFormat.of().formatHex(sha256) + ", samples="
                + numSamples + ", bytes=" + bytes + "]";
    }
}
