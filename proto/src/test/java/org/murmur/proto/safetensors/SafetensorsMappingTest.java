package org.murmur.proto.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many small tensors share a few mappings, so a server can hold many adapter files open. */
class SafetensorsMappingTest {
    private static final int TENSORS = 5000;

    @Test
    void manySmallTensorsShareOneMapping(@TempDir Path dir) throws IOException {
        Path maps = Path.of("/proc/self/maps");
        assumeTrue(Files.isReadable(maps), "needs Linux /proc/self/maps to count mappings");
        StringBuilder header = new StringBuilder("{");
        byte[] data = new byte[TENSORS * 4];
        for (int t = 0; t < TENSORS; t++) {
            header.append(t == 0 ? "" : ",").append(RawSafetensors.tensor("t" + t, "F32", "[1]", t * 4L, t * 4L + 4));
            ByteBuffer.wrap(data, t * 4, 4).order(ByteOrder.LITTLE_ENDIAN).putFloat(t);
        }
        Path file = RawSafetensors.write(dir.resolve("adapter-with-many-tensors.safetensors"), header.append('}').toString(), data);

        List<ByteBuffer[]> mapped = new ArrayList<>();
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            for (TensorEntry tensor : st.tensors()) {
                mapped.add(st.map(tensor, 1 << 20));
            }
            long mappings = Files.readAllLines(maps).stream().filter(line -> line.endsWith(file.getFileName().toString())).count();
            assertTrue(mappings <= 2, "expected the tensors to share one mapping, found " + mappings);
            for (TensorEntry tensor : st.tensors()) {
                int t = Integer.parseInt(tensor.name().substring(1));
                assertEquals(t, st.map(tensor, 1 << 20)[0].getFloat(0), tensor.name());
            }
        }
        assertEquals(TENSORS, mapped.size());
    }
}
