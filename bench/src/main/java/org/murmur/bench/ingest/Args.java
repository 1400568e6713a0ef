package org.murmur.bench.ingest;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The benchmark mains' command lines: {@code --name value} options and bare {@code --flag}s. */
final class Args {
    private Args() {
    }

    /**
     * Parses {@code args}: a word in {@code flags} stands alone (its value is {@code "true"}), any
     * other {@code --name} takes the next word. Exits with status 2 and a usage line on stderr for
     * a missing value or a missing {@code required} option.
     */
    static Map<String, String> parse(String[] args, Set<String> flags, String... required) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                usage("unexpected argument " + args[i]);
            }
            if (flags.contains(args[i])) {
                options.put(args[i], "true");
            } else if (i + 1 < args.length) {
                options.put(args[i], args[++i]);
            } else {
                usage(args[i] + " needs a value");
            }
        }
        for (String name : required) {
            if (!options.containsKey(name)) {
                usage(name + " is required");
            }
        }
        return options;
    }

    static Map<String, String> parse(String[] args, String... required) {
        return parse(args, Set.of(), required);
    }

    /** A size in bytes: digits with an optional k, m, g or t suffix (powers of 1024). */
    static long bytes(String text) {
        String lower = text.strip().toLowerCase(Locale.ROOT);
        int shift = switch (lower.isEmpty() ? ' ' : lower.charAt(lower.length() - 1)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        String digits = shift == 0 ? lower : lower.substring(0, lower.length() - 1);
        try {
            return Math.multiplyExact(Long.parseLong(digits), 1L << shift);
        } catch (NumberFormatException | ArithmeticException e) {
            usage("'" + text + "' is not a size (e.g. 256m, 4g)");
            return -1;
        }
    }

    private static void usage(String problem) {
        System.err.println(problem);
        System.exit(2);
    }
}
