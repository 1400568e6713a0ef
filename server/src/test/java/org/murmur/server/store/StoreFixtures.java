package org.murmur.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;

/** Deterministic update contents, so that a child JVM and the test agree on every byte. */
final class StoreFixtures {
    static final int CHUNK = 64 * 1024;

    private StoreFixtures() {
    }

    static byte byteAt(long index, int seed) {
        long x = (index + 1) * 0x9E3779B97F4A7C15L + seed * 0xBF58476D1CE4E5B9L;
        x ^= x >>> 29;
        return (byte) (x >>> 32);
    }

    /** A direct buffer (as Netty hands out) holding bytes [offset, offset + length). */
    static ByteBuffer chunk(long offset, int length, int seed) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(length);
        for (int i = 0; i < length; i++) {
            buffer.put(byteAt(offset + i, seed));
        }
        return buffer.flip();
    }

    static byte[] sha256(long total, int seed) {
        MessageDigest digest = Durable.sha256();
        for (long offset = 0; offset < total; offset += CHUNK) {
            digest.update(chunk(offset, (int) Math.min(CHUNK, total - offset), seed));
        }
        return digest.digest();
    }

    /** Writes [from, to) in chunks of {@link #CHUNK}. */
    static void writeRange(Upload upload, long from, long to, int seed) throws IOException {
        for (long offset = from; offset < to; offset += CHUNK) {
            ByteBuffer data = chunk(offset, (int) Math.min(CHUNK, to - offset), seed);
            upload.write(offset, data);
            assertEquals(0, data.remaining(), "write consumes the buffer");
        }
    }

    /** Asserts the first {@code length} bytes of {@code file} are the fixture's bytes. */
    static void assertPrefix(Path file, long length, int seed) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[CHUNK];
            long index = 0;
            while (index < length) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, length - index));
                if (n < 0) {
                    throw new AssertionError(file + " ends at " + index + " bytes, expected at least " + length);
                }
                for (int i = 0; i < n; i++, index++) {
                    if (buffer[i] != byteAt(index, seed)) {
                        throw new AssertionError(file + " differs at byte " + index);
                    }
                }
            }
        }
    }

    static void assertContent(Path file, long total, int seed) throws IOException {
        assertEquals(total, Files.size(file), "size of " + file);
        assertPrefix(file, total, seed);
    }
}
