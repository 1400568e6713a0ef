package org.murmur.server.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.murmur.proto.Wire;
import org.murmur.proto.safetensors.SafetensorsWriter;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.safetensors.TensorHeader;
import org.murmur.proto.v1.MurmurGrpc;
import org.murmur.proto.v1.PushUpdateRequest;
import org.murmur.proto.v1.TensorSpec;
import org.murmur.proto.v1.UpdateHeader;
import org.murmur.proto.v1.UploadReceipt;
import org.murmur.server.model.ModelSchema;

/**
 * Coverage-guided fuzzing of PushUpdate's header and chunk handling, in-process against one
 * server kept for the whole run. Each input is one to three calls by a fresh registered proposer
 * (so every input has its own update key): a header with fuzzed fields, signed with the node's
 * key so the fuzzer gets past the signature, then chunks with fuzzed offsets, lengths and bytes
 * of a small update. The input that decides nothing (all zeros) is the honest client: the whole
 * valid file in one chunk.
 *
 * <p>Invariants: every call ends, with OK or with a refusal carrying the {@code murmur-refusal}
 * trailer (never INTERNAL, UNKNOWN or a bare status), and the update store never publishes a
 * complete update whose bytes do not hash to the SHA-256 of the header that uploaded it.
 */
class UploadFuzzTest {
    private static final String TASK = "fuzz";
    private static final long ROUND = 0;
    private static final List<TensorHeader> TENSORS = List.of(
            new TensorHeader("b", TensorDtype.F16, new long[] {3}),
            new TensorHeader("w", TensorDtype.F32, new long[] {2, 2}));
    private static final ModelSchema SCHEMA = ModelSchema.of(TENSORS);
    private static final Duration CALL_LIMIT = Duration.ofSeconds(20);

    private static Path dataDir;
    private static byte[] validFile;
    private static StaticRoundGate gate;
    private static MurmurServer server;
    private static ManagedChannel channel;
    private static MurmurGrpc.MurmurStub stub;
    /** Held so that its level stays set: the server logs every refusal, and most inputs are refused. */
    private static final Logger SERVER_LOG = Logger.getLogger("org.murmur.server");

    @BeforeAll
    static void startServer() throws IOException {
        SERVER_LOG.setLevel(Level.SEVERE);
        Path shm = Path.of("/dev/shm");
        // tmpfs where there is one: the store fsyncs every file, which is no part of what is fuzzed.
        dataDir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "upload-fuzz")
                : Files.createTempDirectory("upload-fuzz");
        Path model = dataDir.resolve("valid.safetensors");
        SafetensorsWriter.write(model, Map.of(), TENSORS, (tensor, out) -> {
            ByteBuffer bytes = ByteBuffer.allocate((int) tensor.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
            while (bytes.hasRemaining()) {
                bytes.put((byte) (tensor.dtype() == TensorDtype.F16 ? 0x3C : 0x00)); // finite values
            }
            out.write(bytes.flip());
        });
        validFile = Files.readAllBytes(model);
        Files.delete(model);
        gate = new StaticRoundGate();
        gate.addTask(TASK, SCHEMA);
        gate.addRound(TASK, ROUND);
        gate.openRound(TASK, ROUND);
        ServerConfig config = ServerConfig.builder(dataDir).port(0).syncIntervalBytes(Wire.CHUNK_BYTES)
                .idleTimeout(Duration.ofSeconds(30)).admins(Set.of(new TestNode().id())).build();
        String name = InProcessServerBuilder.generateName();
        server = MurmurServer.start(InProcessServerBuilder.forName(name), config, gate, new InMemoryModelCatalog(),
                new SimpleMeterRegistry());
        channel = InProcessChannelBuilder.forName(name).maxInboundMessageSize(Wire.MAX_MESSAGE_BYTES).build();
        stub = MurmurGrpc.newStub(channel);
    }

    @AfterAll
    static void stopServer() throws IOException {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (server != null) {
            server.close();
        }
        if (dataDir != null) {
            try (Stream<Path> paths = Files.walk(dataDir)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @FuzzTest
    void pushUpdate(FuzzedDataProvider data) throws Exception {
        TestNode node = new TestNode();
        gate.registerKey(node.keys.publicKey());
        gate.stake(TASK, node.id());
        gate.addProposers(TASK, ROUND, node.id());
        Path dir = dataDir.resolve("updates").resolve(TASK).resolve(Long.toString(ROUND));
        Path complete = dir.resolve(node.id().hex() + ".safetensors");
        Path partial = dir.resolve(node.id().hex() + ".safetensors.partial");
        try {
            byte[] file = file(data);
            int calls = 1 + data.consumeInt(0, 2);
            for (int call = 0; call < calls; call++) {
                boolean existed = Files.exists(complete);
                UpdateHeader header = header(data, node, file);
                List<PushUpdateRequest> messages = new ArrayList<>();
                messages.add(TestNode.message(header));
                long next = header.getResume() && Files.exists(partial) ? Files.size(partial) : 0;
                chunks(data, file, next, messages);
                UploadReceipt receipt = outcome(messages);
                if (receipt != null && receipt.getComplete()) {
                    assertTrue(Files.exists(complete), "a complete receipt for an update the store does not hold");
                    assertEquals(header.getSha256(), receipt.getSha256());
                }
                if (Files.exists(complete) && !existed) {
                    assertArrayEquals(header.getSha256().toByteArray(), TestModels.sha256(Files.readAllBytes(complete)),
                            "the store published bytes that do not hash to the announced SHA-256");
                }
            }
        } finally {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path p : files.filter(p -> p.getFileName().toString().startsWith(node.id().hex())).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (java.nio.file.NoSuchFileException nothingStored) {
                // no upload got as far as the store
            }
        }
    }

    /** The file the client means to send: the valid update, patched, cut or extended, or any bytes. */
    private static byte[] file(FuzzedDataProvider data) {
        switch (data.consumeInt(0, 3)) {
            case 0 -> {
                return validFile;
            }
            case 1 -> {
                byte[] patched = validFile.clone();
                for (int i = data.consumeInt(1, 4); i > 0; i--) {
                    patched[data.consumeInt(0, patched.length - 1)] = data.consumeByte();
                }
                return patched;
            }
            case 2 -> {
                byte[] resized = Arrays.copyOf(validFile, data.consumeInt(1, validFile.length + 16));
                if (resized.length > validFile.length) {
                    byte[] extra = data.consumeBytes(resized.length - validFile.length);
                    System.arraycopy(extra, 0, resized, validFile.length, extra.length);
                }
                return resized;
            }
            default -> {
                byte[] any = data.consumeBytes(data.consumeInt(1, 512));
                return any.length == 0 ? new byte[] {0} : any;
            }
        }
    }

    /** A signed header: each field the honest one or fuzzed; rarely, one changed after signing. */
    private static UpdateHeader header(FuzzedDataProvider data, TestNode node, byte[] file) {
        UpdateHeader.Builder h = UpdateHeader.newBuilder()
                .setTaskId(data.consumeInt(0, 7) == 7 ? data.consumeString(20) : TASK)
                .setRound(data.consumeInt(0, 7) == 7 ? data.consumeLong() : ROUND)
                .addAllManifest(manifest(data))
                .setTotalBytes(data.consumeInt(0, 3) == 3 ? data.consumeLong() : file.length)
                .setNumSamples(data.consumeInt(0, 7) == 7 ? data.consumeLong() : 7)
                .setResume(data.consumeBoolean());
        switch (data.consumeInt(0, 7)) {
            case 6 -> h.setSha256(ByteString.copyFrom(data.consumeBytes(32)));
            case 7 -> h.setSha256(ByteString.copyFrom(data.consumeBytes(data.consumeInt(0, 40))));
            default -> h.setSha256(ByteString.copyFrom(TestModels.sha256(file)));
        }
        UpdateHeader signed = node.sign(h);
        if (data.consumeInt(0, 15) == 15) {
            return signed.toBuilder().setTotalBytes(signed.getTotalBytes() + 1).build(); // BAD_SIGNATURE
        }
        return signed;
    }

    private static List<TensorSpec> manifest(FuzzedDataProvider data) {
        List<TensorSpec> specs = new ArrayList<>(SCHEMA.toProto());
        switch (data.consumeInt(0, 7)) {
            case 4 -> specs.set(0, specs.get(0).toBuilder().setDtypeValue(data.consumeInt(-1, 5)).build());
            case 5 -> specs.set(1, specs.get(1).toBuilder().setShape(data.consumeInt(0, 1), data.consumeLong()).build());
            case 6 -> specs.add(specs.get(data.consumeInt(0, 1)).toBuilder().setName(data.consumeString(8)).build());
            case 7 -> specs.clear();
            default -> {
            }
        }
        return specs;
    }

    /**
     * Chunks from {@code next}: none fuzzed means the rest of the file in one chunk; otherwise up
     * to six, each at the expected offset or a fuzzed one, of fuzzed length, with the file's bytes
     * there (fuzzed bytes past its end).
     */
    private static void chunks(FuzzedDataProvider data, byte[] file, long next, List<PushUpdateRequest> messages) {
        int count = data.consumeInt(0, 6);
        if (count == 0) {
            if (next < file.length) {
                messages.add(TestNode.chunk(file, next, (int) (file.length - next)));
            }
            return;
        }
        for (int i = 0; i < count; i++) {
            long offset = switch (data.consumeInt(0, 7)) {
                case 6 -> next + data.consumeInt(-8, 8);
                case 7 -> data.consumeLong();
                default -> next;
            };
            int length = data.consumeInt(0, 64);
            byte[] bytes = new byte[length];
            for (int j = 0; j < length; j++) {
                long at = offset + j;
                bytes[j] = at >= 0 && at < file.length ? file[(int) at] : data.consumeByte();
            }
            messages.add(PushUpdateRequest.newBuilder().setChunk(org.murmur.proto.v1.Chunk.newBuilder()
                    .setOffset(offset).setData(ByteString.copyFrom(bytes))).build());
            next = offset + length;
        }
    }

    /** Runs one call; its receipt, or null after a refusal that passed the checks. */
    private static UploadReceipt outcome(List<PushUpdateRequest> messages) throws Exception {
        Uploader uploader = new Uploader(messages, true);
        stub.pushUpdate(uploader);
        try {
            return uploader.result.get(CALL_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            uploader.cancel();
            throw new AssertionError("the call did not end within " + CALL_LIMIT, e);
        } catch (ExecutionException e) {
            StatusRuntimeException refusal = (StatusRuntimeException) e.getCause();
            Status status = refusal.getStatus();
            assertNotEquals(Status.Code.INTERNAL, status.getCode(), status::toString);
            assertNotEquals(Status.Code.UNKNOWN, status.getCode(), status::toString);
            assertNotNull(refusal.getTrailers(), status::toString);
            String reason = refusal.getTrailers().get(Wire.REFUSAL_REASON);
            assertNotNull(reason, () -> "a failure without the refusal trailer: " + status);
            assertFalse(reason.isEmpty(), status::toString);
            return null;
        }
    }
}
