package org.murmur.server.economics;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.regex.Pattern;

/**
 * An exact decimal fraction in [0, 1] such as a slash fraction or a proposer fraction, parsed from
 * its decimal string ("0.1") without ever passing through a binary floating-point value, so
 * {@code floor(0.1 * 10)} is exactly 1. Immutable.
 */
public final class ExactDecimal {
    private static final Pattern SYNTAX = Pattern.compile("(0|1)(\\.[0-9]{1,18})?");

    private final BigDecimal value;

    private ExactDecimal(BigDecimal value) {
        this.value = value;
    }

    /**
     * Parses a fraction in [0, 1] with at most 18 decimals; IllegalArgumentException naming
     * {@code field} otherwise.
     */
    public static ExactDecimal parse(String field, String text) {
        if (text == null || !SYNTAX.matcher(text).matches()) {
            throw new IllegalArgumentException(field + " must be a decimal fraction between 0 and 1 such as"
                    + " \"0.1\" (at most 18 decimals), got \"" + text + "\"");
        }
        BigDecimal value = new BigDecimal(text);
        if (value.compareTo(BigDecimal.ONE) > 0) {
            throw new IllegalArgumentException(field + " must be at most 1, got \"" + text + "\"");
        }
        return new ExactDecimal(value);
    }

    public boolean isZero() {
        return value.signum() == 0;
    }

    /** floor(this * amount), exactly. */
    public BigInteger floorTimes(BigInteger amount) {
        return value.multiply(new BigDecimal(amount)).setScale(0, RoundingMode.FLOOR).toBigIntegerExact();
    }

    /** ceil(this * count), exactly. */
    public long ceilTimes(long count) {
        return value.multiply(BigDecimal.valueOf(count)).setScale(0, RoundingMode.CEILING).longValueExact();
    }

    /** The decimal string, without trailing zeros ("0.10" prints as "0.1"). */
    @Override
    public String toString() {
        BigDecimal stripped = value.stripTrailingZeros();
        return stripped.scale() < 0 ? stripped.setScale(0).toPlainString() : stripped.toPlainString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExactDecimal other && value.compareTo(other.value) == 0;
    }

    @Override
    public int hashCode() {
        return value.stripTrailingZeros().hashCode();
    }
}
