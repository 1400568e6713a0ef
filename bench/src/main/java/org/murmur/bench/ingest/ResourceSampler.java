package org.murmur.bench.ingest;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What this JVM costs, per phase of a benchmark: a daemon thread samples the heap in use
 * ({@link MemoryMXBean}, no GC forced, so garbage counts) and the resident set from
 * {@code /proc/self/status} (VmRSS, and its anonymous and file-backed parts, tmpfs included) every
 * {@link #PERIOD_MILLIS} ms and keeps the peaks; starting a phase also resets the kernel's own
 * peak, VmHWM (through {@code /proc/self/clear_refs}), which catches a peak between two samples.
 * A phase also counts CPU time: the process's, and each live thread's grouped by its name, so
 * that what no Java thread accounts for is the JVM's own work (GC, JIT). Thread-safe.
 */
final class ResourceSampler implements AutoCloseable {
    static final long PERIOD_MILLIS = 50;
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");
    private static final long MIB = 1 << 20;

    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "resource-sampler");
        thread.setDaemon(true);
        return thread;
    });

    private String phase;
    private long phaseStart;
    private long heapPeak;
    private long rssPeak;
    private long anonPeak;
    private long filePeak;
    private boolean hwmReset;
    private long cpuAtStart;
    private long gcCountAtStart;
    private long gcMillisAtStart;
    private Map<Long, Long> threadCpuAtStart = Map.of();

    ResourceSampler() {
        begin("start");
        timer.scheduleAtFixedRate(this::sample, PERIOD_MILLIS, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Ends the current phase and starts {@code name}: peaks reset to now, CPU counted from now. */
    synchronized void begin(String name) {
        phase = name;
        phaseStart = System.nanoTime();
        try {
            Files.writeString(CLEAR_REFS, "5"); // VmHWM := VmRSS
            hwmReset = true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            hwmReset = false; // older kernels: the sampled peak alone
        }
        heapPeak = 0;
        rssPeak = 0;
        anonPeak = 0;
        filePeak = 0;
        sample();
        cpuAtStart = os.getProcessCpuTime();
        gcCountAtStart = gcCount();
        gcMillisAtStart = gcMillis();
        threadCpuAtStart = threadCpu();
    }

    private synchronized void sample() {
        heapPeak = Math.max(heapPeak, memory.getHeapMemoryUsage().getUsed());
        Map<String, Long> status = status();
        rssPeak = Math.max(rssPeak, status.getOrDefault("VmRSS", 0L));
        anonPeak = Math.max(anonPeak, status.getOrDefault("RssAnon", 0L));
        filePeak = Math.max(filePeak, fileBacked(status));
    }

    /**
     * The current phase so far, as {@code key -> value} (sizes in MiB, times in seconds): peaks of
     * heap and RSS, their current values, CPU seconds by thread group, GC counts and the JVM's
     * mapped and direct buffer pools.
     */
    synchronized Map<String, String> report() {
        sample();
        Map<String, String> out = new LinkedHashMap<>();
        Map<String, Long> status = status();
        long hwm = hwmReset ? status.getOrDefault("VmHWM", 0L) : 0;
        out.put("phase", phase);
        out.put("phase_s", seconds(System.nanoTime() - phaseStart));
        out.put("heap_peak_mib", mib(heapPeak));
        out.put("heap_now_mib", mib(memory.getHeapMemoryUsage().getUsed()));
        out.put("heap_max_mib", mib(memory.getHeapMemoryUsage().getMax()));
        out.put("rss_peak_mib", mib(Math.max(rssPeak, hwm)));
        out.put("rss_anon_peak_mib", mib(anonPeak));
        out.put("rss_file_peak_mib", mib(filePeak));
        out.put("rss_now_mib", mib(status.getOrDefault("VmRSS", 0L)));
        out.put("rss_anon_now_mib", mib(status.getOrDefault("RssAnon", 0L)));
        out.put("rss_file_now_mib", mib(fileBacked(status)));
        long cpu = os.getProcessCpuTime() - cpuAtStart;
        out.put("cpu_s", seconds(cpu));
        Map<String, Long> groups = new HashMap<>();
        long javaThreads = 0;
        Map<Long, Long> now = threadCpu();
        for (ThreadInfo info : threads.getThreadInfo(now.keySet().stream().mapToLong(Long::longValue).toArray())) {
            if (info == null) {
                continue;
            }
            long used = now.get(info.getThreadId()) - threadCpuAtStart.getOrDefault(info.getThreadId(), 0L);
            groups.merge(group(info.getThreadName()), used, Long::sum);
            javaThreads += used;
        }
        for (String group : new String[] {"transport", "handlers", "aggregation", "other_java"}) {
            out.put("cpu_" + group + "_s", seconds(groups.getOrDefault(group, 0L)));
        }
        // GC, JIT and threads that ended during the phase: no live Java thread owns that time
        out.put("cpu_jvm_s", seconds(Math.max(0, cpu - javaThreads)));
        out.put("gc_count", Long.toString(gcCount() - gcCountAtStart));
        out.put("gc_s", seconds((gcMillis() - gcMillisAtStart) * 1_000_000));
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("mapped") || pool.getName().equals("direct")) {
                out.put(pool.getName() + "_buffers", Long.toString(pool.getCount()));
                out.put(pool.getName() + "_mib", mib(pool.getMemoryUsed()));
            }
        }
        return out;
    }

    /**
     * Netty's event loops read the sockets and frame HTTP/2; gRPC's executor runs the upload
     * handlers (write, hash, check); the CPU backend's workers aggregate, and the main thread,
     * which runs the benchmark's commands, writes the aggregate.
     */
    private static String group(String thread) {
        if (thread.contains("ELG") || thread.contains("epoll") || thread.contains("nio")) {
            return "transport";
        }
        if (thread.startsWith("grpc-default-executor")) {
            return "handlers";
        }
        if (thread.startsWith("murmur-cpu") || thread.equals("main")) {
            return "aggregation";
        }
        return "other_java";
    }

    private Map<Long, Long> threadCpu() {
        Map<Long, Long> cpu = new HashMap<>();
        for (long id : threads.getAllThreadIds()) {
            long used = threads.getThreadCpuTime(id);
            if (used >= 0) {
                cpu.put(id, used);
            }
        }
        return cpu;
    }

    private static long gcCount() {
        long count = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            count += Math.max(0, gc.getCollectionCount());
        }
        return count;
    }

    private static long gcMillis() {
        long millis = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            millis += Math.max(0, gc.getCollectionTime());
        }
        return millis;
    }

    /** Resident pages of mapped files, those of a tmpfs (shared memory) included. */
    private static long fileBacked(Map<String, Long> status) {
        return status.getOrDefault("RssFile", 0L) + status.getOrDefault("RssShmem", 0L);
    }

    /** The kB fields of /proc/self/status, in bytes; empty where there is no procfs. */
    private static Map<String, Long> status() {
        Map<String, Long> fields = new HashMap<>();
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.endsWith(" kB")) {
                    int colon = line.indexOf(':');
                    String value = line.substring(colon + 1, line.length() - 3).strip();
                    fields.put(line.substring(0, colon), Long.parseLong(value) * 1024);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux: RSS reads as 0
        }
        return fields;
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / (double) MIB);
    }

    static String seconds(long nanos) {
        return String.format(Locale.ROOT, "%.3f", nanos / 1e9);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
