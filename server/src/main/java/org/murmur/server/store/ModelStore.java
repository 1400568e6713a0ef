package org.murmur.server.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Content-addressed safetensors files under {@code <data>/models/}, each named
 * {@code <sha256 hex, lower case>.safetensors} after the SHA-256 of its bytes. A file under such a
 * name is always complete: it is written under a hidden temporary name ({@code .tmp-...}) in the
 * same directory, fsynced, and renamed atomically, and the directory is fsynced. Storing the same
 * bytes twice is a no-op. Thread-safe.
 */
public final class ModelStore {
    private static final String SUFFIX = ".safetensors";
    private static final String TEMPORARY_PREFIX = ".tmp-";

    /** Writes a model file at a path the store chose; see {@link #putFromWriter}. */
    @FunctionalInterface
    public interface TempFileWriter {
        /**
         * Creates the file {@code temporary} (which does not exist yet; its directory does) and
         * writes the whole model into it, by any means: a FileChannel, or a writer that itself
         * writes a temporary file and renames it onto {@code temporary}.
         */
        void writeTo(Path temporary) throws IOException;
    }

    private final Path root;

    public ModelStore(Path dataDir) throws IOException {
        Objects.requireNonNull(dataDir, "dataDir");
        Path data = dataDir.toAbsolutePath().normalize();
        Files.createDirectories(data);
        this.root = data.resolve("models");
        Durable.createDirectories(data, root);
    }

    /** {@code <data>/models}. */
    public Path root() {
        return root;
    }

    /**
     * Copies {@code source} in (it is left untouched), hashing the bytes as they are copied in one
     * streamed pass of bounded memory, and returns their SHA-256 hex. Idempotent: when the model is
     * already stored, the copy is dropped and the same hex returned.
     */
    public String put(Path source) throws IOException {
        Objects.requireNonNull(source, "source");
        Path temporary = newTemporary();
        try {
            MessageDigest digest = Durable.sha256();
            try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ);
                 FileChannel out = FileChannel.open(temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.allocate(Durable.BUFFER_BYTES);
                while (in.read(buffer) >= 0) {
                    buffer.flip();
                    digest.update(buffer.array(), 0, buffer.limit());
                    Durable.writeFully(out, buffer);
                    buffer.clear();
                }
                out.force(true);
            }
            return install(temporary, Durable.hex(digest.digest()));
        } catch (IOException | RuntimeException | Error e) {
            deleteQuietly(temporary, e);
            throw e;
        }
    }

    /**
     * Lets {@code writer} write a model straight into the store's directory (no extra copy), then
     * fsyncs it, hashes it from disk in bounded memory, renames it to its content address and
     * returns the hex. Idempotent like {@link #put}. If the writer throws, its file is removed.
     */
    public String putFromWriter(TempFileWriter writer) throws IOException {
        Objects.requireNonNull(writer, "writer");
        Path temporary = newTemporary();
        try {
            writer.writeTo(temporary);
            if (!Files.isRegularFile(temporary)) {
                throw new IOException("the model writer returned without creating " + temporary);
            }
            byte[] sha256;
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                channel.force(true);
                sha256 = Durable.sha256(channel, channel.size());
            }
            return install(temporary, Durable.hex(sha256));
        } catch (IOException | RuntimeException | Error e) {
            deleteQuietly(temporary, e);
            throw e;
        }
    }

    /**
     * The stored model with this SHA-256, if any.
     *
     * @throws IllegalArgumentException {@code sha256hex} is not 64 hex digits (either case accepted)
     */
    public Optional<Path> find(String sha256hex) {
        Path path = root.resolve(Durable.normalizeSha256Hex("sha256hex", sha256hex) + SUFFIX);
        return Files.isRegularFile(path) ? Optional.of(path) : Optional.empty();
    }

    /**
     * Deletes temporaries left by a crash (hidden files in the store directory). Call it once at
     * start-up, before any put: it would also remove the temporaries of puts in progress.
     *
     * @return how many were removed
     */
    public int removeStaleTemporaries() throws IOException {
        int removed = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root, ".*")) {
            for (Path entry : entries) {
                if (Files.isRegularFile(entry) && Files.deleteIfExists(entry)) {
                    removed++;
                }
            }
        }
        if (removed > 0) {
            Durable.syncDirectory(root);
        }
        return removed;
    }

    private Path newTemporary() {
        return root.resolve(TEMPORARY_PREFIX + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36)
                + SUFFIX);
    }

    /** Renames the fsynced {@code temporary} to its content address, or drops it when present. */
    private String install(Path temporary, String hex) throws IOException {
        Path target = root.resolve(hex + SUFFIX);
        if (Files.isRegularFile(target)) {
            Files.delete(temporary);
        } else {
            // Two concurrent puts of the same bytes may both rename: each replaces identical bytes.
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
        }
        Durable.syncDirectory(root);
        return hex;
    }

    private static void deleteQuietly(Path temporary, Throwable failure) {
        try {
            Files.deleteIfExists(temporary);
        } catch (IOException e) {
            failure.addSuppressed(e);
        }
    }
}
