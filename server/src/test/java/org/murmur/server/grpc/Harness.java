package org.murmur.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.murmur.proto.Wire;
import org.murmur.proto.v1.MurmurGrpc;
import org.murmur.proto.v1.PushUpdateRequest;
import org.murmur.proto.v1.PutModelRequest;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.UploadReceipt;
import org.murmur.server.store.UpdateKey;

/**
 * A started server with a task and its rounds, three registered nodes, an admin and a client
 * channel. Task {@link #TASK}: round 0 open (proposers alice and carol), round 1 pending, round 2
 * closed, round 3 open (proposer alice). Alice and bob are staked; carol is registered but not
 * staked. The admin (the server's only admin) has no registered key.
 */
final class Harness implements AutoCloseable {
    static final String TASK = "mnist";
    static final Duration WAIT = Duration.ofSeconds(20);

    final StaticRoundGate gate = new StaticRoundGate();
    final InMemoryModelCatalog catalog = new InMemoryModelCatalog();
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    final TestNode alice;
    final TestNode bob;
    final TestNode carol;
    final TestNode admin;
    private final Path dataDir;
    private final Consumer<ServerConfig.Builder> settings;
    final ServerConfig config;
    final MurmurServer server;
    final ManagedChannel channel;
    final MurmurGrpc.MurmurStub async;
    final MurmurGrpc.MurmurBlockingStub blocking;

    private Harness(Path dataDir, Consumer<ServerConfig.Builder> settings, boolean netty) throws IOException {
        this(dataDir, settings, netty, new TestNode(), new TestNode(), new TestNode(), new TestNode());
    }

    private Harness(Path dataDir, Consumer<ServerConfig.Builder> settings, boolean netty, TestNode alice,
                    TestNode bob, TestNode carol, TestNode admin) throws IOException {
        this.dataDir = dataDir;
        this.settings = settings;
        this.alice = alice;
        this.bob = bob;
        this.carol = carol;
        this.admin = admin;
        ServerConfig.Builder builder = ServerConfig.builder(dataDir).port(0).syncIntervalBytes(Wire.CHUNK_BYTES)
                .idleTimeout(Duration.ofSeconds(30)).admins(Set.of(admin.id()));
        settings.accept(builder);
        config = builder.build();
        gate.addTask(TASK, TestModels.SCHEMA);
        for (TestNode node : List.of(alice, bob, carol)) {
            gate.registerKey(node.keys.publicKey());
        }
        gate.stake(TASK, alice.id(), bob.id());
        for (long round = 0; round <= 3; round++) {
            gate.addRound(TASK, round);
        }
        gate.openRound(TASK, 0);
        gate.addProposers(TASK, 0, alice.id(), carol.id());
        gate.openRound(TASK, 2);
        gate.addProposers(TASK, 2, alice.id());
        gate.closeRound(TASK, 2);
        gate.openRound(TASK, 3);
        gate.addProposers(TASK, 3, alice.id());
        if (netty) {
            server = MurmurServer.start(config, gate, catalog, meters);
            channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
                    .maxInboundMessageSize(Wire.MAX_MESSAGE_BYTES)
                    .build();
        } else {
            String name = InProcessServerBuilder.generateName();
            server = MurmurServer.start(InProcessServerBuilder.forName(name), config, gate, catalog, meters);
            channel = InProcessChannelBuilder.forName(name).maxInboundMessageSize(Wire.MAX_MESSAGE_BYTES).build();
        }
        async = MurmurGrpc.newStub(channel);
        blocking = MurmurGrpc.newBlockingStub(channel).withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    static Harness inProcess(Path dataDir) throws IOException {
        return new Harness(dataDir, b -> { }, false);
    }

    static Harness inProcess(Path dataDir, Consumer<ServerConfig.Builder> settings) throws IOException {
        return new Harness(dataDir, settings, false);
    }

    static Harness netty(Path dataDir) throws IOException {
        return new Harness(dataDir, b -> { }, true);
    }

    static Harness netty(Path dataDir, Consumer<ServerConfig.Builder> settings) throws IOException {
        return new Harness(dataDir, settings, true);
    }

    /**
     * Stops this in-process server at once (calls in progress are cancelled, as by a crash of the
     * connection) and starts a new one on the same data directory with the same nodes and rounds.
     */
    Harness restart() throws IOException {
        channel.shutdownNow();
        server.close(Duration.ZERO);
        return new Harness(dataDir, settings, false, alice, bob, carol, admin);
    }

    /** Starts a PushUpdate call sending {@code messages} with manual flow control. */
    Uploader push(List<PushUpdateRequest> messages, boolean halfClose) {
        Uploader uploader = new Uploader(messages, halfClose);
        async.pushUpdate(uploader);
        return uploader;
    }

    UploadReceipt pushAll(List<PushUpdateRequest> messages) throws Exception {
        return await(push(messages, true).result);
    }

    /** Starts a PutModel call sending {@code messages} with manual flow control. */
    ClientUpload<PutModelRequest> put(List<PutModelRequest> messages, boolean halfClose) {
        ClientUpload<PutModelRequest> uploader = new ClientUpload<>(messages, halfClose, null,
                m -> m.getChunk().getData().size());
        async.putModel(uploader);
        return uploader;
    }

    UploadReceipt putAll(List<PutModelRequest> messages) throws Exception {
        return await(put(messages, true).result);
    }

    static <T> T await(Future<T> future) throws Exception {
        return future.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    static UpdateKey key(TestNode node, long round) {
        return new UpdateKey(TASK, round, node.id().hex());
    }

    double ingestRefusals(RefusalReason reason) {
        Counter counter = meters.find(GrpcMetrics.INGEST_REFUSALS).tag("reason", reason.name()).counter();
        return counter == null ? 0 : counter.count();
    }

    double modelRefusals(RefusalReason reason) {
        Counter counter = meters.find(GrpcMetrics.MODEL_REFUSALS).tag("reason", reason.name()).counter();
        return counter == null ? 0 : counter.count();
    }

    double counter(String name) {
        return meters.get(name).counter().count();
    }

    /** Waits (polling every millisecond) until {@code condition} holds; fails after {@link #WAIT}. */
    static void until(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(1);
        }
    }

    /**
     * Asserts that {@code call} failed with {@code code}, the {@code reason} trailer and a
     * description holding every fragment; returns the description.
     */
    static String assertRefused(Future<?> call, Status.Code code, RefusalReason reason, String... fragments) {
        ExecutionException failure = assertThrows(ExecutionException.class,
                () -> call.get(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        return assertRefused(failure.getCause(), code, reason, fragments);
    }

    static String assertRefused(Throwable t, Status.Code code, RefusalReason reason, String... fragments) {
        StatusRuntimeException e = assertInstanceOf(StatusRuntimeException.class, t);
        String description = e.getStatus().getDescription();
        assertEquals(code, e.getStatus().getCode(), description);
        assertNotNull(e.getTrailers(), "trailers");
        assertEquals(reason.name(), e.getTrailers().get(Wire.REFUSAL_REASON), description);
        for (String fragment : fragments) {
            assertTrue(description.contains(fragment), "expected '" + fragment + "' in: " + description);
        }
        return description;
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.close();
    }
}
