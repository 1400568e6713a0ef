package org.murmur.server.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.murmur.server.grpc.Harness.TASK;
import static org.murmur.server.grpc.Harness.key;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.proto.client.MurmurClient;
import org.murmur.proto.client.PullRequest;
import org.murmur.proto.client.RefusedException;
import org.murmur.proto.client.UpdateUpload;
import org.murmur.proto.v1.ModelInfo;
import org.murmur.proto.v1.MurmurGrpc;
import org.murmur.proto.v1.UploadReceipt;

/** The node client SDK (org.murmur.proto.client.MurmurClient) against the real server, in-process. */
class ClientSdkEndToEndTest {
    @TempDir
    Path dir;
    private Harness h;
    private MurmurClient client;

    @BeforeEach
    void setUp() throws Exception {
        h = Harness.inProcess(dir.resolve("data"));
        client = MurmurClient.builder(h.channel).maxAttempts(20).retryBackoff(Duration.ofMillis(50)).build();
    }

    @AfterEach
    void tearDown() {
        client.close();
        h.close();
    }

    @Test
    void pushesAnUpdateTheServerAdmits() throws Exception {
        Path file = TestModels.write(dir.resolve("update.safetensors"), 21);
        byte[] bytes = TestModels.read(file);

        UploadReceipt receipt = client.pushUpdate(new UpdateUpload(h.alice.keys, TASK, 0, file, 7));

        assertTrue(receipt.getComplete());
        assertEquals(bytes.length, receipt.getDurableBytes());
        assertArrayEquals(TestModels.sha256(bytes), receipt.getSha256().toByteArray());
        assertArrayEquals(bytes, Files.readAllBytes(h.server.updateStore().find(key(h.alice, 0)).orElseThrow()));
    }

    @Test
    void resumesAnUploadWhoseStreamIsCancelledMidway() throws Exception {
        Path file = TestModels.write(dir.resolve("update.safetensors"), 22);
        byte[] bytes = TestModels.read(file);
        AtomicBoolean cut = new AtomicBoolean();
        // cancels the first PushUpdate call after its header and three chunks, as a dropped connection would
        ClientInterceptor cutter = new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options,
                                                         Channel next) {
                ClientCall<Q, R> call = next.newCall(method, options);
                if (!method.equals(MurmurGrpc.getPushUpdateMethod()) || cut.get()) {
                    return call;
                }
                return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
                    int sent;

                    @Override
                    public void sendMessage(Q message) {
                        if (cut.get()) {
                            return;
                        }
                        super.sendMessage(message);
                        if (++sent == 4 && cut.compareAndSet(false, true)) {
                            cancel("test cuts the stream", null);
                        }
                    }
                };
            }
        };
        try (MurmurClient cutting = MurmurClient.builder(ClientInterceptors.intercept(h.channel, cutter))
                .maxAttempts(20).retryBackoff(Duration.ofMillis(50)).build()) {
            UploadReceipt receipt = cutting.pushUpdate(new UpdateUpload(h.alice.keys, TASK, 0, file, 7));
            assertTrue(receipt.getComplete());
        }

        assertTrue(cut.get());
        // resumed from the durable offset, not restarted: every byte was written to the update once
        assertEquals(bytes.length, (long) h.counter(GrpcMetrics.INGEST_BYTES), "bytes the server ingested");
        assertArrayEquals(bytes, Files.readAllBytes(h.server.updateStore().find(key(h.alice, 0)).orElseThrow()));
    }

    @Test
    void aRefusedUploadSurfacesTheServersReason() throws Exception {
        Path file = TestModels.write(dir.resolve("update.safetensors"), 23);

        RefusedException e = assertThrows(RefusedException.class,
                () -> client.pushUpdate(new UpdateUpload(h.bob.keys, TASK, 0, file, 7)));

        assertEquals(Status.Code.PERMISSION_DENIED, e.code());
        assertEquals("NOT_PROPOSER", e.reason());
        assertFalse(e.serverMessage().isEmpty());
    }

    @Test
    void pullsTheGlobalModelAndACandidateToFiles() throws Exception {
        Path initialFile = TestModels.write(dir.resolve("initial.safetensors"), 10);
        Path candidateFile = TestModels.write(dir.resolve("candidate.safetensors"), 11);
        h.catalog.setInitial(TASK, h.server.modelStore().put(initialFile));
        h.catalog.putCandidate(TASK, 0, h.server.modelStore().put(candidateFile));
        Path downloads = Files.createDirectories(dir.resolve("downloads"));

        ModelInfo global = client.pullModel(PullRequest.global(TASK), downloads.resolve("global.safetensors"));
        ModelInfo candidate = client.pullModel(PullRequest.candidate(TASK, 0),
                downloads.resolve("candidate.safetensors"));

        assertTrue(global.getInitial());
        assertArrayEquals(TestModels.read(initialFile), Files.readAllBytes(downloads.resolve("global.safetensors")));
        assertEquals(TestModels.SCHEMA.toProto(), global.getManifestList());
        assertEquals(0, candidate.getRound());
        assertArrayEquals(TestModels.read(candidateFile),
                Files.readAllBytes(downloads.resolve("candidate.safetensors")));
        try (var files = Files.list(downloads)) {
            assertEquals(2, files.count(), "no temporary file left");
        }
    }
}
