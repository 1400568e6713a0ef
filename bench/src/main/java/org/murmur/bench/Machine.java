package org.murmur.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/** The machine a benchmark ran on, as its recorded reports state it. */
public final class Machine {
    private Machine() {
    }

    /** The report's header lines: date, CPU and JDK, each a Markdown list item. */
    public static String describe() throws IOException {
        String date = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'"));
        return "- Date: " + date + "\n- CPU: " + cpu() + ", " + Runtime.getRuntime().availableProcessors()
                + " logical CPUs (" + System.getProperty("os.arch") + ", " + System.getProperty("os.name") + ' '
                + System.getProperty("os.version") + ")\n- JDK: " + System.getProperty("java.vm.name") + ' '
                + System.getProperty("java.version") + " (" + System.getProperty("java.runtime.version") + ")\n";
    }

    private static String cpu() throws IOException {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (Files.isReadable(cpuinfo)) {
            for (String line : Files.readAllLines(cpuinfo)) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        }
        return "unknown";
    }
}
