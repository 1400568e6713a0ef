package org.murmur.proto.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes safetensors files atomically: a reader of {@code out} sees either the old file or the
 * complete new one, never a partial file, and a failed write leaves neither {@code out} nor a
 * temporary file behind.
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {
    }

    /**
     * Writes a temporary file in {@code out}'s directory (named {@code "." + out's name + ".tmp"}
     * plus a random suffix): the header JSON, holding {@code __metadata__} first if it is non-empty
     * and the tensors in the given order at contiguous data_offsets from 0, padded with spaces to a
     * multiple of 8 bytes; then each tensor's bytes from {@code data}. It then forces the file to
     * disk, renames it over {@code out} with an atomic move, and syncs the directory (best effort).
     *
     * @throws IllegalArgumentException on a duplicate tensor name or one equal to {@code __metadata__}
     * @throws IOException              if writing fails, including when {@code data} writes a wrong
     *                                  byte count for a tensor (the message names it)
     */
    public static void write(Path out, Map<String, String> metadata, List<TensorHeader> tensors,
                             TensorBytesWriter data) throws IOException {
        Objects.requireNonNull(metadata, "metadata");
        Objects.requireNonNull(data, "data");
        List<TensorHeader> order = List.copyOf(tensors);
        byte[] prefix = HeaderEncoder.encode(metadata, order);
        Path target = out.toAbsolutePath();
        Path directory = target.getParent();
        Path temporary = directory.resolve("." + target.getFileName() + ".tmp"
                + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36));
        // CREATE_NEW rather than Files.createTempFile: the result should get the usual
        // permissions of a new file, not createTempFile's owner-only ones.
        FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            try (channel) {
                writeFully(channel, ByteBuffer.wrap(prefix));
                for (TensorHeader tensor : order) {
                    TensorSink sink = new TensorSink(channel, target, tensor);
                    data.write(tensor, sink);
                    sink.finish();
                }
                channel.force(true);
            }
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (Throwable failure) {
            try {
                Files.deleteIfExists(temporary);
            } catch (IOException deleteFailure) {
                failure.addSuppressed(deleteFailure);
            }
            throw failure;
        }
        syncDirectory(directory);
    }

    private static void writeFully(FileChannel channel, ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }

    /** Makes the rename itself durable where the platform allows opening a directory. */
    private static void syncDirectory(Path directory) {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException unsupported) {
            // Best effort by contract: the file is complete and in place; only durability of the
            // rename across a power loss is left to the OS.
        }
    }
}
