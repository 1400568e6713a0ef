package org.murmur.server.store;

import java.util.regex.Pattern;

/**
 * Identifies one node's update in one round of one task. The ids become path components, so they
 * are 1 to 64 characters of {@code [A-Za-z0-9._-]} that do not start with a dot (no separators,
 * no "." or "..", no hidden files: no path traversal is possible), and the round is non-negative.
 */
public record UpdateKey(String taskId, long round, String nodeId) {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}");

    public UpdateKey {
        validateId("taskId", taskId);
        validateRound(round);
        validateId("nodeId", nodeId);
    }

    /** @throws IllegalArgumentException naming {@code field} when {@code value} is not a valid id */
    static void validateId(String field, String value) {
        if (value == null) {
            throw new IllegalArgumentException(field + " must not be null");
        }
        if (!ID.matcher(value).matches()) {
            throw new IllegalArgumentException(field + " must be 1 to 64 characters from [A-Za-z0-9._-], not starting with a dot, got "
                    + quote(value));
        }
    }

    static void validateRound(long round) {
        if (round < 0) {
            throw new IllegalArgumentException("round must be >= 0, got " + round);
        }
    }

    static boolean isValidId(String value) {
        return value != null && ID.matcher(value).matches();
    }

    /** A printable, bounded rendering of an untrusted value for error messages. */
    private static String quote(String value) {
        StringBuilder out = new StringBuilder("\"");
        int limit = Math.min(value.length(), 80);
        for (int i = 0; i < limit; i++) {
            char c = value.charAt(i);
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                out.append(c);
            } else {
                out.append(String.format("\\u%04x", (int) c));
            }
        }
        if (value.length() > limit) {
            out.append("...(").append(value.length()).append(" chars)");
        }
        return out.append('"').toString();
    }

    @Override
    public String toString() {
        return "task " + taskId + ", round " + round + ", node " + nodeId;
    }
}
