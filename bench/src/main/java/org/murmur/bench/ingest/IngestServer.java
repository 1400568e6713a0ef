package org.murmur.bench.ingest;

import io.grpc.InsecureServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import org.murmur.kernels.Backends;
import org.murmur.kernels.api.Backend;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.TensorData;
import org.murmur.kernels.api.Update;
import org.murmur.kernels.api.UpdateBatch;
import org.murmur.proto.identity.NodeId;
import org.murmur.proto.identity.NodeKeys;
import org.murmur.proto.safetensors.SafetensorsFile;
import org.murmur.server.grpc.Contribution;
import org.murmur.server.grpc.GrpcMetrics;
import org.murmur.server.grpc.InMemoryModelCatalog;
import org.murmur.server.grpc.MurmurServer;
import org.murmur.server.grpc.RoundGate;
import org.murmur.server.grpc.ServerConfig;
import org.murmur.server.grpc.StaticRoundGate;
import org.murmur.server.grpc.UploadVerdict;
import org.murmur.server.model.ModelFiles;
import org.murmur.server.model.ModelSchema;
import org.murmur.server.model.UpdateFiles;

/**
 * The server side of the ingest benchmark, run in a JVM of its own so that its heap and RSS are
 * its own: a {@link MurmurServer} on a free loopback port over {@code --data}, whose one task
 * ({@value #TASK}) has the schema of the {@code --schema-from} file and one open round (0) whose
 * proposers are the nodes of the {@code *.key} files in {@code --keys}, all staked. Server
 * settings are the defaults of {@link ServerConfig}. Before it listens it warms up the
 * aggregation kernels (see {@link #warmUpAggregation}).
 *
 * <p>It prints {@code ready port=N ...} on stdout, then answers one command per stdin line with
 * one stdout line, {@code <command> key=value ...} (or {@code error <message>}):
 * <ul>
 *   <li>{@code phase NAME}: starts a phase of the {@link ResourceSampler} (peaks and CPU from now);
 *       with {@code --jfr FILE}, phase {@code ingest} is also recorded by JFR into FILE, until the
 *       next phase begins;</li>
 *   <li>{@code report}: the phase so far, plus the updates admitted and bytes ingested;</li>
 *   <li>{@code aggregate}: fedavg (weights: each update's num_samples) of the round's admitted
 *       updates on the CPU backend, read straight from the update store, written beside them in
 *       their dtype, timed from the last admission (the last receipt's moment) to the file being
 *       durable;</li>
 *   <li>{@code probe}: one core's speed at the per-byte work of an upload outside gRPC: SHA-256,
 *       the store's writes (1 MiB pwrites, fdatasync every 16 MiB), the finiteness scan, and at
 *       touching fresh memory (what each new page of the page cache costs);</li>
 *   <li>{@code quit}, or the end of stdin: forces GCs and replies {@code exit ...} with the live
 *       heap and the RSS after them, then stops.</li>
 * </ul>
 * Nothing else is written to stdout (logs go to stderr).
 */
public final class IngestServer {
    static final String TASK = "ingest";
    static final long ROUND = 0;
    private static final int PROBE_CHUNK = 1 << 20;
    private static final long PROBE_SYNC_BYTES = 16L << 20;
    private static final int PROBE_FRESH_BYTES = 64 << 20;

    private final MurmurServer server;
    private final TimedGate gate;
    private final Path dataDir;
    private final ResourceSampler sampler = new ResourceSampler();
    private final PrintStream out;
    private final Path jfrFile;
    private Recording recording;

    private IngestServer(MurmurServer server, TimedGate gate, Path dataDir, PrintStream out, Path jfrFile) {
        this.server = server;
        this.gate = gate;
        this.dataDir = dataDir;
        this.out = out;
        this.jfrFile = jfrFile;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = Args.parse(args, "--data", "--keys", "--schema-from");
        Path jfrFile = options.containsKey("--jfr") ? Path.of(options.get("--jfr")) : null;
        Path dataDir = Path.of(options.get("--data")).toAbsolutePath();
        ModelSchema schema;
        try (SafetensorsFile file = SafetensorsFile.open(Path.of(options.get("--schema-from")))) {
            schema = ModelSchema.ofEntries(file.tensors());
        }
        StaticRoundGate rounds = new StaticRoundGate();
        rounds.addTask(TASK, schema);
        rounds.addRound(TASK, ROUND);
        rounds.openRound(TASK, ROUND);
        List<Path> keyFiles;
        try (Stream<Path> files = Files.list(Path.of(options.get("--keys")))) {
            keyFiles = files.filter(f -> f.toString().endsWith(".key")).sorted().toList();
        }
        for (Path keyFile : keyFiles) {
            NodeId node = rounds.registerKey(NodeKeys.load(keyFile).publicKey());
            rounds.stake(TASK, node);
            rounds.addProposers(TASK, ROUND, node);
        }
        TimedGate gate = new TimedGate(rounds);
        double warmup = warmUpAggregation(schema, dataDir);
        ServerConfig config = ServerConfig.builder(dataDir).port(0).build();
        NettyServerBuilder loopback = NettyServerBuilder
                .forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), InsecureServerCredentials.create())
                .flowControlWindow(config.flowControlWindowBytes());
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        System.setOut(new PrintStream(System.err, true, StandardCharsets.UTF_8)); // stdout carries replies only
        try (MurmurServer server = MurmurServer.start(loopback, config, gate, new InMemoryModelCatalog(),
                new SimpleMeterRegistry())) {
            out.println(String.format(Locale.ROOT, "ready port=%d nodes=%d aggregation_warmup_s=%.3f", server.port(),
                    keyFiles.size(), warmup));
            new IngestServer(server, gate, dataDir, out, jfrFile).serve();
        }
    }

    /**
     * Runs fedavg a few times over small in-memory updates of the task's first dtype, so that the
     * measured aggregation runs compiled kernels, as in a server that has aggregated a round
     * before (the vector kernels are many times slower until C2 compiles them). The upload path
     * gets no such warm-up: its cost is amortized over GiB-sized updates. Returns the seconds spent.
     */
    private static double warmUpAggregation(ModelSchema schema, Path dataDir) throws IOException {
        long started = System.nanoTime();
        ElementType type = ElementType.valueOf(schema.tensors().get(0).dtype().name());
        int elements = 1 << 22;
        List<Update> updates = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            ByteBuffer data = ByteBuffer.allocateDirect(elements * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            while (data.hasRemaining()) {
                if (type == ElementType.F32) {
                    data.putFloat(0.5f + i);
                } else {
                    data.putShort(type == ElementType.BF16 ? ElementType.floatToBf16(0.5f + i)
                            : ElementType.floatToF16(0.5f + i));
                }
            }
            updates.add(new Update("warm-up-" + i, List.of(TensorData.of("w", type, new long[] {elements},
                    data.flip()))));
        }
        UpdateBatch batch = new UpdateBatch(updates);
        FloatVector result = FloatVector.allocate(elements, Files.createDirectories(dataDir));
        try (Backend cpu = Backends.open("cpu")) {
            for (int round = 0; round < 10; round++) {
                cpu.aggregate(new RuleSpec.FedAvg(new double[] {1, 2}), batch, result);
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        System.gc(); // frees the warm-up's buffers and mapping before anything is measured
        return seconds;
    }

    private void serve() throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        try {
            for (String line; (line = in.readLine()) != null; ) {
                String[] words = line.strip().split("\\s+", 2);
                try {
                    switch (words[0]) {
                        case "phase" -> {
                            String name = words.length > 1 ? words[1] : "unnamed";
                            stopRecording();
                            sampler.begin(name);
                            if (jfrFile != null && name.equals("ingest")) {
                                recording = new Recording(Configuration.getConfiguration(HotSpots.SETTINGS));
                                recording.start();
                            }
                            reply("phase", Map.of("name", name));
                        }
                        case "report" -> reply("report", report());
                        case "aggregate" -> reply("aggregate", aggregate());
                        case "probe" -> reply("probe", probe());
                        case "quit" -> {
                            return;
                        }
                        default -> out.println("error unknown command " + words[0]);
                    }
                } catch (Exception e) {
                    e.printStackTrace(); // to the log; the reply carries the one-line reason
                    out.println("error " + e.toString().replace('\n', ' '));
                }
            }
        } finally {
            stopRecording();
            reply("exit", afterGc());
            sampler.close();
        }
    }

    /** Ends the JFR recording of the ingest phase, if one runs, and writes it to {@code --jfr}. */
    private void stopRecording() throws IOException {
        if (recording != null) {
            recording.stop();
            recording.dump(jfrFile);
            recording.close();
            recording = null;
        }
    }

    private void reply(String command, Map<String, String> values) {
        StringBuilder line = new StringBuilder(command);
        values.forEach((key, value) -> line.append(' ').append(key).append('=').append(value.replace(' ', '_')));
        out.println(line);
    }

    private Map<String, String> report() {
        Map<String, String> values = new LinkedHashMap<>(sampler.report());
        values.put("admitted", Integer.toString(gate.contributions().size()));
        Counter bytes = server.metrics().registry().find(GrpcMetrics.INGEST_BYTES).counter();
        values.put("ingested_bytes", Long.toString(bytes == null ? 0 : (long) bytes.count()));
        return values;
    }

    /** Fedavg of the admitted updates, weighted by their samples, written in their own dtype. */
    private Map<String, String> aggregate() throws IOException {
        long started = System.nanoTime();
        long lastAdmitted = gate.lastContributionNanos();
        List<Contribution> contributions = new ArrayList<>(gate.contributions());
        if (contributions.isEmpty()) {
            throw new IllegalStateException("no update was admitted to round " + ROUND);
        }
        contributions.sort(Comparator.comparing(c -> c.key().nodeId()));
        List<Update> updates = new ArrayList<>();
        double[] weights = new double[contributions.size()];
        for (int i = 0; i < weights.length; i++) {
            updates.add(UpdateFiles.open(contributions.get(i).file()));
            weights[i] = contributions.get(i).numSamples();
        }
        UpdateBatch batch = new UpdateBatch(updates);
        ElementType type = batch.layout().get(0).type();
        Path target = dataDir.resolve("aggregate-round-" + ROUND + ".safetensors");
        long computed;
        try (Backend cpu = Backends.open("cpu")) {
            FloatVector result = FloatVector.allocate(batch.dimension(), dataDir);
            cpu.aggregate(new RuleSpec.FedAvg(weights), batch, result);
            computed = System.nanoTime();
            ModelFiles.write(target, batch.layout(), result, type, Map.of("murmur.rule", "fedavg"));
        }
        long written = System.nanoTime();
        Map<String, String> values = new LinkedHashMap<>();
        values.put("updates", Integer.toString(batch.size()));
        values.put("coordinates", Long.toString(batch.dimension()));
        values.put("dtype", type.name());
        values.put("compute_s", ResourceSampler.seconds(computed - started));
        values.put("write_s", ResourceSampler.seconds(written - computed));
        values.put("aggregate_s", ResourceSampler.seconds(written - started));
        values.put("since_last_admission_s", ResourceSampler.seconds(written - lastAdmitted));
        values.put("bytes", Long.toString(Files.size(target)));
        return values;
    }

    /** Single-thread GB/s of the three per-byte costs of an upload outside the transport. */
    private Map<String, String> probe() throws IOException {
        List<Contribution> contributions = gate.contributions();
        if (contributions.isEmpty()) {
            throw new IllegalStateException("probe needs an admitted update to scan");
        }
        Path update = contributions.get(0).file();
        long bytes = Math.min(Files.size(update), 1L << 30);
        byte[] random = new byte[PROBE_CHUNK];
        ThreadLocalRandom.current().nextBytes(random);
        ByteBuffer direct = ByteBuffer.allocateDirect(PROBE_CHUNK).put(random).flip();
        Map<String, String> values = new LinkedHashMap<>();
        values.put("bytes", Long.toString(bytes));

        MessageDigest sha256 = sha256();
        long t0 = System.nanoTime();
        for (long done = 0; done < bytes; done += PROBE_CHUNK) {
            sha256.update(direct.duplicate());
        }
        sha256.digest();
        values.put("sha256_gbps", gbps(bytes, System.nanoTime() - t0));

        Path scratch = Files.createTempFile(dataDir, ".probe-", ".bin");
        try (FileChannel channel = FileChannel.open(scratch, StandardOpenOption.WRITE)) {
            t0 = System.nanoTime();
            long unsynced = 0;
            for (long at = 0; at < bytes; at += PROBE_CHUNK) {
                ByteBuffer chunk = direct.duplicate();
                for (long position = at; chunk.hasRemaining(); ) {
                    position += channel.write(chunk, position);
                }
                unsynced += PROBE_CHUNK;
                if (unsynced >= PROBE_SYNC_BYTES) {
                    channel.force(false);
                    unsynced = 0;
                }
            }
            channel.force(true);
            values.put("store_write_gbps", gbps(bytes, System.nanoTime() - t0));
        } finally {
            Files.deleteIfExists(scratch);
        }

        // Memory the process has never touched: zeroing it faults every page in. On a VM that
        // hands freed pages back to its host this costs far more than on bare metal, and every
        // page of a new file in the page cache pays the same price.
        t0 = System.nanoTime();
        ByteBuffer fresh = ByteBuffer.allocateDirect(PROBE_FRESH_BYTES);
        values.put("fresh_memory_gbps", gbps(fresh.capacity(), System.nanoTime() - t0));

        UpdateBatch scanned = UpdateBatch.of(UpdateFiles.open(update));
        float[] tile = new float[16 * 1024]; // UpdateValidator's tile
        long elements = scanned.dimension();
        t0 = System.nanoTime();
        for (long at = 0; at < elements; at += tile.length) {
            scanned.read(0, at, (int) Math.min(tile.length, elements - at), tile, 0);
        }
        long scanNanos = System.nanoTime() - t0;
        values.put("finite_scan_gbps", gbps(Files.size(update), scanNanos));
        return values;
    }

    /**
     * GCs, each followed by a pause for the cleaner to unmap the mappings it freed, until the count
     * of mappings stops falling (at most five); then the live heap and the RSS.
     */
    private Map<String, String> afterGc() {
        BufferPoolMXBean mapped = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(pool -> pool.getName().equals("mapped")).findFirst().orElseThrow();
        long before = Long.MAX_VALUE;
        for (int i = 0; i < 5 && mapped.getCount() < before; i++) {
            before = mapped.getCount();
            System.gc();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        Map<String, String> now = sampler.report();
        Map<String, String> values = new LinkedHashMap<>();
        for (String key : new String[] {"heap_now_mib", "heap_max_mib", "rss_now_mib", "rss_anon_now_mib",
                "rss_file_now_mib", "mapped_buffers", "mapped_mib"}) {
            values.put(key, now.getOrDefault(key, "0"));
        }
        return values;
    }

    private static String gbps(long bytes, long nanos) {
        return String.format(Locale.ROOT, "%.3f", bytes / (double) nanos);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The round engine's answers, plus when the last update was admitted. */
    private static final class TimedGate implements RoundGate {
        private final StaticRoundGate rounds;
        private volatile long lastContribution;

        TimedGate(StaticRoundGate rounds) {
            this.rounds = rounds;
        }

        List<Contribution> contributions() {
            return rounds.contributions(TASK, ROUND);
        }

        long lastContributionNanos() {
            return lastContribution;
        }

        @Override
        public Optional<PublicKey> publicKey(NodeId node) {
            return rounds.publicKey(node);
        }

        @Override
        public Optional<ModelSchema> schema(String taskId) {
            return rounds.schema(taskId);
        }

        @Override
        public UploadVerdict checkUpload(String taskId, long round, NodeId node) {
            return rounds.checkUpload(taskId, round, node);
        }

        @Override
        public void contributed(Contribution contribution) {
            rounds.contributed(contribution);
            lastContribution = System.nanoTime();
        }
    }
}
