package org.murmur.proto.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing of {@link SafetensorsFile#open}: whatever the bytes, opening either
 * succeeds with a header that keeps every promise of {@link SafetensorsFile}, or fails with a
 * {@link SafetensorsException} naming the file. Any other exception, a hang or an allocation out
 * of proportion to the (small) file is a finding. The build runs each method over its seeds in
 * {@code SafetensorsFuzzTestInputs/<method>/}; {@code bench/run-fuzz.sh} fuzzes them.
 */
class SafetensorsFuzzTest {
    private static Path dir;
    private static Path file;

    @BeforeAll
    static void createFile() throws IOException {
        dir = Files.createTempDirectory("safetensors-fuzz");
        file = dir.resolve("fuzz.safetensors");
    }

    @AfterAll
    static void deleteFile() throws IOException {
        Files.deleteIfExists(file);
        Files.deleteIfExists(dir);
    }

    /** The whole file from the fuzzer: length field, header and data. */
    @FuzzTest
    @DictionaryEntries({"\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "\"F32\"", "\"F16\"",
        "\"BF16\"", "[0,", "]}", "{\"", "\":{", "\":\""})
    void anyFile(byte[] bytes) throws IOException {
        Files.write(file, bytes);
        openAndCheck();
    }

    /**
     * The header text and the data buffer, split at the first 0xFF byte (which UTF-8 never holds),
     * with a length field that matches the text: the fuzzer spends its effort on the JSON and the
     * data rather than on finding a consistent length.
     */
    @FuzzTest
    @DictionaryEntries({"\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "\"F32\"", "\"F16\"",
        "\"BF16\"", "[0,", "]}", "{\"", "\":{", "\":\""})
    void framedHeader(byte[] input) throws IOException {
        int split = 0;
        while (split < input.length && input[split] != (byte) 0xFF) {
            split++;
        }
        int dataStart = Math.min(split + 1, input.length);
        ByteBuffer out = ByteBuffer.allocate(8 + input.length - (dataStart - split)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(split).put(input, 0, split).put(input, dataStart, input.length - dataStart);
        Files.write(file, out.array());
        openAndCheck();
    }

    private static void openAndCheck() {
        SafetensorsFile opened;
        try {
            opened = SafetensorsFile.open(file);
        } catch (SafetensorsException e) {
            assertTrue(e.getMessage().startsWith(file + ": "), () -> "the message does not name the file: " + e);
            assertEquals(file, e.file());
            return;
        }
        try (SafetensorsFile f = opened) {
            checkOpened(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What an opened file promises: sorted entries that tile the data buffer, every tensor mappable. */
    private static void checkOpened(SafetensorsFile f) throws IOException {
        long size = Files.size(file);
        List<TensorEntry> tensors = f.tensors();
        long covered = 0;
        for (int i = 0; i < tensors.size(); i++) {
            TensorEntry t = tensors.get(i);
            if (i > 0) {
                assertTrue(tensors.get(i - 1).name().compareTo(t.name()) < 0, "sorted by name, no duplicates");
            }
            assertEquals(Shapes.byteLength(t.shape(), t.dtype()), t.byteLength());
            covered += t.byteLength();
            long chunk = t.dtype().byteSize() * 3L;
            long mapped = 0;
            for (ByteBuffer b : f.map(t, chunk)) {
                mapped += b.remaining();
            }
            assertEquals(t.byteLength(), mapped, t.name());
        }
        assertEquals(size - f.dataStart(), covered, "the tensors tile the data buffer");
        f.metadata().forEach((k, v) -> assertTrue(k != null && v != null));
    }
}
