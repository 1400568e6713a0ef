package org.murmur.proto.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tensor past 2 GiB, in a sparse file so the test stays fast and small on disk. */
class LargeFileTest {
    private static final long BYTES = (1L << 31) + 16;
    private static final long ELEMENTS = BYTES / 4;
    private static final int CHUNK = 1 << 30;

    @TempDir
    Path dir;

    @Test
    void mapsATensorLargerThanTwoGibInChunks() throws IOException {
        String header = RawSafetensors.tensor("big", "F32", "[" + ELEMENTS + "]", 0, BYTES);
        byte[] headerBytes = ("{" + header + "}").getBytes(StandardCharsets.UTF_8);
        long dataStart = 8 + headerBytes.length;
        Path file = dir.resolve("big.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(RawSafetensors.lengthField(headerBytes.length));
            raf.write(headerBytes);
            raf.setLength(dataStart + BYTES);
            writeFloats(raf, dataStart + CHUNK - 4, 1.25f, 2.5f); // straddles the first chunk boundary
            writeFloats(raf, dataStart + BYTES - 20, -7f, 1f, 2f, 3f, 4f); // the last 20 bytes
        }
        assertEquals(dataStart + BYTES, Files.size(file));

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            TensorEntry big = st.tensors().get(0);
            assertEquals(ELEMENTS, big.elementCount());
            ByteBuffer[] chunks = st.map(big, CHUNK);
            assertEquals(List.of(CHUNK, CHUNK, 16), Arrays.stream(chunks).map(ByteBuffer::capacity).toList());
            assertEquals(1.25f, chunks[0].getFloat(CHUNK - 4));
            assertEquals(2.5f, chunks[1].getFloat(0));
            assertEquals(-7f, chunks[1].getFloat(CHUNK - 4));
            assertEquals(0f, chunks[1].getFloat(CHUNK / 2), "unwritten sparse bytes read as zero");
            for (int i = 0; i < 4; i++) {
                assertEquals(i + 1f, chunks[2].getFloat(4 * i));
            }
        }
    }

    private static void writeFloats(RandomAccessFile raf, long position, float... values) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            buffer.putFloat(v);
        }
        raf.seek(position);
        raf.write(buffer.array());
    }
}
