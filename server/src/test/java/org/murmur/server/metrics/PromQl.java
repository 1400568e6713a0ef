package org.murmur.server.metrics;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The metric names a PromQL expression reads, found by a tokenizer rather than a regular
 * expression: string literals, comments, label matchers ({@code {...}}), ranges and subqueries
 * ({@code [...]}), numbers and durations are skipped; label lists after {@code by}, {@code without},
 * {@code on}, {@code ignoring}, {@code group_left} and {@code group_right} are skipped; keywords,
 * aggregation operators, {@code Inf}/{@code NaN} and identifiers followed by {@code (} (functions)
 * are not names. A name may also come from a {@code __name__="..."} matcher; a regular-expression
 * {@code __name__} matcher is refused, since it names no metric for certain.
 */
final class PromQl {
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "by", "without", "on", "ignoring",
            "group_left", "group_right", "bool", "offset", "atan2", "inf", "nan");
    private static final Set<String> LABEL_LIST_BEFORE = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right");
    private static final Set<String> AGGREGATIONS = Set.of("sum", "min", "max", "avg", "group", "stddev", "stdvar",
            "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio");

    private enum Kind { IDENT, SELECTOR, OPEN, CLOSE, OTHER }

    private record Token(Kind kind, String text) {
    }

    private PromQl() {
    }

    /** The metric names {@code expr} reads, in order of appearance. */
    static Set<String> metricNames(String expr) {
        List<Token> tokens = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        tokenize(expr, tokens, names);
        for (int i = 0; i < tokens.size(); i++) {
            Token token = tokens.get(i);
            if (token.kind() != Kind.IDENT) {
                continue;
            }
            String word = token.text().toLowerCase(Locale.ROOT);
            Kind next = i + 1 < tokens.size() ? tokens.get(i + 1).kind() : null;
            if (LABEL_LIST_BEFORE.contains(word)) {
                if (next == Kind.OPEN) {
                    i = closing(tokens, i + 1);
                }
            } else if (!KEYWORDS.contains(word) && !AGGREGATIONS.contains(word) && next != Kind.OPEN) {
                names.add(token.text());
            }
        }
        return names;
    }

    private static int closing(List<Token> tokens, int open) {
        int depth = 0;
        for (int i = open; i < tokens.size(); i++) {
            depth += tokens.get(i).kind() == Kind.OPEN ? 1 : tokens.get(i).kind() == Kind.CLOSE ? -1 : 0;
            if (depth == 0) {
                return i;
            }
        }
        throw new IllegalArgumentException("unbalanced parentheses");
    }

    private static void tokenize(String s, List<Token> tokens, Set<String> names) {
        int i = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '#') {
                while (i < n && s.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '"' || c == '\'' || c == '`') {
                i = skipString(s, i);
                tokens.add(new Token(Kind.OTHER, "string"));
            } else if (c == '{') {
                i = matchers(s, i + 1, names);
                tokens.add(new Token(Kind.SELECTOR, "{}"));
            } else if (c == '[') {
                int end = s.indexOf(']', i);
                if (end < 0) {
                    throw new IllegalArgumentException("unclosed [ in: " + s);
                }
                i = end + 1;
                tokens.add(new Token(Kind.OTHER, "range"));
            } else if (Character.isDigit(c) || (c == '.' && i + 1 < n && Character.isDigit(s.charAt(i + 1)))) {
                i = skipNumber(s, i);
                tokens.add(new Token(Kind.OTHER, "number"));
            } else if (identStart(c)) {
                int start = i;
                while (i < n && identPart(s.charAt(i))) {
                    i++;
                }
                tokens.add(new Token(Kind.IDENT, s.substring(start, i)));
            } else if (c == '(') {
                i++;
                tokens.add(new Token(Kind.OPEN, "("));
            } else if (c == ')') {
                i++;
                tokens.add(new Token(Kind.CLOSE, ")"));
            } else {
                i++;
                tokens.add(new Token(Kind.OTHER, String.valueOf(c)));
            }
        }
    }

    /** Reads label matchers up to the closing brace; returns the index after it. */
    private static int matchers(String s, int i, Set<String> names) {
        int n = s.length();
        while (true) {
            i = skipSpace(s, i);
            if (i >= n) {
                throw new IllegalArgumentException("unclosed { in: " + s);
            }
            if (s.charAt(i) == '}') {
                return i + 1;
            }
            if (s.charAt(i) == ',') {
                i++;
                continue;
            }
            int start = i;
            if (s.charAt(i) == '"') {
                // A quoted label name (Prometheus 3); read as a string.
                i = skipString(s, i);
            } else {
                while (i < n && identPart(s.charAt(i))) {
                    i++;
                }
            }
            String label = s.substring(start, i);
            if (label.isEmpty()) {
                throw new IllegalArgumentException("expected a label name at " + start + " in: " + s);
            }
            i = skipSpace(s, i);
            int opStart = i;
            while (i < n && "=!~".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            String op = s.substring(opStart, i);
            i = skipSpace(s, i);
            int valueStart = i;
            i = skipString(s, i);
            if (label.equals("__name__")) {
                if (!op.equals("=")) {
                    throw new IllegalArgumentException("__name__" + op + " names no metric for certain: " + s);
                }
                names.add(s.substring(valueStart + 1, i - 1));
            }
        }
    }

    private static int skipString(String s, int i) {
        char quote = s.charAt(i);
        if (quote != '"' && quote != '\'' && quote != '`') {
            throw new IllegalArgumentException("expected a string at " + i + " in: " + s);
        }
        i++;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\\' && quote != '`') {
                i += 2;
            } else if (c == quote) {
                return i + 1;
            } else {
                i++;
            }
        }
        throw new IllegalArgumentException("unclosed string in: " + s);
    }

    /** Numbers (1, 0.5, 1e-3, 0x1f) and durations (5m, 1h30m). */
    private static int skipNumber(String s, int i) {
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (Character.isLetterOrDigit(c) || c == '.' || c == '_') {
                i++;
            } else if ((c == '+' || c == '-') && (s.charAt(i - 1) == 'e' || s.charAt(i - 1) == 'E')
                    && !s.substring(0, i).matches("(?s).*0[xX][0-9a-fA-F]*")) {
                i++;
            } else {
                break;
            }
        }
        return i;
    }

    private static int skipSpace(String s, int i) {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    private static boolean identStart(char c) {
        return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    private static boolean identPart(char c) {
        return identStart(c) || (c >= '0' && c <= '9');
    }
}
