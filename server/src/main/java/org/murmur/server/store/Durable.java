package org.murmur.server.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/** The few crash-safety and hashing primitives the stores and the task directories use. */
public final class Durable {
    /** Read buffer for streamed hashing: memory stays bounded whatever the file size. */
    static final int BUFFER_BYTES = 256 * 1024;
    private static final HexFormat HEX = HexFormat.of();

    private Durable() {
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always provides SHA-256", e);
        }
    }

    static String hex(byte[] bytes) {
        return HEX.formatHex(bytes);
    }

    /** Lower-cases and checks a 64-digit hex SHA-256; {@code field} names it in the error. */
    static String normalizeSha256Hex(String field, String hex) {
        if (hex == null || hex.length() != 64) {
            throw new IllegalArgumentException(field + " must be 64 hex digits, got "
                    + (hex == null ? "null" : hex.length() + " characters"));
        }
        for (int i = 0; i < 64; i++) {
            char c = hex.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
                throw new IllegalArgumentException(field + " must be 64 hex digits, found a non-hex character at index " + i);
            }
        }
        return hex.toLowerCase(Locale.ROOT);
    }

    /** SHA-256 of the first {@code length} bytes of {@code channel}, read in bounded memory. */
    static byte[] sha256(FileChannel channel, long length) throws IOException {
        MessageDigest digest = sha256();
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(BUFFER_BYTES, Math.max(length, 1)));
        long position = 0;
        while (position < length) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), length - position));
            int n = channel.read(buffer, position);
            if (n < 0) {
                throw new IOException("file ended at " + position + " bytes while hashing " + length + " bytes");
            }
            digest.update(buffer.array(), 0, n);
            position += n;
        }
        return digest.digest();
    }

    static void writeFully(FileChannel channel, ByteBuffer data) throws IOException {
        while (data.hasRemaining()) {
            channel.write(data);
        }
    }

    /** Makes renames, creations and deletions in {@code directory} durable (fsync of the directory). */
    public static void syncDirectory(Path directory) throws IOException {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    /**
     * Creates {@code dir} and its missing ancestors below {@code root} (which must exist), fsyncing
     * each parent that gained an entry, so the new path survives a power loss.
     */
    public static void createDirectories(Path root, Path dir) throws IOException {
        Path relative = root.relativize(dir);
        Path current = root;
        for (Path part : relative) {
            Path next = current.resolve(part);
            if (!Files.isDirectory(next)) {
                try {
                    Files.createDirectory(next);
                } catch (FileAlreadyExistsException raced) {
                    if (!Files.isDirectory(next)) {
                        throw raced;
                    }
                }
                syncDirectory(current);
            }
            current = next;
        }
    }

    /**
     * Replaces {@code target} with {@code content} atomically: a reader (or a restart) sees the old
     * file or the new one, never a torn one. The caller fsyncs the directory to make it durable.
     */
    static void writeAtomically(Path target, byte[] content) throws IOException {
        Path temporary = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(channel, ByteBuffer.wrap(content));
            channel.force(true);
        }
        Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
    }
}
