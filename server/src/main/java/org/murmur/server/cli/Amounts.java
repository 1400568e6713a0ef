package org.murmur.server.cli;

import java.math.BigDecimal;
import java.math.BigInteger;

/** Token amounts for people: smallest units (18 decimals) as exact decimal tokens, "1000.5". */
final class Amounts {
    private static final int DECIMALS = 18;

    private Amounts() {
    }

    /** {@code units} as tokens, exactly, without trailing zeros: 1000500000000000000000 is "1000.5". */
    static String tokens(BigInteger units) {
        BigDecimal value = new BigDecimal(units, DECIMALS).stripTrailingZeros();
        return value.scale() < 0 ? value.setScale(0).toPlainString() : value.toPlainString();
    }

    /** Tokens, followed by the raw units in parentheses when {@code raw}. */
    static String tokens(BigInteger units, boolean raw) {
        return raw ? tokens(units) + " (" + units + ")" : tokens(units);
    }

    /** A signed amount with its sign always written: "+1.5", "-2", "0". */
    static String signedTokens(BigInteger units) {
        return (units.signum() > 0 ? "+" : "") + tokens(units);
    }
}
