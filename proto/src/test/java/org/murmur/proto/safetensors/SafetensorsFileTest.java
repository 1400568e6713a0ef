package org.murmur.proto.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.murmur.proto.safetensors.RawSafetensors.bytes;
import static org.murmur.proto.safetensors.RawSafetensors.concat;
import static org.murmur.proto.safetensors.RawSafetensors.f32;
import static org.murmur.proto.safetensors.RawSafetensors.json;
import static org.murmur.proto.safetensors.RawSafetensors.readAll;
import static org.murmur.proto.safetensors.RawSafetensors.tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @TempDir
    Path dir;

    @Test
    void readsTensorsByOffsetWhateverTheKeyAndDataOrder() throws IOException {
        // 'b' comes first in the data although 'a' sorts first; keys inside entries are shuffled.
        String header = json("{'a':{'shape':[2],'data_offsets':[8,16],'dtype':'F32'},"
                + "'b':{'data_offsets':[0,8],'dtype':'F16','shape':[2,2]}}");
        Path file = RawSafetensors.write(dir.resolve("shuffled.safetensors"), header,
                concat(bytes(8), f32(1.5f, -2f)));

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(List.of(
                    new TensorEntry("a", TensorDtype.F32, new long[] {2}, 8, 16),
                    new TensorEntry("b", TensorDtype.F16, new long[] {2, 2}, 0, 8)), st.tensors());
            ByteBuffer a = st.map(st.tensors().get(0), 1024)[0];
            assertEquals(1.5f, a.getFloat(0));
            assertEquals(-2f, a.getFloat(4));
            assertArrayEquals(bytes(8), readAll(st.map(st.tensors().get(1), 1024)));
        }
    }

    @Test
    void acceptsHeaderPaddedWithSpaces() throws IOException {
        String header = "{" + tensor("w", "F32", "[1]", 0, 4) + "}" + " ".repeat(11);
        Path file = RawSafetensors.write(dir.resolve("padded.safetensors"), header, f32(42f));

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(8 + header.length(), st.dataStart());
            assertEquals(42f, st.map(st.tensors().get(0), 4)[0].getFloat(0));
        }
    }

    @Test
    void readsMetadataWhereverItIs() throws IOException {
        String header = "{" + tensor("w", "F32", "[1]", 0, 4)
                + json(",'__metadata__':{'format':'pt','round':'7'}}");
        Path file = RawSafetensors.write(dir.resolve("meta.safetensors"), header, f32(1f));

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt", "round", "7"), st.metadata());
            assertEquals(1, st.tensors().size());
            assertThrows(UnsupportedOperationException.class, () -> st.metadata().put("x", "y"));
        }
    }

    @Test
    void metadataIsEmptyWhenAbsentAndTheListsAreUnmodifiable() throws IOException {
        Path file = RawSafetensors.write(dir.resolve("plain.safetensors"),
                "{" + tensor("w", "F32", "[1]", 0, 4) + "}", f32(1f));

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(Map.of(), st.metadata());
            assertThrows(UnsupportedOperationException.class, () -> st.tensors().clear());
        }
    }

    @Test
    void acceptsZeroDimensionalTensorWithOneElement() throws IOException {
        Path file = RawSafetensors.write(dir.resolve("scalar.safetensors"),
                "{" + tensor("s", "F32", "[]", 0, 4) + "}", f32(3.25f));

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            TensorEntry scalar = st.tensors().get(0);
            assertEquals(0, scalar.shape().length);
            assertEquals(1, scalar.elementCount());
            assertEquals(3.25f, st.map(scalar, 4)[0].getFloat(0));
        }
    }

    @Test
    void acceptsNonAsciiNames() throws IOException {
        String name = "couche_é/权重_🙂";
        String header = "{" + tensor(name, "BF16", "[2]", 0, 4) + "}";
        Path file = RawSafetensors.write(dir.resolve("unicode.safetensors"), header, bytes(4));

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            TensorEntry entry = st.tensors().get(0);
            assertEquals(name, entry.name());
            assertEquals(8 + header.getBytes(StandardCharsets.UTF_8).length, st.dataStart(),
                    "the header length counts UTF-8 bytes, not characters");
            assertArrayEquals(bytes(4), readAll(st.map(entry, 4)));
        }
    }

    @Test
    void sortsTensorsByName() throws IOException {
        String header = "{" + tensor("b", "F16", "[1]", 0, 2) + "," + tensor("B", "F16", "[1]", 2, 4) + ","
                + tensor("a.weight", "F16", "[1]", 4, 6) + "," + tensor("a", "F16", "[1]", 6, 8) + "}";
        Path file = RawSafetensors.write(dir.resolve("sorted.safetensors"), header, bytes(8));

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(List.of("B", "a", "a.weight", "b"), st.tensors().stream().map(TensorEntry::name).toList());
        }
    }

    @Test
    void acceptsZeroLengthTensorsAtConsistentOffsetsAndMapsThemEmpty() throws IOException {
        String header = "{" + tensor("empty_first", "F32", "[0]", 0, 0) + ","
                + tensor("w", "F32", "[1]", 0, 4) + "," + tensor("empty_between", "F16", "[3,0]", 4, 4) + ","
                + tensor("v", "F16", "[1]", 4, 6) + "," + tensor("empty_last", "BF16", "[0]", 6, 6) + "}";
        Path file = RawSafetensors.write(dir.resolve("empty.safetensors"), header, bytes(6));

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            TensorEntry empty = st.tensors().get(0);
            assertEquals("empty_between", empty.name());
            ByteBuffer[] chunks = st.map(empty, 2);
            assertEquals(1, chunks.length);
            assertEquals(0, chunks[0].remaining());
        }
    }

    @Test
    void acceptsAFileWithNoTensors() throws IOException {
        Path file = RawSafetensors.write(dir.resolve("none.safetensors"), "{}      ", new byte[0]);

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(List.of(), st.tensors());
            assertEquals(16, st.dataStart());
        }
    }

    @Test
    void mapsInChunksOfExactlyTheRequestedSizeExceptTheLast() throws IOException {
        float[] values = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
        Path file = RawSafetensors.write(dir.resolve("chunks.safetensors"),
                "{" + tensor("w", "F32", "[10]", 0, 40) + "}", f32(values));

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            ByteBuffer[] chunks = st.map(st.tensors().get(0), 16);
            assertEquals(List.of(16, 16, 8), Arrays.stream(chunks).map(ByteBuffer::capacity).toList());
            for (ByteBuffer chunk : chunks) {
                assertTrue(chunk.isReadOnly());
                assertEquals(ByteOrder.LITTLE_ENDIAN, chunk.order());
            }
            assertEquals(4f, chunks[1].getFloat(0));
            assertEquals(9f, chunks[2].getFloat(4));
            assertEquals(1, st.map(st.tensors().get(0), 40).length);
        }
    }

    @Test
    void mappedBuffersOutliveClose() throws IOException {
        Path file = RawSafetensors.write(dir.resolve("close.safetensors"),
                "{" + tensor("w", "F32", "[1]", 0, 4) + "}", f32(5f));
        ByteBuffer mapped;
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            mapped = st.map(st.tensors().get(0), 4)[0];
        }
        assertEquals(5f, mapped.getFloat(0));
    }

    @Test
    void rejectsChunkSizesThatSplitElementsOrExceedAnInt() throws IOException {
        Path file = RawSafetensors.write(dir.resolve("bad-chunk.safetensors"),
                "{" + tensor("w", "F32", "[2]", 0, 8) + "}", f32(1f, 2f));

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            TensorEntry w = st.tensors().get(0);
            for (long bad : new long[] {0, -4, 6, 2, Integer.MAX_VALUE + 1L}) {
                assertThrows(IllegalArgumentException.class, () -> st.map(w, bad), "maxChunkBytes " + bad);
            }
        }
    }

    @Test
    void refusesToMapAnEntryOfAnotherFile() throws IOException {
        Path file = RawSafetensors.write(dir.resolve("foreign.safetensors"),
                "{" + tensor("w", "F32", "[2]", 0, 8) + "}", f32(1f, 2f));

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            TensorEntry foreign = new TensorEntry("w", TensorDtype.F32, new long[] {1}, 4, 8);
            assertThrows(IllegalArgumentException.class, () -> st.map(foreign, 4));
        }
    }

    @Test
    void mentionsTheFileWhenItCannotBeOpened() {
        Path missing = dir.resolve("missing.safetensors");
        RawSafetensors.assertRejected(missing, "cannot open");
    }
}
