package org.murmur.proto.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.murmur.proto.safetensors.RawSafetensors.bytes;
import static org.murmur.proto.safetensors.RawSafetensors.json;
import static org.murmur.proto.safetensors.RawSafetensors.readAll;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
    private static final TensorHeader F32_2X3 = new TensorHeader("layer.weight", TensorDtype.F32, new long[] {2, 3});
    private static final TensorHeader F16_4 = new TensorHeader("layer.bias", TensorDtype.F16, new long[] {4});
    private static final TensorHeader BF16_SCALAR = new TensorHeader("échelle", TensorDtype.BF16, new long[0]);

    @TempDir
    Path dir;

    /** Deterministic bytes per tensor, so a round trip can be checked byte for byte. */
    private static byte[] content(TensorHeader tensor) {
        byte[] data = bytes(Math.toIntExact(tensor.byteLength()));
        data[0] ^= (byte) tensor.name().hashCode();
        return data;
    }

    private static void writeContent(TensorHeader tensor, WritableByteChannel out) throws IOException {
        ByteBuffer data = ByteBuffer.wrap(content(tensor));
        while (data.hasRemaining()) {
            out.write(data);
        }
    }

    private Path out() {
        return dir.resolve("out.safetensors");
    }

    private List<Path> filesInDir() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.toList();
        }
    }

    @Test
    void roundTripsEveryDtypeInTheGivenOrder() throws IOException {
        List<TensorHeader> tensors = List.of(F32_2X3, F16_4, BF16_SCALAR);
        SafetensorsWriter.write(out(), Map.of(), tensors, SafetensorsWriterTest::writeContent);

        try (SafetensorsFile st = SafetensorsFile.open(out())) {
            assertEquals(List.of(
                    new TensorEntry("layer.bias", TensorDtype.F16, new long[] {4}, 24, 32),
                    new TensorEntry("layer.weight", TensorDtype.F32, new long[] {2, 3}, 0, 24),
                    new TensorEntry("échelle", TensorDtype.BF16, new long[0], 32, 34)), st.tensors());
            for (TensorEntry entry : st.tensors()) {
                TensorHeader written = tensors.stream().filter(t -> t.name().equals(entry.name())).findFirst().orElseThrow();
                assertArrayEquals(content(written), readAll(st.map(entry, 8)), entry.name());
            }
            assertEquals(Map.of(), st.metadata());
        }
    }

    @Test
    void writesMetadataFirstThenTensorsAndPadsTheHeaderToEightBytes() throws IOException {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put("round", "12");
        SafetensorsWriter.write(out(), metadata, List.of(F16_4, F32_2X3), SafetensorsWriterTest::writeContent);

        byte[] file = Files.readAllBytes(out());
        long headerLength = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, headerLength % 8);
        String header = new String(file, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertEquals(json("{'__metadata__':{'format':'pt','round':'12'},"
                + "'layer.bias':{'dtype':'F16','shape':[4],'data_offsets':[0,8]},"
                + "'layer.weight':{'dtype':'F32','shape':[2,3],'data_offsets':[8,32]}}"), header.stripTrailing());
        assertTrue(header.substring(header.stripTrailing().length()).chars().allMatch(c -> c == ' '));

        try (SafetensorsFile st = SafetensorsFile.open(out())) {
            assertEquals(metadata, st.metadata());
            assertEquals(8 + headerLength, st.dataStart());
        }
    }

    @Test
    void writesThroughAHiddenTemporaryFileBesideTheTarget() throws IOException {
        SafetensorsWriter.write(out(), Map.of(), List.of(F16_4), (tensor, channel) -> {
            List<Path> during = filesInDir();
            assertEquals(1, during.size());
            assertTrue(during.get(0).getFileName().toString().startsWith(".out.safetensors.tmp"), during.toString());
            writeContent(tensor, channel);
        });

        assertEquals(List.of(out()), filesInDir());
    }

    @Test
    void writesAFileWithoutTensors() throws IOException {
        SafetensorsWriter.write(out(), Map.of(), List.of(), (t, o) -> {
            throw new AssertionError("no tensor to write");
        });

        assertArrayEquals(RawSafetensors.concat(RawSafetensors.lengthField(8), "{}      ".getBytes(StandardCharsets.US_ASCII)),
                Files.readAllBytes(out()));
    }

    @Test
    void replacesAnExistingFile() throws IOException {
        Files.writeString(out(), "old");
        SafetensorsWriter.write(out(), Map.of(), List.of(F16_4), SafetensorsWriterTest::writeContent);

        try (SafetensorsFile st = SafetensorsFile.open(out())) {
            assertEquals(1, st.tensors().size());
        }
        assertEquals(List.of(out()), filesInDir());
    }

    @Test
    void leavesNothingBehindWhenTheCallbackThrows() throws IOException {
        IOException thrown = assertThrows(IOException.class, () ->
                SafetensorsWriter.write(out(), Map.of(), List.of(F32_2X3, F16_4), (tensor, channel) -> {
                    if (tensor.equals(F16_4)) {
                        throw new IOException("disk on fire");
                    }
                    writeContent(tensor, channel);
                }));

        assertEquals("disk on fire", thrown.getMessage());
        assertFalse(Files.exists(out()));
        assertEquals(List.of(), filesInDir());
    }

    @Test
    void leavesTheOldFileUntouchedWhenTheCallbackFailsUnchecked() throws IOException {
        Files.writeString(out(), "old");
        assertThrows(IllegalStateException.class, () ->
                SafetensorsWriter.write(out(), Map.of(), List.of(F16_4), (tensor, channel) -> {
                    throw new IllegalStateException("bug");
                }));

        assertEquals("old", Files.readString(out()));
        assertEquals(List.of(out()), filesInDir());
    }

    @Test
    void failsNamingTheTensorWhenTheCallbackWritesTooFewBytes() throws IOException {
        IOException e = assertThrows(IOException.class, () ->
                SafetensorsWriter.write(out(), Map.of(), List.of(F32_2X3, F16_4),
                        (tensor, channel) -> channel.write(ByteBuffer.allocate(tensor.equals(F16_4) ? 6 : 24))));

        assertTrue(e.getMessage().contains("tensor 'layer.bias'"), e.getMessage());
        assertTrue(e.getMessage().contains("wrote 6 bytes"), e.getMessage());
        assertFalse(Files.exists(out()));
        assertEquals(List.of(), filesInDir());
    }

    @Test
    void failsNamingTheTensorWhenTheCallbackWritesTooManyBytes() throws IOException {
        IOException e = assertThrows(IOException.class, () ->
                SafetensorsWriter.write(out(), Map.of(), List.of(F16_4),
                        (tensor, channel) -> channel.write(ByteBuffer.allocate(9))));

        assertTrue(e.getMessage().startsWith(out().toAbsolutePath() + ": tensor 'layer.bias'"), e.getMessage());
        assertEquals(List.of(), filesInDir());
    }

    @Test
    void closingTheCallbackChannelDoesNotCloseTheFile() throws IOException {
        SafetensorsWriter.write(out(), Map.of(), List.of(F32_2X3, F16_4), (tensor, channel) -> {
            writeContent(tensor, channel);
            channel.close();
        });

        try (SafetensorsFile st = SafetensorsFile.open(out())) {
            assertEquals(2, st.tensors().size());
        }
    }

    @Test
    void rejectsDuplicateNamesAndTheMetadataKeyAsATensorName() {
        TensorHeader twin = new TensorHeader(F16_4.name(), TensorDtype.F32, new long[] {1});
        TensorHeader metadata = new TensorHeader("__metadata__", TensorDtype.F32, new long[] {1});

        IllegalArgumentException duplicate = assertThrows(IllegalArgumentException.class, () ->
                SafetensorsWriter.write(out(), Map.of(), List.of(F16_4, twin), SafetensorsWriterTest::writeContent));
        assertTrue(duplicate.getMessage().contains("duplicate tensor name 'layer.bias'"));
        assertThrows(IllegalArgumentException.class, () ->
                SafetensorsWriter.write(out(), Map.of(), List.of(metadata), SafetensorsWriterTest::writeContent));
        assertFalse(Files.exists(out()));
    }

    @Test
    void rejectsNullMetadataValues() {
        Map<String, String> metadata = new HashMap<>();
        metadata.put("k", null);
        assertThrows(NullPointerException.class, () ->
                SafetensorsWriter.write(out(), metadata, List.of(F16_4), SafetensorsWriterTest::writeContent));
        assertFalse(Files.exists(out()));
    }
}
