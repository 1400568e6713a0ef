package org.murmur.server.economics;

import java.math.BigInteger;
import java.util.regex.Pattern;

/**
 * Token amounts: non-negative integers in the smallest unit (18 decimals, as on chain), written as
 * decimal strings of ASCII digits with no sign, exponent, separator or leading zero. The one place
 * the wire's amount syntax is parsed and printed.
 */
public final class Tokens {
    /** One token in the smallest unit. */
    public static final BigInteger ONE = BigInteger.TEN.pow(18);

    /** At most 78 digits: amounts stay below 10^78, far beyond any real supply, and parsing stays cheap. */
    private static final Pattern AMOUNT = Pattern.compile("0|[1-9][0-9]{0,77}");

    private Tokens() {
    }

    /** {@code whole} tokens in the smallest unit. */
    public static BigInteger of(long whole) {
        return BigInteger.valueOf(whole).multiply(ONE);
    }

    /**
     * Parses an amount; IllegalArgumentException naming {@code field} when {@code text} is not a
     * canonical decimal integer.
     */
    public static BigInteger parse(String field, String text) {
        if (text == null || !AMOUNT.matcher(text).matches()) {
            throw new IllegalArgumentException(field + " must be a token amount in the smallest unit: decimal"
                    + " digits, no sign, exponent or leading zero (\"1000000000000000000\" is one token), got \""
                    + text + "\"");
        }
        return new BigInteger(text);
    }

    /** The canonical decimal string of a non-negative amount. */
    public static String format(BigInteger amount) {
        if (amount.signum() < 0) {
            throw new IllegalArgumentException("a token amount is never negative, got " + amount);
        }
        return amount.toString();
    }
}
