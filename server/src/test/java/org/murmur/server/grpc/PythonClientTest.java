package org.murmur.server.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.proto.Wire;
import org.murmur.proto.identity.CanonicalPayload;
import org.murmur.proto.identity.NodeId;
import org.murmur.proto.identity.NodeKeys;
import org.murmur.proto.identity.Purpose;
import org.murmur.proto.identity.SignatureVerifier;
import org.murmur.proto.v1.Auth;
import org.murmur.proto.v1.CommitVoteRequest;
import org.murmur.proto.v1.CreateTaskRequest;
import org.murmur.proto.v1.DType;
import org.murmur.proto.v1.Economics;
import org.murmur.proto.v1.JoinRequest;
import org.murmur.proto.v1.MetricDirection;
import org.murmur.proto.v1.ModelHeader;
import org.murmur.proto.v1.RevealVoteRequest;
import org.murmur.proto.v1.RuleSpec;
import org.murmur.proto.v1.StakeRequest;
import org.murmur.proto.v1.TaskParams;
import org.murmur.proto.v1.TensorSpec;
import org.murmur.proto.v1.UpdateHeader;
import org.murmur.proto.v1.WithdrawRequest;

/**
 * The Python example node client (examples/python) against the Java side: its signatures and
 * canonical payloads byte for byte, its key files both ways, and its push, pull and refusal
 * handling against a real server over a socket, through a relay that breaks the first connection
 * midway so that both transfers must resume.
 *
 * <p>Runs /usr/bin/python3 (or $MURMUR_PYTHON). Skipped when that Python lacks grpc, protobuf or
 * cryptography, or no protoc 3.15+ is on the PATH, unless MURMUR_REQUIRE_PYTHON=1, where that
 * fails the test.
 */
class PythonClientTest {
    private static final String PYTHON = System.getenv().getOrDefault("MURMUR_PYTHON", "/usr/bin/python3");
    private static final String INSTALL = "apt-get install python3-grpcio python3-protobuf python3-cryptography "
            + "protobuf-compiler";
    private static final Duration PYTHON_LIMIT = Duration.ofSeconds(120);
    private static final String TASK = "mnist";

    private static Path examples;
    private static String problem;

    @TempDir
    static Path shared;

    @TempDir
    Path dir;
    private MurmurServer server;

    /** The outcome of one Python process. */
    record Run(int exit, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    /** Runs {@code murmur_node.py check} once; {@link #problem} says why the Python side cannot run, or is null. */
    @BeforeAll
    static void probePython() throws Exception {
        examples = findExamples();
        try {
            Run check = python(shared, "murmur_node.py", "check");
            problem = check.exit() == 0 ? null : check.stderr().strip();
        } catch (IOException e) {
            problem = "cannot run " + PYTHON + ": " + e.getMessage();
        }
    }

    /** Skips each test (so each is reported skipped, with the reason) or, under MURMUR_REQUIRE_PYTHON=1, fails it. */
    @BeforeEach
    void requirePython() {
        if (problem != null) {
            String message = "the Python example client cannot run (" + problem + "); on Debian 12: " + INSTALL;
            if ("1".equals(System.getenv("MURMUR_REQUIRE_PYTHON"))) {
                fail(message + " (MURMUR_REQUIRE_PYTHON=1)");
            }
            Assumptions.abort(message);
        }
    }

    @AfterEach
    void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    // -----------------------------------------------------------------------------------------
    // Signing

    /** One request to sign: the unsigned message and what Java verifies it as. */
    record Case(Message unsigned, Purpose purpose, String taskId, long round) {
    }

    @Test
    void pythonSignsEveryRequestTypeAsJavaDoes() throws Exception {
        NodeKeys keys = NodeKeys.generate();
        Path keyFile = dir.resolve("java.key");
        keys.save(keyFile); // a key file written by Java, read by Python
        Map<String, Case> cases = signingCases();
        Path vectors = Files.createDirectories(dir.resolve("vectors"));
        StringBuilder list = new StringBuilder();
        for (Map.Entry<String, Case> c : cases.entrySet()) {
            Files.write(vectors.resolve(c.getKey() + ".in"), c.getValue().unsigned().toByteArray());
            list.append(c.getKey()).append(' ').append(c.getValue().unsigned().getDescriptorForType().getFullName())
                    .append('\n');
        }
        Files.writeString(vectors.resolve("cases.txt"), list);

        Run run = python(dir, "sign_vectors.py", "--key", keyFile.toString(), vectors.toString());
        assertEquals(0, run.exit(), run.toString());

        for (Map.Entry<String, Case> c : cases.entrySet()) {
            String name = c.getKey();
            Case expected = c.getValue();
            assertArrayEquals(CanonicalPayload.encode(expected.unsigned()),
                    Files.readAllBytes(vectors.resolve(name + ".payload")), name + ": canonical payload bytes");
            Message signed = expected.unsigned().getParserForType()
                    .parseFrom(Files.readAllBytes(vectors.resolve(name + ".signed")));
            FieldDescriptor authField = signed.getDescriptorForType().findFieldByName("auth");
            assertEquals(expected.unsigned(), signed.toBuilder().clearField(authField).build(),
                    name + ": Python changed nothing but auth");
            Auth auth = (Auth) signed.getField(authField);
            assertEquals(keys.nodeId().hex(), auth.getNodeId(), name);
            assertArrayEquals(keys.rawPublicKey(), auth.getPublicKey().toByteArray(), name);
            assertEquals(16, auth.getNonce().size(), name);
            SignatureVerifier.verify(expected.purpose(), expected.taskId(), expected.round(), signed, auth,
                    keys.publicKey());
        }
    }

    /** Every signed request type, with optional fields set to their defaults or absent, repeated,
     * nested and empty nested messages, enums, a negative sint32, doubles including -0.0, non-ASCII
     * text and a round above 2^63. */
    private static Map<String, Case> signingCases() {
        List<TensorSpec> manifest = List.of(
                TensorSpec.newBuilder().setName("dense.weight").setDtype(DType.DTYPE_F32).addShape(512).addShape(1024)
                        .build(),
                TensorSpec.newBuilder().setName("embed").setDtype(DType.DTYPE_BF16).addShape(1L << 40).build(),
                TensorSpec.newBuilder().setName("scale").setDtype(DType.DTYPE_F16).build());
        ByteString sha = ByteString.copyFrom(TestModels.sha256("model".getBytes(StandardCharsets.UTF_8)));
        Map<String, Case> cases = new LinkedHashMap<>();
        cases.put("update", new Case(UpdateHeader.newBuilder().setTaskId(TASK).setRound(3).addAllManifest(manifest)
                .setTotalBytes(5_558_016).setSha256(sha).setNumSamples(7).setResume(true).build(),
                Purpose.PUSH_UPDATE, TASK, 3));
        cases.put("update-top-round", new Case(UpdateHeader.newBuilder().setTaskId("t").setRound(-2L)
                .setNumSamples(1).build(), Purpose.PUSH_UPDATE, "t", -2L));
        cases.put("create-task", new Case(CreateTaskRequest.newBuilder().setTaskId("lora-7b")
                .setParams(TaskParams.newBuilder()
                        .setTotalRounds(0) // optional, set to its default: present
                        .setMinParticipants(3)
                        .setMinStake("10000000000000000000")
                        .setProposerFraction("0.2")
                        .setStakeWeightedVotes(false)
                        .setRule(RuleSpec.newBuilder().setName("krum").setF(1).setC(-0.0).setTau(1e-300)
                                .setEps(Double.MIN_VALUE).setWeightBySamples(false))
                        .setEconomics(Economics.ECONOMICS_FIXED_PENALTY)
                        .setMetricDirection(MetricDirection.METRIC_DIRECTION_LOWER_IS_BETTER)
                        .addAllModelSchema(manifest)
                        .setInitialModelSha256(sha)
                        .setBaselineMetric(-0.25))
                .build(), Purpose.CREATE_TASK, "lora-7b", 0));
        cases.put("create-task-empty-rule", new Case(CreateTaskRequest.newBuilder()
                .setParams(TaskParams.newBuilder().setRule(RuleSpec.getDefaultInstance()).setBaselineMetric(0.0))
                .build(), Purpose.CREATE_TASK, "", 0));
        cases.put("put-model", new Case(ModelHeader.newBuilder().addAllManifest(manifest).setTotalBytes(1)
                .setSha256(sha).setResume(true).build(), Purpose.PUT_MODEL, "", 0));
        cases.put("stake", new Case(StakeRequest.newBuilder().setTaskId("tâche-ü✓🌍")
                .setAmount("1000000000000000000").build(), Purpose.STAKE, "tâche-ü✓🌍", 0));
        cases.put("join", new Case(JoinRequest.newBuilder().setTaskId(TASK).setRound(2).build(),
                Purpose.JOIN, TASK, 2));
        cases.put("commit", new Case(CommitVoteRequest.newBuilder().setTaskId(TASK).setRound(4)
                .setCommitment(sha).build(), Purpose.COMMIT_VOTE, TASK, 4));
        cases.put("reveal", new Case(RevealVoteRequest.newBuilder().setTaskId(TASK).setRound(5).setScore(-1)
                .setMetric(0.8125).setSalt(ByteString.copyFrom(new byte[] {0, -1, 2, -3, 4, -5, 6, -7, 8, -9, 10,
                        -11, 12, -13, 14, -15})).build(), Purpose.REVEAL_VOTE, TASK, 5));
        cases.put("reveal-negative-zero", new Case(RevealVoteRequest.newBuilder().setTaskId(TASK).setScore(1)
                .setMetric(-0.0).build(), Purpose.REVEAL_VOTE, TASK, 0));
        cases.put("reveal-defaults", new Case(RevealVoteRequest.newBuilder().setTaskId(TASK).setScore(0)
                .setMetric(0.0).build(), Purpose.REVEAL_VOTE, TASK, 0));
        cases.put("withdraw-empty", new Case(WithdrawRequest.getDefaultInstance(), Purpose.WITHDRAW, "", 0));
        return cases;
    }

    // -----------------------------------------------------------------------------------------
    // Against a server

    @Test
    void pushesAnUpdateAndPullsAModelResumingAfterBrokenConnections() throws Exception {
        NodeKeys node = keygen("node.key"); // a key file written by Python, read by Java
        StaticRoundGate gate = new StaticRoundGate();
        InMemoryModelCatalog catalog = new InMemoryModelCatalog();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        startServer(gate, catalog, meters, node);
        Path update = TestModels.write(dir.resolve("update.safetensors"), 31);
        byte[] updateBytes = Files.readAllBytes(update);

        Run push;
        try (CuttingRelay relay = new CuttingRelay(server.port(), 5L * Wire.CHUNK_BYTES / 2, true)) {
            push = python(dir, "murmur_node.py", "push", "--server", relay.address(), "--key",
                    dir.resolve("node.key").toString(), "--task", TASK, "--round", "0", "--samples", "7",
                    "--attempts", "20", update.toString());
            assertTrue(relay.didCut(), "the relay broke the upload's connection");
        }

        assertEquals(0, push.exit(), push.toString());
        assertTrue(push.stderr().contains("resuming the upload at byte"), push.toString());
        String receipt = push.stdout().strip();
        assertTrue(receipt.contains("\"complete\": true"), receipt);
        assertTrue(receipt.contains("\"durable_bytes\": " + updateBytes.length), receipt);
        assertTrue(receipt.contains(HexFormat.of().formatHex(TestModels.sha256(updateBytes))), receipt);
        List<Contribution> contributions = gate.contributions(TASK, 0);
        assertEquals(1, contributions.size(), contributions.toString());
        Contribution contribution = contributions.get(0);
        assertEquals(node.nodeId().hex(), contribution.key().nodeId());
        assertEquals(7, contribution.numSamples());
        assertArrayEquals(updateBytes, Files.readAllBytes(contribution.file()));
        // resumed from the durable offset, not restarted: every byte was written to the update once
        assertEquals(updateBytes.length, meters.get(GrpcMetrics.INGEST_BYTES).counter().count(), "bytes ingested");

        Path model = TestModels.write(dir.resolve("model.safetensors"), 32);
        catalog.setInitial(TASK, server.modelStore().put(model));
        Path pulled = Files.createDirectories(dir.resolve("pulled")).resolve("global.safetensors");
        Run pull;
        try (CuttingRelay relay = new CuttingRelay(server.port(), 5L * Wire.CHUNK_BYTES / 2, false)) {
            pull = python(dir, "murmur_node.py", "pull", "--server", relay.address(), "--task", TASK,
                    "--attempts", "20", pulled.toString());
            assertTrue(relay.didCut(), "the relay broke the download's connection");
        }

        assertEquals(0, pull.exit(), pull.toString());
        // The reset may discard every byte still in the client's socket buffer: on a loaded machine the
        // client has then written nothing and rightly starts over, so only the retry is certain.
        assertTrue(pull.stderr().contains("attempt 1 failed"), pull.toString());
        assertArrayEquals(Files.readAllBytes(model), Files.readAllBytes(pulled));
        assertTrue(pull.stdout().contains("\"initial\": true"), pull.stdout());
        assertTrue(pull.stdout().contains(HexFormat.of().formatHex(TestModels.sha256(Files.readAllBytes(model)))),
                pull.stdout());
        try (var files = Files.list(pulled.getParent())) {
            assertEquals(1, files.count(), "no temporary file left");
        }
    }

    @Test
    void printsARefusalOnOneLineAndExitsNonZero() throws Exception {
        NodeKeys proposer = keygen("proposer.key");
        NodeKeys stranger = keygen("stranger.key");
        StaticRoundGate gate = new StaticRoundGate();
        startServer(gate, new InMemoryModelCatalog(), new SimpleMeterRegistry(), proposer);
        gate.registerKey(stranger.publicKey());
        gate.stake(TASK, stranger.nodeId());
        Path update = TestModels.write(dir.resolve("update.safetensors"), 33);

        Run push = python(dir, "murmur_node.py", "push", "--server", "127.0.0.1:" + server.port(), "--key",
                dir.resolve("stranger.key").toString(), "--task", TASK, "--round", "0", "--samples", "7",
                update.toString());

        assertEquals(1, push.exit(), push.toString());
        assertEquals("", push.stdout(), push.toString());
        List<String> lines = push.stderr().strip().lines().toList();
        assertEquals(1, lines.size(), push.toString());
        assertTrue(lines.get(0).startsWith("murmur_node: push refused: PERMISSION_DENIED NOT_PROPOSER: "),
                lines.get(0));
        assertTrue(lines.get(0).contains(stranger.nodeId().hex()), lines.get(0));
        assertTrue(gate.contributions(TASK, 0).isEmpty());
    }

    /** A Netty server with task {@link #TASK} (the test schema), round 0 open, {@code proposer} staked and drawn. */
    private void startServer(StaticRoundGate gate, InMemoryModelCatalog catalog, SimpleMeterRegistry meters,
                             NodeKeys proposer) throws IOException {
        gate.addTask(TASK, TestModels.SCHEMA);
        NodeId id = gate.registerKey(proposer.publicKey());
        gate.stake(TASK, id);
        gate.addRound(TASK, 0);
        gate.openRound(TASK, 0);
        gate.addProposers(TASK, 0, id);
        ServerConfig config = ServerConfig.builder(dir.resolve("data")).port(0).syncIntervalBytes(Wire.CHUNK_BYTES)
                .idleTimeout(Duration.ofSeconds(30)).build();
        server = MurmurServer.start(config, gate, catalog, meters);
    }

    /** A key made by {@code murmur_node.py keygen}, loaded with Java's NodeKeys. */
    private NodeKeys keygen(String name) throws Exception {
        Path file = dir.resolve(name);
        Run run = python(dir, "murmur_node.py", "keygen", file.toString());
        assertEquals(0, run.exit(), run.toString());
        NodeKeys keys = NodeKeys.load(file);
        assertTrue(run.stdout().contains(keys.nodeId().hex()), run.stdout());
        return keys;
    }

    // -----------------------------------------------------------------------------------------
    // Helpers

    /** Runs an example script of examples/python; its output goes to files in {@code work}. */
    private static Run python(Path work, String script, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(PYTHON, examples.resolve(script).toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(work, "python", ".out");
        Path err = Files.createTempFile(work, "python", ".err");
        ProcessBuilder builder = new ProcessBuilder(command).directory(work.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        Process process = builder.start();
        if (!process.waitFor(PYTHON_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
            fail(script + " " + String.join(" ", args) + " ran past " + PYTHON_LIMIT + "\n"
                    + Files.readString(err));
        }
        return new Run(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    private static Path findExamples() {
        for (Path at = Path.of("").toAbsolutePath(); at != null; at = at.getParent()) {
            Path candidate = at.resolve("examples").resolve("python");
            if (Files.isRegularFile(candidate.resolve("murmur_node.py"))) {
                return candidate;
            }
        }
        throw new IllegalStateException("examples/python/murmur_node.py not found above "
                + Path.of("").toAbsolutePath());
    }

    /**
     * A TCP relay to a local port that resets its first connection once more than {@code cutAfter}
     * bytes have passed one way (client to server when {@code upstream}), as a dropped network
     * would; later connections pass untouched.
     */
    static final class CuttingRelay implements AutoCloseable {
        private final ServerSocket listener;
        private final int target;
        private final long cutAfter;
        private final boolean upstream;
        private final AtomicBoolean cut = new AtomicBoolean();
        private final List<Socket> sockets = new ArrayList<>();
        private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
            Thread thread = new Thread(r, "cutting-relay");
            thread.setDaemon(true);
            return thread;
        });

        CuttingRelay(int target, long cutAfter, boolean upstream) throws IOException {
            this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            this.target = target;
            this.cutAfter = cutAfter;
            this.upstream = upstream;
            threads.execute(this::accept);
        }

        String address() {
            return "127.0.0.1:" + listener.getLocalPort();
        }

        boolean didCut() {
            return cut.get();
        }

        private void accept() {
            try {
                while (true) {
                    Socket client = listener.accept();
                    Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
                    boolean first;
                    synchronized (sockets) {
                        first = sockets.isEmpty();
                        sockets.add(client);
                        sockets.add(server);
                    }
                    threads.execute(() -> pump(client, server, first && upstream));
                    threads.execute(() -> pump(server, client, first && !upstream));
                }
            } catch (IOException e) {
                // listener closed
            }
        }

        private void pump(Socket from, Socket to, boolean cutting) {
            byte[] buffer = new byte[64 * 1024];
            long passed = 0;
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    if (cutting && passed + n > cutAfter && cut.compareAndSet(false, true)) {
                        reset(from);
                        reset(to);
                        return;
                    }
                    out.write(buffer, 0, n);
                    passed += n;
                }
            } catch (IOException e) {
                // the other direction closed the pair
            }
            closeQuietly(from);
            closeQuietly(to);
        }

        private static void reset(Socket socket) {
            try {
                socket.setSoLinger(true, 0);
            } catch (IOException e) {
                // closed already
            }
            closeQuietly(socket);
        }

        private static void closeQuietly(Socket socket) {
            try {
                socket.close();
            } catch (IOException e) {
                // nothing left to do
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
            synchronized (sockets) {
                sockets.forEach(CuttingRelay::closeQuietly);
            }
            threads.shutdownNow();
        }
    }
}
