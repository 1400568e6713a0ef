package org.murmur.proto.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TensorTypesTest {

    @Test
    void dtypeParsesExactlyTheThreeSupportedTags() {
        assertEquals(TensorDtype.F32, TensorDtype.fromTag("F32"));
        assertEquals(TensorDtype.F16, TensorDtype.fromTag("F16"));
        assertEquals(TensorDtype.BF16, TensorDtype.fromTag("BF16"));
        for (String other : new String[] {null, "", "f32", "F64", "I64", "BF16 "}) {
            assertNull(TensorDtype.fromTag(other), other);
        }
        assertEquals(4, TensorDtype.F32.byteSize());
        assertEquals(2, TensorDtype.F16.byteSize());
        assertEquals(2, TensorDtype.BF16.byteSize());
    }

    @Test
    void entryCopiesItsShapeInAndOut() {
        long[] shape = {2, 3};
        TensorEntry entry = new TensorEntry("w", TensorDtype.F32, shape, 0, 24);
        shape[0] = 99;
        entry.shape()[1] = 99;
        assertArrayEquals(new long[] {2, 3}, entry.shape());
        assertEquals(6, entry.elementCount());
        assertEquals(24, entry.byteLength());
    }

    @Test
    void entryComparesShapesByContent() {
        TensorEntry a = new TensorEntry("w", TensorDtype.F16, new long[] {2, 2}, 8, 16);
        TensorEntry b = new TensorEntry("w", TensorDtype.F16, new long[] {2, 2}, 8, 16);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, new TensorEntry("w", TensorDtype.F16, new long[] {4}, 8, 16));
        assertNotEquals(a, new TensorEntry("w", TensorDtype.BF16, new long[] {2, 2}, 8, 16));
        assertTrue(a.toString().contains("shape=[2, 2]"), a.toString());
    }

    @Test
    void zeroDimensionalEntryHasOneElement() {
        TensorEntry scalar = new TensorEntry("s", TensorDtype.BF16, new long[0], 4, 6);
        assertEquals(1, scalar.elementCount());
        assertEquals(2, scalar.byteLength());
    }

    @Test
    void entryRejectsInconsistentValues() {
        assertThrows(IllegalArgumentException.class, () -> new TensorEntry("w", TensorDtype.F32, new long[] {-1}, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new TensorEntry("w", TensorDtype.F32, new long[] {1}, 8, 4));
        assertThrows(IllegalArgumentException.class, () -> new TensorEntry("w", TensorDtype.F32, new long[] {1}, -4, 0));
        assertThrows(IllegalArgumentException.class, () -> new TensorEntry("w", TensorDtype.F32, new long[] {2}, 0, 4));
        assertThrows(IllegalArgumentException.class,
                () -> new TensorEntry("w", TensorDtype.F32, new long[] {Long.MAX_VALUE / 2}, 0, 4));
        assertThrows(NullPointerException.class, () -> new TensorEntry(null, TensorDtype.F32, new long[0], 0, 4));
    }

    @Test
    void headerKnowsItsByteLengthAndCopiesItsShape() {
        long[] shape = {3, 5};
        TensorHeader header = new TensorHeader("w", TensorDtype.BF16, shape);
        shape[0] = 0;
        header.shape()[0] = 0;
        assertEquals(30, header.byteLength());
        assertArrayEquals(new long[] {3, 5}, header.shape());
        assertEquals(header, new TensorHeader("w", TensorDtype.BF16, new long[] {3, 5}));
        assertEquals(header.hashCode(), new TensorHeader("w", TensorDtype.BF16, new long[] {3, 5}).hashCode());
        assertEquals(4, new TensorHeader("s", TensorDtype.F32, new long[0]).byteLength());
        assertThrows(IllegalArgumentException.class,
                () -> new TensorHeader("w", TensorDtype.F32, new long[] {Long.MAX_VALUE / 2}));
    }
}
