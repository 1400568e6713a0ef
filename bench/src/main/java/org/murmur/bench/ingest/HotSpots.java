package org.murmur.bench.ingest;

import java.io.IOException;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jfr.Configuration;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a JFR recording of the server spent its time, by kind of work: each method sample
 * (a thread running Java code) is charged to the first kind its stack names from the top, and
 * each native sample whose top frame is file or socket I/O (pwrite, fdatasync, a socket read or
 * write; waits such as epoll or park are left out) to that I/O, each weighted by its sampling
 * period. Shares are of the
 * charged time, so they say what the busy threads did, not how busy they were.
 */
final class HotSpots {
    /** The JFR settings the server records with. */
    static final String SETTINGS = "profile";

    /** Kinds of work, tried in this order against each frame from the top of the stack. */
    private static final List<Kind> KINDS = List.of(
            new Kind("sha256", "sun.security.provider.SHA", "sun.security.provider.DigestBase",
                    "java.security.MessageDigest"),
            new Kind("file_write", "sun.nio.ch.FileDispatcherImpl.pwrite", "sun.nio.ch.FileDispatcherImpl.write",
                    "sun.nio.ch.FileChannelImpl.write"),
            new Kind("fsync", "sun.nio.ch.FileDispatcherImpl.force"),
            new Kind("finite_check", "org.murmur.kernels.", "org.murmur.server.grpc.UpdateValidator"),
            new Kind("socket_io", "io.grpc.netty.shaded.io.netty.channel.unix.FileDescriptor.",
                    "sun.nio.ch.SocketDispatcher."),
            new Kind("protobuf", "com.google.protobuf."),
            new Kind("netty_http2", "io.grpc.netty.shaded."),
            new Kind("grpc", "io.grpc."),
            new Kind("murmur_upload", "org.murmur.server."));
    /** Kinds a native sample counts for by its top frame; other native frames are waits (epoll, park, stdin). */
    private static final List<String> NATIVE_WORK = List.of("file_write", "fsync", "socket_io");

    private record Kind(String name, String... prefixes) {
        boolean matches(String frame) {
            for (String prefix : prefixes) {
                if (frame.startsWith(prefix)) {
                    return true;
                }
            }
            return false;
        }
    }

    private HotSpots() {
    }

    /** Share (0 to 1) of the charged time per kind, plus {@code other} and the charged seconds. */
    static Map<String, String> summarize(Path recording) throws IOException {
        double javaPeriod = periodMillis("jdk.ExecutionSample#period");
        double nativePeriod = periodMillis("jdk.NativeMethodSample#period");
        Map<String, Double> millis = new LinkedHashMap<>();
        for (Kind kind : KINDS) {
            millis.put(kind.name(), 0.0);
        }
        millis.put("other", 0.0);
        for (RecordedEvent event : RecordingFile.readAllEvents(recording)) {
            String type = event.getEventType().getName();
            RecordedStackTrace stack = event.getStackTrace();
            if (stack == null || stack.getFrames().isEmpty()) {
                continue;
            }
            if (type.equals("jdk.ExecutionSample")) {
                millis.merge(kindOf(stack.getFrames()), javaPeriod, Double::sum);
            } else if (type.equals("jdk.NativeMethodSample")) {
                String top = kindOf(stack.getFrames().subList(0, 1));
                if (NATIVE_WORK.contains(top)) {
                    millis.merge(top, nativePeriod, Double::sum);
                }
            }
        }
        double total = millis.values().stream().mapToDouble(Double::doubleValue).sum();
        Map<String, String> shares = new LinkedHashMap<>();
        shares.put("sampled_s", String.format(Locale.ROOT, "%.2f", total / 1000));
        millis.forEach((kind, ms) -> shares.put(kind, String.format(Locale.ROOT, "%.3f", total == 0 ? 0 : ms / total)));
        return shares;
    }

    private static String kindOf(List<RecordedFrame> frames) {
        for (RecordedFrame frame : frames) {
            String method = frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
            for (Kind kind : KINDS) {
                if (kind.matches(method)) {
                    return kind.name();
                }
            }
        }
        return "other";
    }

    private static double periodMillis(String setting) throws IOException {
        try {
            String value = Configuration.getConfiguration(SETTINGS).getSettings().getOrDefault(setting, "20 ms");
            String[] parts = value.strip().split("\\s+");
            double amount = Double.parseDouble(parts[0]);
            return parts.length > 1 && parts[1].equals("s") ? amount * 1000 : amount;
        } catch (ParseException e) {
            throw new IOException("JFR settings '" + SETTINGS + "' unreadable", e);
        }
    }
}
