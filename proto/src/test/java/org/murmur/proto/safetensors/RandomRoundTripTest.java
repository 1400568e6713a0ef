package org.murmur.proto.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.io.TempDir;

/** Writer then reader on random tensor sets: names, dtypes, shapes, metadata and bytes survive. */
class RandomRoundTripTest {
    private static final String NAME_CHARS = "abcxyz._/0123456789éλ权🙂\"\\";
    private static final TensorDtype[] DTYPES = TensorDtype.values();

    @TempDir
    Path dir;

    @RepeatedTest(40)
    void roundTrips(RepetitionInfo repetition) throws IOException {
        Random random = new Random(repetition.getCurrentRepetition());
        Map<String, TensorHeader> byName = new HashMap<>();
        List<TensorHeader> tensors = new ArrayList<>();
        for (int i = random.nextInt(6); i > 0; i--) {
            TensorHeader tensor = new TensorHeader(name(random), DTYPES[random.nextInt(DTYPES.length)], shape(random));
            if (byName.putIfAbsent(tensor.name(), tensor) == null) {
                tensors.add(tensor);
            }
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (int i = random.nextInt(3); i > 0; i--) {
            metadata.put(name(random), name(random));
        }
        Map<String, byte[]> data = new HashMap<>();
        for (TensorHeader tensor : tensors) {
            byte[] bytes = new byte[Math.toIntExact(tensor.byteLength())];
            random.nextBytes(bytes);
            data.put(tensor.name(), bytes);
        }

        Path out = dir.resolve("random.safetensors");
        SafetensorsWriter.write(out, metadata, tensors, (tensor, channel) -> channel.write(ByteBuffer.wrap(data.get(tensor.name()))));

        try (SafetensorsFile st = SafetensorsFile.open(out)) {
            assertEquals(metadata, st.metadata());
            assertEquals(tensors.stream().map(TensorHeader::name).sorted().toList(),
                    st.tensors().stream().map(TensorEntry::name).toList());
            for (TensorEntry entry : st.tensors()) {
                TensorHeader written = byName.get(entry.name());
                assertEquals(written.dtype(), entry.dtype());
                assertArrayEquals(written.shape(), entry.shape());
                int chunk = entry.dtype().byteSize() * (1 + random.nextInt(5));
                assertArrayEquals(data.get(entry.name()), RawSafetensors.readAll(st.map(entry, chunk)));
            }
        }
    }

    private static String name(Random random) {
        StringBuilder name = new StringBuilder();
        for (int i = 1 + random.nextInt(8); i > 0; i--) {
            name.appendCodePoint(NAME_CHARS.codePointAt(NAME_CHARS.offsetByCodePoints(0,
                    random.nextInt(NAME_CHARS.codePointCount(0, NAME_CHARS.length())))));
        }
        return name.toString();
    }

    private static long[] shape(Random random) {
        long[] shape = new long[random.nextInt(4)];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = random.nextInt(5);
        }
        return shape;
    }
}
