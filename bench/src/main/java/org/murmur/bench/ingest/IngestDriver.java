package org.murmur.bench.ingest;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.murmur.proto.Wire;
import org.murmur.proto.client.MurmurClient;
import org.murmur.proto.client.UpdateUpload;
import org.murmur.proto.identity.NodeKeys;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.v1.MurmurGrpc;
import org.murmur.proto.v1.UploadReceipt;

/**
 * One scenario of the ingest benchmark: k nodes push one update each, at once, over loopback to an
 * {@link IngestServer} in its own JVM (started with this JVM's java and flags, and
 * {@code -Xmx} set to {@code --server-heap}), then the server aggregates them.
 *
 * <pre>
 * IngestDriver --scenario NAME --updates K --size 1g [--concurrency C] [--dtype f32|bf16]
 *              [--work DIR] [--server-heap 256m] [--data-root DIR] [--keep] [--no-probe] [--profile]
 * </pre>
 *
 * <p>{@code --data-root} puts the server's data directory on another file system (a tmpfs, to
 * take the disk out of the measurement); {@code --profile} records the server's ingest phase with
 * JFR and adds where its time went ({@link HotSpots}).
 *
 * <p>Each node has its own channel (its own TCP connection) and {@link MurmurClient}. The client
 * hashes its file before it sends anything; all k streams then start together (a barrier in the
 * first PushUpdate call of each), so the measured window, from the first byte sent to the last
 * receipt, holds the transfers and the server's checks, not the client's hashing. With
 * {@code --concurrency C} below k, C streams run at a time (the first C start together; a later
 * node hashes its file inside the window), so that the number of updates the server holds can
 * vary while the number of streams it serves does not.
 *
 * <p>What goes to stdout is the scenario's rows of the Markdown tables ({@link IngestReport}); the
 * numbers go to {@code <work>/results/<scenario>.properties} (written even when the run fails,
 * with what it measured) and the server's log beside it. Unless {@code --keep}, the inputs, the
 * keys and the server's data directory are deleted at the end, whatever happened.
 */
public final class IngestDriver {
    private static final long GB = 1_000_000_000L;

    public static void main(String[] args) throws Exception {
        Map<String, String> options = Args.parse(args, Set.of("--keep", "--no-probe", "--profile"),
                "--scenario", "--updates", "--size");
        String scenario = options.get("--scenario");
        int k = Integer.parseInt(options.get("--updates"));
        long dataBytes = Args.bytes(options.get("--size"));
        TensorDtype dtype = TensorDtype.valueOf(options.getOrDefault("--dtype", "f32").toUpperCase(Locale.ROOT));
        Path work = Path.of(options.getOrDefault("--work", "bench/.work/ingest")).toAbsolutePath();
        String serverHeap = options.getOrDefault("--server-heap", "256m");
        boolean keep = options.containsKey("--keep");
        int concurrency = Integer.parseInt(options.getOrDefault("--concurrency", Integer.toString(k)));
        Path inputs = work.resolve("inputs");
        Path run = work.resolve("runs").resolve(scenario);
        Path data = options.containsKey("--data-root")
                ? Path.of(options.get("--data-root")).toAbsolutePath().resolve("murmur-ingest-" + scenario)
                : run.resolve("data");
        Path results = Files.createDirectories(work.resolve("results"));
        Path jfr = results.resolve(scenario + ".jfr");

        List<Path> files = generate(inputs, dtype, dataBytes, k);
        deleteTree(run);
        deleteTree(data);
        Files.deleteIfExists(jfr);
        List<NodeKeys> keys = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            NodeKeys node = NodeKeys.generate();
            node.save(run.resolve("keys").resolve(String.format("node-%03d.key", i)));
            keys.add(node);
        }

        Properties result = new Properties();
        result.setProperty("scenario", scenario);
        result.setProperty("updates", Integer.toString(k));
        result.setProperty("concurrency", Integer.toString(concurrency));
        result.setProperty("data_bytes", Long.toString(dataBytes));
        result.setProperty("dtype", dtype.name());
        result.setProperty("server_heap", serverHeap);
        result.setProperty("data_dir", data.toString());
        result.setProperty("recorded_at", Instant.now().toString());
        Path log = results.resolve(scenario + ".server.log");
        List<String> serverArgs = new ArrayList<>(List.of("--data", data.toString(),
                "--keys", run.resolve("keys").toString(), "--schema-from", files.get(0).toString()));
        if (options.containsKey("--profile")) {
            serverArgs.addAll(List.of("--jfr", jfr.toString()));
        }
        try (ServerProcess server = ServerProcess.start(serverHeap, log, serverArgs)) {
            result.setProperty("aggregation_warmup_s", server.ready.get("aggregation_warmup_s"));
            server.command("phase ingest");
            Ingest ingest = upload(server.port, keys, files, concurrency);
            put(result, "", ingest.values());
            put(result, "ingest.", server.command("report"));
            server.command("phase aggregate");
            put(result, "aggregate.", server.command("aggregate"));
            long aggregated = System.nanoTime();
            result.setProperty("last_receipt_to_aggregate_s", ResourceSampler.seconds(aggregated - ingest.lastReceipt));
            put(result, "aggregation.", server.command("report"));
            if (!options.containsKey("--no-probe")) {
                put(result, "probe.", server.command("probe"));
            }
            put(result, "exit.", server.quit());
            if (options.containsKey("--profile")) {
                put(result, "profile.", HotSpots.summarize(jfr));
            }
        } finally {
            try (OutputStream out = Files.newOutputStream(results.resolve(scenario + ".properties"))) {
                result.store(out, "IngestDriver " + String.join(" ", args));
            }
            if (!keep) { // even after a failure: the disk is small, the log stays
                deleteTree(run);
                deleteTree(data);
                for (Path file : files) {
                    Files.deleteIfExists(file);
                }
            }
        }
        System.out.println(IngestReport.tables(List.of(result)));
    }

    /** The k update files, written in parallel where missing. */
    private static List<Path> generate(Path inputs, TensorDtype dtype, long dataBytes, int k) throws Exception {
        long started = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(k, Runtime.getRuntime().availableProcessors()));
        try {
            List<Future<Path>> pending = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                int index = i;
                pending.add(pool.submit(() -> SyntheticUpdates.ensure(inputs, dtype, dataBytes, index)));
            }
            List<Path> files = new ArrayList<>();
            for (Future<Path> file : pending) {
                files.add(file.get());
            }
            System.err.printf(Locale.ROOT, "[ingest] %d update(s) of %d %s bytes ready in %.1f s%n", k, dataBytes,
                    dtype, (System.nanoTime() - started) / 1e9);
            return files;
        } finally {
            pool.shutdownNow();
        }
    }

    /** What the uploads measured, on this side of the socket. */
    private record Ingest(long bytes, long firstByte, long lastReceipt, double[] streamGbps, double tailMax,
                          int retries, long clientCpuNanos) {
        Map<String, String> values() {
            double wall = (lastReceipt - firstByte) / 1e9;
            double min = Double.MAX_VALUE;
            double max = 0;
            for (double gbps : streamGbps) {
                min = Math.min(min, gbps);
                max = Math.max(max, gbps);
            }
            Map<String, String> values = new LinkedHashMap<>();
            values.put("total_bytes", Long.toString(bytes));
            values.put("wall_s", String.format(Locale.ROOT, "%.3f", wall));
            values.put("gbps", String.format(Locale.ROOT, "%.3f", bytes / wall / GB));
            values.put("mibps", String.format(Locale.ROOT, "%.1f", bytes / wall / (1 << 20)));
            values.put("stream_gbps_min", String.format(Locale.ROOT, "%.3f", min));
            values.put("stream_gbps_max", String.format(Locale.ROOT, "%.3f", max));
            values.put("tail_s_max", String.format(Locale.ROOT, "%.3f", tailMax));
            values.put("retries", Integer.toString(retries));
            values.put("client_cpu_s", ResourceSampler.seconds(clientCpuNanos));
            return values;
        }
    }

    /**
     * Pushes file i as node i, {@code concurrency} at a time (the first wave starting together);
     * returns when every update has its receipt.
     */
    private static Ingest upload(int port, List<NodeKeys> keys, List<Path> files, int concurrency) throws Exception {
        int k = files.size();
        int streams = Math.min(k, concurrency);
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long[] cpuAtStart = new long[1];
        CyclicBarrier start = new CyclicBarrier(streams, () -> cpuAtStart[0] = os.getProcessCpuTime());
        ExecutorService pool = Executors.newFixedThreadPool(streams);
        List<StreamClock> clocks = new ArrayList<>();
        List<Future<UploadReceipt>> pending = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            StreamClock clock = new StreamClock(i < streams ? start : null);
            clocks.add(clock);
            UpdateUpload update = new UpdateUpload(keys.get(i), IngestServer.TASK, IngestServer.ROUND, files.get(i),
                    1000L * (i + 1));
            pending.add(pool.submit(() -> push(port, clock, update)));
        }
        long bytes = 0;
        try {
            for (int i = 0; i < k; i++) {
                UploadReceipt receipt = pending.get(i).get();
                if (!receipt.getComplete()) {
                    throw new IllegalStateException("node " + i + ": incomplete receipt " + receipt);
                }
                bytes += receipt.getDurableBytes();
            }
        } catch (ExecutionException e) {
            pool.shutdownNow();
            throw new IllegalStateException("an upload failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdown();
        }
        long cpu = os.getProcessCpuTime() - cpuAtStart[0];
        long first = Long.MAX_VALUE;
        long last = 0;
        double tail = 0;
        int retries = 0;
        double[] perStream = new double[k];
        for (int i = 0; i < k; i++) {
            StreamClock clock = clocks.get(i);
            first = Math.min(first, clock.firstSend);
            last = Math.max(last, clock.receipt);
            tail = Math.max(tail, (clock.receipt - clock.halfClose) / 1e9);
            retries += clock.attempts.get() - 1;
            perStream[i] = Files.size(files.get(i)) / ((clock.receipt - clock.firstSend) / 1e9) / GB;
        }
        return new Ingest(bytes, first, last, perStream, tail, retries, cpu);
    }

    private static UploadReceipt push(int port, StreamClock clock, UpdateUpload update) throws Exception {
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", port, InsecureChannelCredentials.create())
                .maxInboundMessageSize(Wire.MAX_MESSAGE_BYTES)
                .build();
        try (MurmurClient client = MurmurClient.of(ClientInterceptors.intercept(channel, clock))) {
            UploadReceipt receipt = client.pushUpdate(update);
            clock.receipt = System.nanoTime();
            return receipt;
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    /**
     * Times one node's PushUpdate calls: holds the first call at the barrier (if any) until the
     * other nodes of the first wave are ready to send, then notes when the first message went out
     * and when the stream half-closed.
     */
    private static final class StreamClock implements ClientInterceptor {
        private final CyclicBarrier start;
        final AtomicInteger attempts = new AtomicInteger();
        volatile long firstSend;
        volatile long halfClose;
        volatile long receipt;

        StreamClock(CyclicBarrier start) {
            this.start = start;
        }

        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            if (!method.equals(MurmurGrpc.getPushUpdateMethod())) {
                return next.newCall(method, options);
            }
            if (attempts.incrementAndGet() == 1 && start != null) {
                try {
                    start.await(10, TimeUnit.MINUTES); // on the caller's thread, after its hashing
                } catch (Exception e) {
                    throw new IllegalStateException("the other uploads did not get ready to send", e);
                }
            }
            return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                @Override
                public void sendMessage(Q message) {
                    if (firstSend == 0) {
                        firstSend = System.nanoTime();
                    }
                    super.sendMessage(message);
                }

                @Override
                public void halfClose() {
                    halfClose = System.nanoTime();
                    super.halfClose();
                }
            };
        }
    }

    private static void put(Properties result, String prefix, Map<String, String> values) {
        values.forEach((key, value) -> result.setProperty(prefix + key, value));
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /**
     * The server JVM and its command line on stdin/stdout. Its java and flags are this JVM's, but
     * for the heap limit; its stderr goes to a log file, whose tail any failure quotes.
     */
    private static final class ServerProcess implements AutoCloseable {
        private final Process process;
        private final BufferedReader replies;
        private final PrintStream commands;
        private final Path log;
        final Map<String, String> ready;
        final int port;

        private ServerProcess(Process process, Path log) throws IOException {
            this.process = process;
            this.log = log;
            this.replies = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            this.commands = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
            this.ready = read("ready");
            this.port = Integer.parseInt(ready.get("port"));
        }

        static ServerProcess start(String heap, Path log, List<String> args) throws IOException {
            String java = ProcessHandle.current().info().command()
                    .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            List<String> command = new ArrayList<>(List.of(java));
            for (String flag : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                // the heap is the server's own; a debugger or recording of the driver is not
                if (!flag.startsWith("-Xmx") && !flag.startsWith("-Xms") && !flag.startsWith("-XX:MaxHeapSize")
                        && !flag.startsWith("-XX:InitialHeapSize") && !flag.startsWith("-agentlib")
                        && !flag.startsWith("-XX:StartFlightRecording")) {
                    command.add(flag);
                }
            }
            command.addAll(List.of("-Xmx" + heap, "-cp", System.getProperty("java.class.path"),
                    IngestServer.class.getName()));
            command.addAll(args);
            System.err.println("[ingest] server: " + String.join(" ", command.subList(0, command.size() - args.size() - 3))
                    + " ... " + IngestServer.class.getSimpleName());
            Process process = new ProcessBuilder(command).redirectError(log.toFile()).start();
            try {
                return new ServerProcess(process, log);
            } catch (IOException | RuntimeException e) {
                process.destroyForcibly();
                throw e;
            }
        }

        Map<String, String> command(String line) throws IOException {
            commands.println(line);
            return read(line.split(" ", 2)[0]);
        }

        /** Ends stdin (the server reports after a final GC and stops) and waits for the exit. */
        Map<String, String> quit() throws IOException, InterruptedException {
            commands.println("quit");
            Map<String, String> exit = read("exit");
            commands.close();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                throw new IOException("the server did not stop within 60 s; see " + log);
            }
            return exit;
        }

        private Map<String, String> read(String expected) throws IOException {
            String line = replies.readLine();
            if (line == null || !line.startsWith(expected + " ") && !line.equals(expected)) {
                throw new IOException("the server answered " + (line == null ? "nothing (it exited)" : "'" + line + "'")
                        + " where '" + expected + "' was expected; its log " + log + " ends with:\n" + tail());
            }
            Map<String, String> values = new LinkedHashMap<>();
            for (String word : line.split(" ")) {
                int equals = word.indexOf('=');
                if (equals > 0) {
                    values.put(word.substring(0, equals), word.substring(equals + 1));
                }
            }
            return values;
        }

        private String tail() {
            try {
                List<String> lines = Files.readAllLines(log);
                return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() throws InterruptedException {
            commands.close();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }
}
