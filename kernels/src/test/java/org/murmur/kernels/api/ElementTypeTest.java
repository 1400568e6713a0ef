package org.murmur.kernels.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.murmur.kernels.testing.SeedReporter;
import org.murmur.kernels.testing.SeededRandom;

/**
 * Decoding and encoding of F16 and BF16 against formulas written independently of the shift-based
 * implementation: every one of the 65,536 bit patterns, every rounding midpoint, overflow,
 * subnormals, NaN, and random floats against a nearest-value search.
 */
@ExtendWith(SeedReporter.class)
class ElementTypeTest {

    /** sign * 2^(e-15) * (1 + m/1024); subnormal m * 2^-24; e = 31 is infinity or NaN. */
    private static double halfByFormula(int bits) {
        int sign = (bits & 0x8000) != 0 ? -1 : 1;
        int e = (bits >>> 10) & 0x1f;
        int m = bits & 0x3ff;
        if (e == 31) {
            return m == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
        }
        if (e == 0) {
            double magnitude = m * Math.scalb(1.0, -24);
            return sign < 0 ? -magnitude : magnitude;
        }
        return sign * Math.scalb(1.0, e - 15) * (1 + m / 1024.0);
    }

    /** sign * 2^(e-127) * (1 + m/128); subnormal m * 2^-133; e = 255 is infinity or NaN. */
    private static double bf16ByFormula(int bits) {
        int sign = (bits & 0x8000) != 0 ? -1 : 1;
        int e = (bits >>> 7) & 0xff;
        int m = bits & 0x7f;
        if (e == 255) {
            return m == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
        }
        if (e == 0) {
            double magnitude = m * Math.scalb(1.0, -133);
            return sign < 0 ? -magnitude : magnitude;
        }
        return sign * Math.scalb(1.0, e - 127) * (1 + m / 128.0);
    }

    private static void assertSameFloat(double expected, float actual, String what) {
        if (Double.isNaN(expected)) {
            assertTrue(Float.isNaN(actual), what + ": expected NaN, got " + actual);
        } else {
            assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual),
                    what + ": expected " + expected + ", got " + actual);
        }
    }

    @Test
    void byteSizes() {
        assertEquals(4, ElementType.F32.byteSize());
        assertEquals(2, ElementType.F16.byteSize());
        assertEquals(2, ElementType.BF16.byteSize());
    }

    @Test
    void f16ToFloatMatchesTheFormulaForEveryBitPattern() {
        for (int bits = 0; bits < 0x10000; bits++) {
            assertSameFloat(halfByFormula(bits), ElementType.f16ToFloat((short) bits), "f16 " + Integer.toHexString(bits));
        }
    }

    @Test
    void bf16ToFloatMatchesTheFormulaForEveryBitPattern() {
        for (int bits = 0; bits < 0x10000; bits++) {
            assertSameFloat(bf16ByFormula(bits), ElementType.bf16ToFloat((short) bits), "bf16 " + Integer.toHexString(bits));
        }
    }

    @Test
    void everyFiniteHalfRoundTrips() {
        for (int bits = 0; bits < 0x10000; bits++) {
            if (((bits >>> 10) & 0x1f) == 31 && (bits & 0x3ff) != 0) {
                continue; // NaN: see nanStaysNan
            }
            short back = ElementType.floatToF16(ElementType.f16ToFloat((short) bits));
            assertEquals(bits, back & 0xffff, "f16 " + Integer.toHexString(bits));
        }
    }

    @Test
    void everyFiniteBf16RoundTrips() {
        for (int bits = 0; bits < 0x10000; bits++) {
            if (((bits >>> 7) & 0xff) == 255 && (bits & 0x7f) != 0) {
                continue;
            }
            short back = ElementType.floatToBf16(ElementType.bf16ToFloat((short) bits));
            assertEquals(bits, back & 0xffff, "bf16 " + Integer.toHexString(bits));
        }
    }

    @Test
    void f16MidpointsRoundToEven() {
        for (int h = 0; h < 0x7c00; h++) {
            double lo = halfByFormula(h);
            double hi = h == 0x7bff ? 65536 : halfByFormula(h + 1); // past the largest half: infinity
            float mid = (float) ((lo + hi) / 2);
            assertEquals((lo + hi) / 2, mid, 0.0, "the midpoint is a float");
            int even = (h & 1) == 0 ? h : h + 1;
            for (int sign : new int[] {0, 0x8000}) {
                float m = sign == 0 ? mid : -mid;
                assertEquals(even | sign, ElementType.floatToF16(m) & 0xffff, "tie at " + m);
                float below = sign == 0 ? Math.nextDown(mid) : -Math.nextDown(mid);
                float above = sign == 0 ? Math.nextUp(mid) : -Math.nextUp(mid);
                assertEquals(h | sign, ElementType.floatToF16(below) & 0xffff, "just below the tie at " + m);
                assertEquals((h + 1) | sign, ElementType.floatToF16(above) & 0xffff, "just above the tie at " + m);
            }
        }
    }

    @Test
    void bf16MidpointsRoundToEven() {
        for (int h = 0; h < 0x7f80; h++) {
            float mid = Float.intBitsToFloat((h << 16) | 0x8000);
            int even = (h & 1) == 0 ? h : h + 1;
            for (int sign : new int[] {0, 0x8000}) {
                float m = sign == 0 ? mid : -mid;
                assertEquals(even | sign, ElementType.floatToBf16(m) & 0xffff, "tie at " + m);
                float below = sign == 0 ? Math.nextDown(mid) : -Math.nextDown(mid);
                float above = sign == 0 ? Math.nextUp(mid) : -Math.nextUp(mid);
                assertEquals(h | sign, ElementType.floatToBf16(below) & 0xffff, "just below the tie at " + m);
                assertEquals((h + 1) | sign, ElementType.floatToBf16(above) & 0xffff, "just above the tie at " + m);
            }
        }
    }

    @Test
    void f16OverflowsToInfinityFrom65520() {
        assertEquals(0x7bff, ElementType.floatToF16(65504f) & 0xffff);
        assertEquals(0x7bff, ElementType.floatToF16(Math.nextDown(65520f)) & 0xffff);
        assertEquals(0x7c00, ElementType.floatToF16(65520f) & 0xffff);
        assertEquals(0xfc00, ElementType.floatToF16(-65520f) & 0xffff);
        assertEquals(0x7c00, ElementType.floatToF16(1e6f) & 0xffff);
        assertEquals(0x7c00, ElementType.floatToF16(Float.MAX_VALUE) & 0xffff);
        assertEquals(0x7c00, ElementType.floatToF16(Float.POSITIVE_INFINITY) & 0xffff);
        assertEquals(0xfc00, ElementType.floatToF16(Float.NEGATIVE_INFINITY) & 0xffff);
    }

    @Test
    void bf16OverflowsToInfinityPastTheLargestMidpoint() {
        float largest = Float.intBitsToFloat(0x7f7f0000);
        assertEquals(0x7f7f, ElementType.floatToBf16(largest) & 0xffff);
        assertEquals(0x7f7f, ElementType.floatToBf16(Float.intBitsToFloat(0x7f7f7fff)) & 0xffff);
        assertEquals(0x7f80, ElementType.floatToBf16(Float.intBitsToFloat(0x7f7f8000)) & 0xffff);
        assertEquals(0x7f80, ElementType.floatToBf16(Float.MAX_VALUE) & 0xffff);
        assertEquals(0xff80, ElementType.floatToBf16(-Float.MAX_VALUE) & 0xffff);
        assertEquals(0x7f80, ElementType.floatToBf16(Float.POSITIVE_INFINITY) & 0xffff);
    }

    @Test
    void f16SubnormalsRound() {
        float smallest = 0x1p-24f;
        assertEquals(0x0001, ElementType.floatToF16(smallest) & 0xffff);
        assertEquals(0x0000, ElementType.floatToF16(smallest / 2) & 0xffff, "half the smallest ties to 0");
        assertEquals(0x8000, ElementType.floatToF16(-smallest / 2) & 0xffff, "to -0");
        assertEquals(0x0001, ElementType.floatToF16(Math.nextUp(smallest / 2)) & 0xffff);
        assertEquals(0x0002, ElementType.floatToF16(3 * smallest / 2) & 0xffff, "1.5 ties to 2");
        assertEquals(0x0002, ElementType.floatToF16(5 * smallest / 2) & 0xffff, "2.5 ties to 2");
        assertEquals(0x0000, ElementType.floatToF16(Float.MIN_VALUE) & 0xffff);
        assertEquals(0x03ff, ElementType.floatToF16(1023 * smallest) & 0xffff, "largest subnormal");
        assertEquals(0x0400, ElementType.floatToF16(1023.5f * smallest) & 0xffff, "ties up into the smallest normal");
        assertEquals(0x0400, ElementType.floatToF16(0x1p-14f) & 0xffff);
        assertEquals(0x0000, ElementType.floatToF16(0f) & 0xffff);
        assertEquals(0x8000, ElementType.floatToF16(-0f) & 0xffff);
    }

    @Test
    void nanStaysNan() {
        int[] nans = {0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fbfffff, 0x7f802000, 0x7f800100, 0x7fffffff};
        for (int bits : nans) {
            float nan = Float.intBitsToFloat(bits);
            assertTrue(Float.isNaN(ElementType.f16ToFloat(ElementType.floatToF16(nan))), "f16 of NaN " + Integer.toHexString(bits));
            assertTrue(Float.isNaN(ElementType.bf16ToFloat(ElementType.floatToBf16(nan))), "bf16 of NaN " + Integer.toHexString(bits));
        }
    }

    /** Nearest finite positive half by search over the (monotonic) bit patterns; ties to even. */
    private static int nearestHalf(float value) {
        double v = Math.abs((double) value);
        int sign = (Float.floatToRawIntBits(value) >>> 16) & 0x8000;
        if (v >= 65520) {
            return sign | 0x7c00;
        }
        int lo = 0;
        int hi = 0x7bff;
        while (lo < hi) { // the largest pattern whose value is <= v
            int mid = (lo + hi + 1) >>> 1;
            if (halfByFormula(mid) <= v) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        double below = halfByFormula(lo);
        double above = lo == 0x7bff ? 65536 : halfByFormula(lo + 1);
        int pick;
        if (v - below < above - v) {
            pick = lo;
        } else if (v - below > above - v) {
            pick = lo + 1;
        } else {
            pick = (lo & 1) == 0 ? lo : lo + 1;
        }
        return sign | pick;
    }

    /** Nearest bf16 by comparing the two truncations; ties to even. */
    private static int nearestBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        double v = Math.abs((double) value);
        int lo = (bits & 0x7fffffff) >>> 16;
        double below = bf16ByFormula(lo);
        double above = lo == 0x7f7f ? Math.pow(2, 128) : bf16ByFormula(lo + 1);
        int pick;
        if (v - below < above - v) {
            pick = lo;
        } else if (v - below > above - v) {
            pick = lo + 1;
        } else {
            pick = (lo & 1) == 0 ? lo : lo + 1;
        }
        return sign | pick;
    }

    @Test
    void randomFloatsRoundToTheNearestValue() {
        SeededRandom random = SeededRandom.forCase("ElementType random floats");
        for (int i = 0; i < 200_000; i++) {
            float value = i % 2 == 0
                    ? Float.intBitsToFloat((int) random.nextLong())
                    : (float) random.uniform(-70000, 70000) * (float) Math.pow(2, -random.nextInt(30));
            if (!Float.isFinite(value)) {
                continue;
            }
            int half = ElementType.floatToF16(value) & 0xffff;
            int bf16 = ElementType.floatToBf16(value) & 0xffff;
            float v = value;
            assertEquals(nearestHalf(value), half, () -> "f16 of " + v + " " + random.where());
            assertEquals(nearestBf16(value), bf16, () -> "bf16 of " + v + " " + random.where());
        }
    }
}
