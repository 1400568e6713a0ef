package org.murmur.server.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.proto.TensorSpecs;
import org.murmur.proto.Wire;
import org.murmur.proto.client.MurmurClient;
import org.murmur.proto.client.RoundClient;
import org.murmur.proto.client.UpdateUpload;
import org.murmur.proto.identity.NodeKeys;
import org.murmur.proto.safetensors.SafetensorsWriter;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.safetensors.TensorHeader;
import org.murmur.proto.v1.GetUploadOffsetRequest;
import org.murmur.proto.v1.MurmurGrpc;
import org.murmur.proto.v1.Phase;
import org.murmur.proto.v1.Role;
import org.murmur.proto.v1.TaskInfo;
import org.murmur.proto.v1.TaskParams;
import org.murmur.proto.v1.UpdateKey;
import org.murmur.proto.v1.UploadOffset;
import org.murmur.server.economics.Tokens;

/**
 * {@code murmur serve} in its own process, killed with SIGKILL in the middle of an upload and
 * restarted on the same data directory and port: the update acknowledged before the kill is intact,
 * the interrupted one is not taken for complete, the node's SDK resumes it from the durable offset
 * by itself, and the task carries on in the same phase.
 */
class ServeCrashTest {
    private static final String TASK = "crash";
    private static final long ELEMENTS = 24L << 20; // 96 MiB of F32: six fsync intervals

    @TempDir
    Path dir;

    private Process server;
    private ManagedChannel channel;

    @AfterEach
    void stop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (server != null) {
            server.destroyForcibly();
        }
    }

    @Test
    void aKilledServerLosesNothingAcknowledgedAndTheUploadResumes() throws Exception {
        NodeKeys admin = NodeKeys.generate();
        Path adminKey = dir.resolve("admin.key");
        admin.save(adminKey);
        Path data = dir.resolve("data");
        int port = freePort();
        server = start(data, port, adminKey);
        channel = ManagedChannelBuilder.forAddress("localhost", port).usePlaintext()
                .maxInboundMessageSize(Wire.MAX_MESSAGE_BYTES).build();

        List<TensorHeader> schema = List.of(new TensorHeader("w", TensorDtype.F32, new long[] {ELEMENTS}));
        Path initial = write(dir.resolve("initial.safetensors"), schema, 0);
        Path models = data.resolve("models");
        String initialHex = HexFormat.of().formatHex(sha256(initial));
        Files.copy(initial, models.resolve(initialHex + ".safetensors"));
        TaskParams params = TaskParams.newBuilder().setTotalRounds(1).setMinParticipants(3).setProposerFraction("0.5")
                .addModelSchema(TensorSpecs.of("w", TensorDtype.F32, new long[] {ELEMENTS}))
                .setInitialModelSha256(ByteString.copyFrom(sha256(initial))).build();
        new RoundClient(channel, admin).createTask(TASK, params);
        List<NodeKeys> nodes = List.of(NodeKeys.generate(), NodeKeys.generate(), NodeKeys.generate());
        List<NodeKeys> proposers = new ArrayList<>();
        for (NodeKeys node : nodes) {
            RoundClient client = new RoundClient(channel, node);
            client.stake(TASK, Tokens.of(64));
            client.join(TASK, 0);
        }
        for (NodeKeys node : nodes) {
            if (new RoundClient(channel, node).assignment(TASK, 0).getRole() == Role.ROLE_PROPOSER) {
                proposers.add(node);
            }
        }
        assertEquals(2, proposers.size());

        MurmurClient sdk = MurmurClient.builder(channel).maxAttempts(200).retryBackoff(Duration.ofMillis(100)).build();
        Path first = write(dir.resolve("first.safetensors"), schema, 1);
        sdk.pushUpdate(new UpdateUpload(proposers.get(0), TASK, 0, first, 10));

        Path second = write(dir.resolve("second.safetensors"), schema, 2);
        CompletableFuture<Boolean> upload = CompletableFuture.supplyAsync(() -> {
            try {
                return sdk.pushUpdate(new UpdateUpload(proposers.get(1), TASK, 0, second, 10)).getComplete();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        UpdateKey key = UpdateKey.newBuilder().setTaskId(TASK).setRound(0).setNodeId(proposers.get(1).nodeId().hex())
                .build();
        MurmurGrpc.MurmurBlockingStub stub = MurmurGrpc.newBlockingStub(channel);
        long durableBeforeKill = awaitDurable(stub, key, 32L << 20);
        server.destroyForcibly().waitFor(30, TimeUnit.SECONDS);

        server = start(data, port, adminKey);
        UploadOffset afterRestart = offset(stub.withWaitForReady().withDeadlineAfter(30, TimeUnit.SECONDS), key);
        assertTrue(afterRestart.getDurableBytes() >= durableBeforeKill || afterRestart.getComplete(),
                "durable bytes went back from " + durableBeforeKill + " to " + afterRestart.getDurableBytes());
        assertTrue(upload.get(120, TimeUnit.SECONDS));

        Path updates = data.resolve("updates").resolve(TASK).resolve("0");
        assertArrayEquals(sha256(first), sha256(updates.resolve(proposers.get(0).nodeId().hex() + ".safetensors")));
        assertArrayEquals(sha256(second), sha256(updates.resolve(proposers.get(1).nodeId().hex() + ".safetensors")));
        TaskInfo task = awaitPhase(new RoundClient(channel, admin), Phase.PHASE_COMMIT);
        assertEquals(0, task.getCurrentRound());
        try (var files = Files.list(updates)) {
            assertFalse(files.anyMatch(f -> !f.getFileName().toString().endsWith(".safetensors")),
                    "nothing but complete updates is left in " + updates);
        }
    }

    private static long awaitDurable(MurmurGrpc.MurmurBlockingStub stub, UpdateKey key, long atLeast)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            try {
                UploadOffset offset = offset(stub, key);
                assertFalse(offset.getComplete(), "the upload completed before the server could be killed");
                if (offset.getDurableBytes() >= atLeast) {
                    return offset.getDurableBytes();
                }
            } catch (io.grpc.StatusRuntimeException e) {
                // not begun yet
            }
            Thread.sleep(2);
        }
        throw new AssertionError("the upload never reached " + atLeast + " durable bytes");
    }

    private static UploadOffset offset(MurmurGrpc.MurmurBlockingStub stub, UpdateKey key) {
        return stub.getUploadOffset(GetUploadOffsetRequest.newBuilder().setUpdate(key).build());
    }

    private static TaskInfo awaitPhase(RoundClient client, Phase phase) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        TaskInfo info = client.task(TASK);
        while (info.getPhase() != phase && System.nanoTime() < deadline) {
            Thread.sleep(20);
            info = client.task(TASK);
        }
        assertEquals(phase, info.getPhase(), "the task never reached " + phase);
        return info;
    }

    private static Process start(Path data, int port, Path adminKey) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve",
                "--port", Integer.toString(port), "--data-dir", data.toString(), "--admin", adminKey.toString(),
                "--backend", "cpu");
        builder.redirectErrorStream(true);
        Process process = builder.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        List<String> seen = new ArrayList<>();
        String line;
        while ((line = out.readLine()) != null) {
            seen.add(line);
            if (line.startsWith("murmur: serving on port " + port)) {
                Thread drain = new Thread(() -> {
                    try {
                        while (out.readLine() != null) {
                            // keep the pipe from filling up
                        }
                    } catch (IOException ignored) {
                        // the process died
                    }
                });
                drain.setDaemon(true);
                drain.start();
                return process;
            }
        }
        throw new AssertionError("murmur serve did not start: " + seen);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static Path write(Path file, List<TensorHeader> schema, int seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        SafetensorsWriter.write(file, Map.of(), schema, (tensor, out) -> {
            ByteBuffer bytes = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (long i = 0; i < tensor.byteLength() / 4; i++) {
                bytes.putFloat((float) random.nextDouble());
                if (!bytes.hasRemaining()) {
                    bytes.flip();
                    while (bytes.hasRemaining()) {
                        out.write(bytes);
                    }
                    bytes.clear();
                }
            }
            bytes.flip();
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
        });
        return file;
    }

    private static byte[] sha256(Path file) {
        try (var in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 20];
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
            return digest.digest();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
