package org.murmur.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.murmur.kernels.api.ElementType;

/** The raw-bit finiteness scan agrees with Float.isFinite on every 16-bit pattern and on F32 edges. */
class UpdateValidatorTest {
    @Test
    void sixteenBitScanFindsExactlyTheNonFinitePatterns() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            short value = (short) bits;
            ByteBuffer one = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort(0, value);
            boolean bf16Bad = !Float.isFinite(ElementType.bf16ToFloat(value));
            boolean f16Bad = !Float.isFinite(ElementType.f16ToFloat(value));
            assertEquals(bf16Bad ? 0 : -1, UpdateValidator.firstNonFinite16(one.asShortBuffer(), 0x7f80), "bf16 " + bits);
            assertEquals(f16Bad ? 0 : -1, UpdateValidator.firstNonFinite16(one.asShortBuffer(), 0x7c00), "f16 " + bits);
        }
    }

    @Test
    void f32ScanFindsTheFirstBadElementAcrossTiles() {
        int n = 50_000;
        ByteBuffer values = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            values.putFloat(i * 4, i % 2 == 0 ? Float.MAX_VALUE : -Float.MIN_VALUE);
        }
        assertEquals(-1, UpdateValidator.firstNonFinite32(values.asIntBuffer()));
        values.putFloat(4 * 40_000, Float.NEGATIVE_INFINITY);
        values.putFloat(4 * 45_000, Float.NaN);
        assertEquals(40_000, UpdateValidator.firstNonFinite32(values.asIntBuffer()));
        values.putInt(4 * 20_000, 0xffc00001); // a negative NaN
        assertEquals(20_000, UpdateValidator.firstNonFinite32(values.asIntBuffer()));
    }
}
