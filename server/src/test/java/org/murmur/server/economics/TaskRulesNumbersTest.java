package org.murmur.server.economics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/**
 * The numbers task parameters are made of (fl-alliance.md, "Task parameters"): exact decimal
 * fractions (rho, alpha) and token amounts in the smallest unit. Binary floating point would get
 * floor(0.29 * 100) and ceil(0.07 * 100) wrong; these must be exact.
 */
class TaskRulesNumbersTest {

    // ---------------------------------------------------------------------------------------- ExactDecimal

    @Test
    void fractionsMultiplyExactlyWhereDoublesRoundTheWrongWay() {
        // Each of these is off by one in IEEE-754 double arithmetic.
        assertEquals(1.0, Math.floor(0.1 * 10), "sanity: this one happens to be exact in doubles");
        assertEquals(28.0, Math.floor(0.29 * 100), "sanity: doubles floor 0.29 * 100 to 28");
        assertEquals(8.0, Math.ceil(0.07 * 100), "sanity: doubles ceil 0.07 * 100 to 8");
        assertEquals(15.0, Math.ceil(0.14 * 100), "sanity: doubles ceil 0.14 * 100 to 15");

        assertEquals(BigInteger.ONE, frac("0.1").floorTimes(BigInteger.TEN));
        assertEquals(BigInteger.valueOf(29), frac("0.29").floorTimes(BigInteger.valueOf(100)));
        assertEquals(7, frac("0.07").ceilTimes(100));
        assertEquals(14, frac("0.14").ceilTimes(100));
        assertEquals(3, frac("0.3").ceilTimes(10));
        assertEquals(3, frac("0.29").ceilTimes(10), "ceil(2.9)");
        assertEquals(BigInteger.TWO, frac("0.29").floorTimes(BigInteger.TEN), "floor(2.9)");
    }

    @Test
    void floorAndCeilOfFractionsAtEveryScale() {
        // 18 decimals: floor(10^-18 * x) is x / 10^18 rounded down.
        ExactDecimal tiny = frac("0.000000000000000001");
        assertEquals(BigInteger.ZERO, tiny.floorTimes(BigInteger.valueOf(999_999_999_999_999_999L)));
        assertEquals(BigInteger.ONE, tiny.floorTimes(Tokens.ONE));
        assertEquals(1, tiny.ceilTimes(1));
        assertEquals(BigInteger.ZERO, frac("0").floorTimes(Tokens.of(1_000_000)));
        assertEquals(0, frac("0").ceilTimes(7));
        assertEquals(Tokens.of(123), frac("1").floorTimes(Tokens.of(123)));
        assertEquals(5, frac("1.000").ceilTimes(5));
        // Alpha = 0.1 of a stake of 10 tokens + 9 units: floor keeps whole units only.
        assertEquals(Tokens.ONE, frac("0.1").floorTimes(Tokens.of(10).add(BigInteger.valueOf(9))));
        // A huge amount keeps every digit.
        BigInteger huge = BigInteger.TEN.pow(77).subtract(BigInteger.ONE);
        assertEquals(huge.divide(BigInteger.TEN), frac("0.1").floorTimes(huge));
    }

    @Test
    void fractionsParseOnlyCanonicalDecimalsBetweenZeroAndOne() {
        for (String good : new String[] {"0", "1", "0.5", "0.2", "1.0", "1.000000000000000000", "0.000000000000000001",
                "0.999999999999999999"}) {
            ExactDecimal.parse("rho", good);
        }
        for (String bad : new String[] {"", " 0.1", "0.1 ", ".5", "0.", "00.1", "+0.1", "-0.1", "0,1", "1e-1",
                "0.1e0", "2", "1.5", "1.000000000000000001", "0.0000000000000000001", "NaN", "Infinity", "0x1",
                "½", "٠.١"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ExactDecimal.parse("slash_fraction", bad), "'" + bad + "' must be refused");
            assertTrue(e.getMessage().contains("slash_fraction"), "the message names the field: " + e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> ExactDecimal.parse("rho", null));
    }

    @Test
    void fractionsCompareByValueAndPrintCanonically() {
        assertEquals(frac("0.1"), frac("0.10"));
        assertEquals(frac("0.1").hashCode(), frac("0.100000").hashCode());
        assertEquals(frac("1"), frac("1.0"));
        assertEquals(frac("0").hashCode(), frac("0.000").hashCode());
        assertNotEquals(frac("0.1"), frac("0.01"));
        assertEquals("0.1", frac("0.100").toString());
        assertEquals("1", frac("1.00").toString());
        assertEquals("0", frac("0.0").toString());
        assertEquals("0.000000000000000001", frac("0.000000000000000001").toString());
        assertTrue(frac("0.000").isZero());
        assertFalse(frac("0.000000000000000001").isZero());
    }

    // ---------------------------------------------------------------------------------------- Tokens

    @Test
    void oneTokenIsTenToTheEighteenUnits() {
        assertEquals(new BigInteger("1000000000000000000"), Tokens.ONE);
        assertEquals(new BigInteger("10000000000000000000"), Tokens.of(10));
        assertEquals(BigInteger.ZERO, Tokens.of(0));
    }

    @Test
    void amountsParseOnlyCanonicalNonNegativeIntegers() {
        assertEquals(BigInteger.ZERO, Tokens.parse("amount", "0"));
        assertEquals(Tokens.of(8), Tokens.parse("amount", "8000000000000000000"));
        String max = "9".repeat(78);
        assertEquals(new BigInteger(max), Tokens.parse("amount", max));
        for (String bad : new String[] {"", "00", "01", "-1", "+1", "1.0", "1e18", " 1", "1 ", "1_000", "0x10",
                "9".repeat(79), "１", "١"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Tokens.parse("min_stake", bad), "'" + bad + "' must be refused");
            assertTrue(e.getMessage().contains("min_stake"), "the message names the field: " + e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Tokens.parse("amount", null));
    }

    @Test
    void amountsPrintAsTheyParseAndNeverNegative() {
        for (String text : new String[] {"0", "1", "1000000000000000000", "9".repeat(78)}) {
            assertEquals(text, Tokens.format(Tokens.parse("amount", text)));
        }
        assertThrows(IllegalArgumentException.class, () -> Tokens.format(BigInteger.valueOf(-1)));
    }

    private static ExactDecimal frac(String text) {
        return ExactDecimal.parse("fraction", text);
    }
}
