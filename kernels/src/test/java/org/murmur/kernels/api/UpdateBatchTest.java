package org.murmur.kernels.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.murmur.kernels.testing.Batches;
import org.murmur.kernels.testing.Batches.Built;
import org.murmur.kernels.testing.Batches.Dtypes;
import org.murmur.kernels.testing.Batches.Layout;
import org.murmur.kernels.testing.Batches.TensorSpec;
import org.murmur.kernels.testing.RandomUpdates;
import org.murmur.kernels.testing.SeedReporter;
import org.murmur.kernels.testing.SeededRandom;

/** The checks {@link UpdateBatch}, {@link Update} and {@link TensorData} make themselves. */
@ExtendWith(SeedReporter.class)
class UpdateBatchTest {

    private static Built sample(String name, int n, int d, Dtypes types, int chunk) {
        SeededRandom random = SeededRandom.forCase(name);
        Layout layout = Layout.multi(d, random);
        return Batches.builder(RandomUpdates.draw(random, n, d, 1), layout).dtypes(types).chunkElements(chunk).build();
    }

    @Test
    void readsEveryRangeAcrossTensorAndChunkBoundaries() {
        int d = 50;
        Built built = sample("read ranges", 3, d, Dtypes.mixed(), 3);
        UpdateBatch batch = built.batch();
        float[] dst = new float[d + 4];
        for (int i = 0; i < 3; i++) {
            for (int from = 0; from <= d; from++) {
                for (int count = 0; from + count <= d; count++) {
                    batch.read(i, from, count, dst, 2);
                    for (int k = 0; k < count; k++) {
                        assertEquals((float) built.values()[i][from + k], dst[2 + k],
                                "update " + i + " coordinate " + (from + k) + " read from " + from + " count " + count);
                    }
                }
            }
        }
    }

    @Test
    void layoutIsSortedByNameWithItsStarts() {
        Layout layout = Layout.of(new TensorSpec("zeta", new long[] {2, 3}), new TensorSpec("alpha", new long[0]),
                new TensorSpec("mid", new long[] {0}), new TensorSpec("beta", new long[] {4}));
        double[][] x = new double[2][11];
        for (int j = 0; j < 11; j++) {
            x[0][j] = j;
            x[1][j] = -j;
        }
        UpdateBatch batch = Batches.builder(x, layout).build().batch();
        assertEquals(2, batch.size());
        assertEquals(11, batch.dimension());
        assertEquals(List.of("alpha", "beta", "mid", "zeta"), batch.layout().stream().map(TensorData::name).toList());
        assertArrayEquals(new long[] {0, 1, 5, 5, 11}, batch.tensorStarts());
        assertEquals(1, batch.layout().get(0).elementCount(), "a 0-d tensor holds one element");
        assertEquals(0, batch.layout().get(2).elementCount());
        float[] all = new float[11];
        batch.read(1, 0, 11, all, 0);
        for (int j = 0; j < 11; j++) {
            assertEquals(-j, all[j], 0f);
        }
        float[] one = new float[1];
        batch.read(0, 5, 1, one, 0); // the first coordinate after the empty tensor
        assertEquals(5f, one[0]);
        assertEquals("u1.safetensors", batch.update(1).label());
    }

    @Test
    void sameShapesAreRequired() {
        Built built = sample("shapes", 3, 40, Dtypes.all(ElementType.F32), 0);
        Update good = built.updates().get(0);
        long[] shape = built.layout().sorted().stream().filter(t -> t.name().equals("layer.0.weight")).findFirst()
                .orElseThrow().shape();
        Update flat = Batches.reshaped(built.updates().get(2), "layer.0.weight", new long[] {shape[0] * shape[1]});
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> new UpdateBatch(Batches.replace(built.updates(), 2, flat)));
        assertTrue(e.getMessage().contains("layer.0.weight") && e.getMessage().contains("u2.safetensors")
                && e.getMessage().contains(good.label()), e.getMessage());
        Update scalarAsVector = Batches.reshaped(built.updates().get(1), "temperature", new long[] {1, 1});
        assertThrows(InvalidInputException.class, () -> new UpdateBatch(Batches.replace(built.updates(), 1, scalarAsVector)));
    }

    @Test
    void sameNamesAreRequired() {
        Built built = sample("names", 3, 40, Dtypes.all(ElementType.F32), 0);
        List<Update> updates = built.updates();
        Update missing = Batches.without(updates.get(1), "bias");
        Update extra = Batches.withExtra(updates.get(1), "extra", 1f);
        Update renamed = Batches.renamed(updates.get(1), "bias", "Bias");
        for (Update bad : new Update[] {missing, extra, renamed}) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> new UpdateBatch(Batches.replace(updates, 1, bad)));
            assertTrue(e.getMessage().contains("u1.safetensors"), e.getMessage());
            // The first update is the reference: a bad first update fails against the second.
            assertThrows(InvalidInputException.class, () -> new UpdateBatch(Batches.replace(updates, 0, bad)));
        }
    }

    @Test
    void duplicateNamesAndEmptyBatchesAreRefused() {
        ByteBuffer b = ByteBuffer.allocateDirect(4).order(ByteOrder.LITTLE_ENDIAN);
        TensorData t = TensorData.of("w", ElementType.F32, new long[] {1}, b);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> new Update("dup.safetensors", List.of(t, t)));
        assertTrue(e.getMessage().contains("dup.safetensors") && e.getMessage().contains("w"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> new UpdateBatch(List.of()));
    }

    @Test
    void nonFiniteValuesAreNamedByUpdateTensorAndElement() {
        for (ElementType type : ElementType.values()) {
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                SeededRandom random = SeededRandom.forCase("non-finite message " + type + " " + bad);
                Layout layout = Layout.multi(60, random);
                TensorSpec target = layout.sorted().stream().filter(s -> s.name().equals("layer.0.weight")).findFirst().orElseThrow();
                int element = (int) target.count() - 1;
                int coordinate = layout.start(target.name()) + element;
                Built built = Batches.builder(RandomUpdates.draw(random, 3, 60, 0), layout).dtype(type).chunkElements(4)
                        .labels(i -> "node-" + i + ".safetensors").inject(2, coordinate, bad).build();
                float[] dst = new float[60];
                built.batch().read(1, 0, 60, dst, 0);
                InvalidInputException e = assertThrows(InvalidInputException.class, () -> built.batch().read(2, 0, 60, dst, 0));
                String m = e.getMessage();
                assertTrue(m.contains("node-2.safetensors") && m.contains("'layer.0.weight'") && m.contains("element " + element),
                        () -> type + " " + bad + ": " + m + " " + random.where());
                // Reading only the part before the bad value succeeds.
                built.batch().read(2, 0, coordinate, dst, 0);
            }
        }
    }

    @Test
    void readOutsideTheBatchIsRefused() {
        Built built = sample("out of range", 2, 20, Dtypes.all(ElementType.F32), 0);
        float[] dst = new float[30];
        assertThrows(IndexOutOfBoundsException.class, () -> built.batch().read(0, -1, 2, dst, 0));
        assertThrows(RuntimeException.class, () -> built.batch().read(0, 15, 6, dst, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> built.batch().read(0, 21, 0, dst, 0));
    }

    @Test
    void tensorDataChecksItsChunks() {
        ByteBuffer eight = ByteBuffer.allocateDirect(8).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer four = ByteBuffer.allocateDirect(4).order(ByteOrder.LITTLE_ENDIAN);
        assertThrows(IllegalArgumentException.class,
                () -> new TensorData("t", ElementType.F32, new long[] {3}, new ByteBuffer[] {four, eight}, 2), "a short first chunk");
        assertThrows(IllegalArgumentException.class,
                () -> new TensorData("t", ElementType.F32, new long[] {4}, new ByteBuffer[] {eight}, 2), "too few elements");
        assertThrows(IllegalArgumentException.class,
                () -> new TensorData("t", ElementType.F16, new long[] {1}, new ByteBuffer[] {ByteBuffer.allocateDirect(3)}, 1),
                "not whole elements");
        assertThrows(IllegalArgumentException.class, () -> TensorData.elementCount(new long[] {2, -1}));
        TensorData ok = new TensorData("t", ElementType.F32, new long[] {3}, new ByteBuffer[] {eight, four}, 2);
        assertEquals(3, ok.elementCount());
        assertThrows(IndexOutOfBoundsException.class, () -> ok.read(2, 2, new float[2], 0));
        assertEquals(1, TensorData.elementCount(new long[0]));
    }
}
