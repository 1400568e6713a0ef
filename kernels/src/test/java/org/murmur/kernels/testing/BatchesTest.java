package org.murmur.kernels.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.TensorData;
import org.murmur.kernels.api.UpdateBatch;
import org.murmur.kernels.testing.Batches.Built;
import org.murmur.kernels.testing.Batches.Dtypes;
import org.murmur.kernels.testing.Batches.Layout;
import org.murmur.kernels.testing.Batches.TensorSpec;

/** The fixtures build what they claim to build. */
class BatchesTest {

    @Test
    void multiLayoutsHaveAScalarANonAsciiNameAndAreGivenOutOfOrder() {
        for (int d : new int[] {1, 2, 3, 4, 5, 31, 64, 1003}) {
            SeededRandom random = SeededRandom.forCase("layout " + d);
            Layout layout = Layout.multi(d, random);
            assertEquals(d, layout.dimension());
            assertTrue(layout.sorted().stream().anyMatch(t -> t.shape().length == 0), "a 0-d tensor for d = " + d);
            if (d >= 2) {
                assertTrue(layout.sorted().stream().anyMatch(t -> !t.name().chars().allMatch(c -> c < 128)), "a non-ASCII name");
                assertNotEquals(layout.sorted(), layout.given(), "given out of data order for d = " + d);
            }
        }
    }

    @Test
    void builtBatchesHoldTheRoundedValues() {
        for (Dtypes types : List.of(Dtypes.all(ElementType.F32), Dtypes.all(ElementType.F16), Dtypes.all(ElementType.BF16),
                Dtypes.mixed())) {
            SeededRandom random = SeededRandom.forCase("built values");
            int d = 97;
            Layout layout = Layout.multi(d, random);
            double[][] raw = RandomUpdates.draw(random, 4, d, 1);
            Built built = Batches.builder(raw, layout).dtypes(types).chunkElements(5).build();
            UpdateBatch batch = built.batch();
            float[] row = new float[d];
            for (int i = 0; i < 4; i++) {
                batch.read(i, 0, d, row, 0);
                for (int j = 0; j < d; j++) {
                    assertEquals(built.values()[i][j], row[j], 0.0);
                    assertEquals(built.values()[i][j], raw[i][j], Math.abs(raw[i][j]) * 1e-2 + 1e-3, "rounded, not changed");
                }
            }
            for (TensorData t : batch.layout()) {
                long stored = 0;
                for (ByteBuffer chunk : t.chunks()) {
                    assertTrue(chunk.isDirect());
                    stored += chunk.remaining() / t.type().byteSize();
                }
                assertEquals(t.elementCount(), stored);
                if (t.elementCount() > 5) {
                    assertTrue(t.chunks().length > 1, "chunked " + t.name());
                }
            }
        }
    }

    @Test
    void injectionStoresTheValueInTheTensorsType() {
        Layout layout = Layout.of(new TensorSpec("h", new long[] {3}), new TensorSpec("b", new long[] {3}));
        double[][] x = {{1, 2, 3, 4, 5, 6}};
        Dtypes types = (u, t) -> t == 0 ? ElementType.BF16 : ElementType.F16;
        Built built = Batches.builder(x, layout).dtypes(types).inject(0, 1, Float.NaN).inject(0, 4, Float.NEGATIVE_INFINITY).build();
        TensorData b = built.batch().layout().get(0);
        TensorData h = built.batch().layout().get(1);
        float[] v = new float[3];
        b.read(0, 3, v, 0);
        assertTrue(Float.isNaN(v[1]));
        h.read(0, 3, v, 0);
        assertEquals(Float.NEGATIVE_INFINITY, v[1]);
        assertEquals(4f, v[0]);
    }
}
