package org.murmur.proto.safetensors;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds safetensors files byte by byte, so tests can produce every malformed variant. */
final class RawSafetensors {
    private RawSafetensors() {
    }

    /** JSON written with single quotes for readability: {@code json("{'a':1}")} is {"a":1}. */
    static String json(String singleQuoted) {
        return singleQuoted.replace('\'', '"');
    }

    /** One tensor entry, as it appears inside the header object. */
    static String tensor(String name, String dtype, String shape, long begin, long end) {
        return json("'" + name + "':{'dtype':'" + dtype + "','shape':" + shape
                + ",'data_offsets':[" + begin + "," + end + "]}");
    }

    /** A file whose length field matches the header exactly (no padding). */
    static Path write(Path file, String header, byte[] data) throws IOException {
        byte[] headerBytes = header.getBytes(StandardCharsets.UTF_8);
        return write(file, headerBytes.length, headerBytes, data);
    }

    /** A file with any length field, header bytes and data. */
    static Path write(Path file, long declaredHeaderLength, byte[] headerBytes, byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(lengthField(declaredHeaderLength));
        out.writeBytes(headerBytes);
        out.writeBytes(data);
        return Files.write(file, out.toByteArray());
    }

    static byte[] lengthField(long headerLength) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength).array();
    }

    /** Little-endian float32 bytes. */
    static byte[] f32(float... values) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buffer.putFloat(v);
        }
        return buffer.array();
    }

    static byte[] bytes(int count) {
        byte[] data = new byte[count];
        for (int i = 0; i < count; i++) {
            data[i] = (byte) (i * 7 + 1);
        }
        return data;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    /** Asserts that opening fails with a message that starts with the path and holds every fragment. */
    static SafetensorsException assertRejected(Path file, String... fragments) {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(file).close());
        String message = e.getMessage();
        assertTrue(message.startsWith(file.toString() + ": "), message);
        for (String fragment : fragments) {
            assertTrue(message.contains(fragment), () -> "expected '" + fragment + "' in: " + message);
        }
        return e;
    }

    static byte[] readAll(ByteBuffer[] chunks) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ByteBuffer chunk : chunks) {
            byte[] bytes = new byte[chunk.remaining()];
            chunk.duplicate().get(bytes);
            out.writeBytes(bytes);
        }
        return out.toByteArray();
    }
}
