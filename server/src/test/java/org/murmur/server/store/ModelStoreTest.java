package org.murmur.server.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.proto.safetensors.SafetensorsFile;
import org.murmur.proto.safetensors.SafetensorsWriter;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.safetensors.TensorHeader;

class ModelStoreTest {
    private static final int SEED = 3;

    @TempDir
    Path data;
    @TempDir
    Path elsewhere;
    private ModelStore store;

    @BeforeEach
    void open() throws IOException {
        store = new ModelStore(data);
    }

    private List<String> storeEntries() throws IOException {
        try (Stream<Path> files = Files.list(store.root())) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void putStoresByContentAddressAndIsIdempotent() throws IOException {
        long size = 600_001; // several read buffers
        Path source = elsewhere.resolve("model.safetensors");
        try (FileChannel out = FileChannel.open(source, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long offset = 0; offset < size; offset += StoreFixtures.CHUNK) {
                Durable.writeFully(out, StoreFixtures.chunk(offset, (int) Math.min(StoreFixtures.CHUNK, size - offset), SEED));
            }
        }
        String hex = store.put(source);
        assertEquals(Durable.hex(StoreFixtures.sha256(size, SEED)), hex);
        Path stored = store.root().resolve(hex + ".safetensors");
        assertEquals(Optional.of(stored), store.find(hex));
        assertEquals(Optional.of(stored), store.find(hex.toUpperCase(java.util.Locale.ROOT)));
        StoreFixtures.assertContent(stored, size, SEED);
        assertTrue(Files.exists(source), "put copies; the source is left alone");

        assertEquals(hex, store.put(source));
        assertEquals(List.of(hex + ".safetensors"), storeEntries(), "no duplicate, no temporary left");
        assertEquals(Optional.of(stored), new ModelStore(data).find(hex), "visible to a reopened store");
    }

    @Test
    void putFromWriterTakesASafetensorsWriterStraightIntoTheStore() throws IOException {
        List<TensorHeader> tensors = List.of(new TensorHeader("w", TensorDtype.F32, new long[] {2, 3}));
        ModelStore.TempFileWriter writer = temporary -> {
            assertEquals(store.root(), temporary.getParent());
            SafetensorsWriter.write(temporary, Map.of("round", "4"), tensors, (tensor, sink) -> {
                java.nio.ByteBuffer values = java.nio.ByteBuffer.allocate(24).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < 6; i++) {
                    values.putFloat(i * 0.5f);
                }
                sink.write(values.flip());
            });
        };
        String hex = store.putFromWriter(writer);
        Path stored = store.find(hex).orElseThrow();
        assertArrayEquals(Durable.sha256().digest(Files.readAllBytes(stored)), java.util.HexFormat.of().parseHex(hex));
        try (SafetensorsFile file = SafetensorsFile.open(stored)) {
            assertEquals("w", file.tensors().get(0).name());
            assertEquals("4", file.metadata().get("round"));
        }
        assertEquals(hex, store.putFromWriter(writer), "idempotent");
        assertEquals(List.of(hex + ".safetensors"), storeEntries());
    }

    @Test
    void aFailingWriterLeavesNothingBehind() throws IOException {
        IOException e = assertThrows(IOException.class, () -> store.putFromWriter(temporary -> {
            Files.write(temporary, new byte[100]);
            throw new IOException("disk on fire");
        }));
        assertEquals("disk on fire", e.getMessage());
        assertThrows(IOException.class, () -> store.putFromWriter(temporary -> { }));
        assertThrows(IOException.class, () -> store.put(elsewhere.resolve("missing")));
        assertEquals(List.of(), storeEntries());
    }

    @Test
    void staleTemporariesAreRemovedAndNeverFound() throws IOException {
        Files.write(store.root().resolve(".tmp-abc.safetensors"), new byte[10]);
        String hex = store.put(Files.write(elsewhere.resolve("m"), new byte[] {1, 2, 3}));
        assertEquals(1, store.removeStaleTemporaries());
        assertEquals(List.of(hex + ".safetensors"), storeEntries());
    }

    @Test
    void badHexIsRejected() {
        for (String bad : new String[] {"", "abc", "g".repeat(64), "0".repeat(63), "0".repeat(65),
                "../" + "0".repeat(61), "\u0661".repeat(64)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> store.find(bad));
            assertTrue(e.getMessage().startsWith("sha256hex"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> store.find(null));
        assertEquals(Optional.empty(), store.find("0".repeat(64)));
    }
}
