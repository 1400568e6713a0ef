package org.murmur.server.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.murmur.server.grpc.Harness.assertRefused;
import static org.murmur.server.grpc.Harness.await;
import static org.murmur.server.grpc.Harness.until;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.proto.Wire;
import org.murmur.proto.client.MurmurClient;
import org.murmur.proto.client.RefusedException;
import org.murmur.proto.safetensors.TensorHeader;
import org.murmur.proto.v1.GetUploadOffsetRequest;
import org.murmur.proto.v1.ModelHeader;
import org.murmur.proto.v1.MurmurGrpc;
import org.murmur.proto.v1.PutModelRequest;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.UploadOffset;
import org.murmur.proto.v1.UploadReceipt;
import org.murmur.server.store.Upload;

/** PutModel, and GetUploadOffset by model_sha256, in-process: an admin's model into the model store. */
class PutModelTest {
    private static final int CHUNK = Wire.CHUNK_BYTES;

    @TempDir
    Path dir;
    private Harness h;
    private byte[] file;
    private String hex;

    @BeforeEach
    void setUp() throws Exception {
        file = TestModels.read(TestModels.write(dir.resolve("initial.safetensors"), 31));
        hex = HexFormat.of().formatHex(TestModels.sha256(file));
        assertTrue(file.length > 5 * CHUNK, "several chunks");
        h = Harness.inProcess(dir.resolve("data"));
    }

    @AfterEach
    void tearDown() {
        h.close();
    }

    private UploadOffset offset(byte[] bytes) {
        return h.blocking.getUploadOffset(GetUploadOffsetRequest.newBuilder()
                .setModelSha256(ByteString.copyFrom(TestModels.sha256(bytes))).build());
    }

    private List<Path> storedModels() throws Exception {
        try (Stream<Path> files = Files.list(h.server.modelStore().root())) {
            return files.toList();
        }
    }

    private MurmurClient client(Channel channel) {
        return MurmurClient.builder(channel).maxAttempts(20).retryBackoff(Duration.ofMillis(50)).build();
    }

    // ---- accepted models ----

    @Test
    void aModelLandsByteIdenticalInTheModelStoreUnderItsHash() throws Exception {
        ClientUpload<PutModelRequest> uploader = new ClientUpload<>(
                ModelUploads.upload(ModelUploads.header(h.admin, file), file), true,
                () -> (long) h.counter(GrpcMetrics.INGEST_BYTES), m -> m.getChunk().getData().size());
        h.async.putModel(uploader);
        UploadReceipt receipt = await(uploader.result);
        assertNull(uploader.flowControlViolation(), uploader.flowControlViolation());

        assertTrue(receipt.getComplete());
        assertEquals(file.length, receipt.getDurableBytes());
        assertArrayEquals(TestModels.sha256(file), receipt.getSha256().toByteArray());
        assertArrayEquals(file, Files.readAllBytes(h.server.modelStore().find(hex).orElseThrow()));
        assertEquals(1, storedModels().size(), "no temporary left in the model store");
        assertTrue(h.server.updateStore().find(ModelTarget.key(hex)).isEmpty(), "moved out of the update store");
        Path uploads = h.server.updateStore().root().resolve(ModelTarget.UPLOADS_TASK).resolve("0");
        try (Stream<Path> left = Files.list(uploads)) {
            assertEquals(List.of(), left.toList(), "no partial or sidecar left");
        }
        assertEquals(1.0, h.counter(GrpcMetrics.INGEST_MODELS));
        assertEquals(0.0, h.counter(GrpcMetrics.INGEST_UPDATES));
        assertEquals(0, h.server.metrics().activeStreams());
        UploadOffset offset = offset(file);
        assertTrue(offset.getComplete());
        assertEquals(file.length, offset.getDurableBytes());
        assertEquals(file.length, offset.getTotalBytes());
    }

    @Test
    void puttingAStoredModelAgainIsAnsweredAtOnceWithoutItsBytes() throws Exception {
        assertTrue(h.putAll(ModelUploads.upload(ModelUploads.header(h.admin, file), file)).getComplete());
        double bytes = h.counter(GrpcMetrics.INGEST_BYTES);

        // a header alone, the stream left open: the server answers without waiting for chunks
        UploadReceipt again = await(h.put(List.of(ModelUploads.message(ModelUploads.header(h.admin, file))),
                false).result);
        assertTrue(again.getComplete());
        assertEquals(file.length, again.getDurableBytes());
        assertArrayEquals(TestModels.sha256(file), again.getSha256().toByteArray());
        try (MurmurClient client = client(h.channel)) {
            assertTrue(client.putModel(h.admin.keys, dir.resolve("initial.safetensors")).getComplete());
        }
        assertEquals(bytes, h.counter(GrpcMetrics.INGEST_BYTES), "no byte sent twice");
        assertEquals(1, storedModels().size());

        assertRefused(h.put(List.of(ModelUploads.message(ModelUploads.sign(h.admin,
                        ModelUploads.unsigned(file).setTotalBytes(file.length + 1)))), true).result,
                Status.Code.INVALID_ARGUMENT, RefusalReason.SIZE_MISMATCH, "stored with " + file.length + " bytes");
    }

    @Test
    void aModelLeftCompleteInTheUpdateStoreIsMovedByTheNextPut() throws Exception {
        // as a server stopped between publishing the upload and moving it into the model store
        try (Upload upload = h.server.updateStore().begin(ModelTarget.key(hex), file.length,
                TestModels.sha256(file))) {
            upload.write(0, ByteBuffer.wrap(file));
            upload.complete();
        }
        assertTrue(offset(file).getComplete());

        UploadReceipt receipt = await(h.put(List.of(ModelUploads.message(ModelUploads.header(h.admin, file))),
                false).result);
        assertTrue(receipt.getComplete());
        assertArrayEquals(file, Files.readAllBytes(h.server.modelStore().find(hex).orElseThrow()));
        assertTrue(h.server.updateStore().find(ModelTarget.key(hex)).isEmpty());
    }

    // ---- who ----

    @Test
    void refusesANodeThatIsNotAnAdmin() throws Exception {
        assertRefused(h.put(ModelUploads.upload(ModelUploads.header(h.alice, file), file), true).result,
                Status.Code.PERMISSION_DENIED, RefusalReason.NOT_ADMIN, h.alice.id().hex(), "upload models");
        TestNode stranger = new TestNode();
        assertRefused(h.put(ModelUploads.upload(ModelUploads.header(stranger, file), file), true).result,
                Status.Code.PERMISSION_DENIED, RefusalReason.NOT_ADMIN, stranger.id().hex());
        assertEquals(2.0, h.ingestRefusals(RefusalReason.NOT_ADMIN));
        assertEquals(List.of(), storedModels());
        assertThrows(StatusRuntimeException.class, () -> offset(file), "nothing of it kept");
    }

    @Test
    void refusesABadSignatureAndAKeyOfAnotherNode() throws Exception {
        ModelHeader altered = ModelUploads.header(h.admin, file).toBuilder().setResume(true).build();
        assertRefused(h.put(ModelUploads.upload(altered, file), true).result, Status.Code.UNAUTHENTICATED,
                RefusalReason.BAD_SIGNATURE, "signature", h.admin.id().hex(), "murmur.v1/PutModel");

        ModelHeader withoutKey = ModelUploads.header(h.admin, file);
        withoutKey = withoutKey.toBuilder().setAuth(withoutKey.getAuth().toBuilder().clearPublicKey()).build();
        assertRefused(h.put(ModelUploads.upload(withoutKey, file), true).result, Status.Code.UNAUTHENTICATED,
                RefusalReason.UNKNOWN_KEY, "public_key");

        ModelHeader foreignKey = ModelUploads.header(h.admin, file);
        foreignKey = foreignKey.toBuilder().setAuth(foreignKey.getAuth().toBuilder()
                .setPublicKey(ByteString.copyFrom(h.bob.keys.rawPublicKey()))).build();
        assertRefused(h.put(ModelUploads.upload(foreignKey, file), true).result, Status.Code.UNAUTHENTICATED,
                RefusalReason.NODE_ID_MISMATCH, h.admin.id().hex(), h.bob.id().hex());
        assertEquals(List.of(), storedModels());
    }

    @Test
    void refusesAReplayedHeader() throws Exception {
        ModelHeader header = ModelUploads.header(h.admin, file);
        assertFalse(h.putAll(ModelUploads.upTo(header, file, CHUNK)).getComplete());
        assertRefused(h.put(List.of(ModelUploads.message(header)), true).result, Status.Code.UNAUTHENTICATED,
                RefusalReason.REPLAYED_NONCE, "fresh random nonce");
    }

    // ---- the bytes ----

    @Test
    void refusesBytesNotMatchingTheAnnouncedSha256AndStoresNothing() throws Exception {
        byte[] sent = file.clone();
        sent[sent.length / 2] ^= 1;
        assertRefused(h.put(ModelUploads.upload(ModelUploads.header(h.admin, file), sent), true).result,
                Status.Code.DATA_LOSS, RefusalReason.CHECKSUM_MISMATCH, "SHA-256", "offset 0");
        assertEquals(List.of(), storedModels());
        assertRefused(assertThrows(StatusRuntimeException.class, () -> offset(file)), Status.Code.NOT_FOUND,
                RefusalReason.NOTHING_TO_RESUME, "model " + hex);
        assertEquals(0.0, h.counter(GrpcMetrics.INGEST_MODELS));
    }

    @Test
    void refusesAFileThatIsNotASafetensorsFileOfItsManifest() throws Exception {
        List<TensorHeader> transposed = new ArrayList<>();
        for (TensorHeader tensor : TestModels.TENSORS) {
            transposed.add(tensor.name().equals("dense.weight")
                    ? new TensorHeader(tensor.name(), tensor.dtype(), new long[] {1024, 512}) : tensor);
        }
        byte[] other = TestModels.read(TestModels.write(dir.resolve("transposed.safetensors"), transposed, 3));
        assertEquals(file.length, other.length);
        String description = assertRefused(h.put(ModelUploads.upload(ModelUploads.header(h.admin, other), other),
                true).result, Status.Code.DATA_LOSS, RefusalReason.INVALID_FILE, "tensor 'dense.weight'",
                "[1024, 512]");
        assertFalse(description.contains(dir.toString()), "no server path in: " + description);

        byte[] garbled = file.clone();
        garbled[8] = 'X';
        assertRefused(h.put(ModelUploads.upload(ModelUploads.header(h.admin, garbled), garbled), true).result,
                Status.Code.DATA_LOSS, RefusalReason.INVALID_FILE, "not a valid safetensors file");
        assertEquals(2.0, h.ingestRefusals(RefusalReason.INVALID_FILE));
        assertEquals(List.of(), storedModels());
    }

    // ---- resume ----

    @Test
    void getUploadOffsetByModelSha256ReportsTheDurableOffsetOfAPartialUpload() throws Exception {
        long part = 2L * CHUNK + 12_345;
        UploadReceipt partial = h.putAll(ModelUploads.upTo(ModelUploads.header(h.admin, file), file, part));
        assertFalse(partial.getComplete());
        assertEquals(part, partial.getDurableBytes());

        UploadOffset offset = offset(file);
        assertFalse(offset.getComplete());
        assertEquals(part, offset.getDurableBytes());
        assertEquals(file.length, offset.getTotalBytes());
        assertArrayEquals(TestModels.sha256(file), offset.getSha256().toByteArray());
        assertTrue(h.server.modelStore().find(hex).isEmpty(), "not a model before it is complete");

        UploadReceipt query = h.putAll(List.of(ModelUploads.message(ModelUploads.resumeHeader(h.admin, file))));
        assertEquals(part, query.getDurableBytes());
        List<PutModelRequest> rest = new ArrayList<>();
        rest.add(ModelUploads.message(ModelUploads.resumeHeader(h.admin, file)));
        rest.addAll(ModelUploads.chunks(file, part, file.length));
        assertTrue(h.putAll(rest).getComplete());
        assertArrayEquals(file, Files.readAllBytes(h.server.modelStore().find(hex).orElseThrow()));
    }

    @Test
    void aCancelledUploadResumesFromTheDurableOffset() throws Exception {
        long half = 3L * CHUNK;
        ClientUpload<PutModelRequest> interrupted = h.put(ModelUploads.upTo(ModelUploads.header(h.admin, file),
                file, half), false);
        until(() -> h.counter(GrpcMetrics.INGEST_BYTES) == half, "the first half is written");
        interrupted.cancel();
        ExecutionException cancelled = assertThrows(ExecutionException.class, () -> await(interrupted.result));
        assertEquals(Status.Code.CANCELLED, Status.fromThrowable(cancelled.getCause()).getCode());
        until(() -> h.server.metrics().activeStreams() == 0, "the server has let go of the stream");

        assertEquals(half, offset(file).getDurableBytes());
        assertRefused(h.put(List.of(ModelUploads.message(ModelUploads.resumeHeader(h.admin, TestModels.read(
                        TestModels.write(dir.resolve("other.safetensors"), 32))))), true).result,
                Status.Code.NOT_FOUND, RefusalReason.NOTHING_TO_RESUME, "resume = false");
        List<PutModelRequest> rest = new ArrayList<>();
        rest.add(ModelUploads.message(ModelUploads.resumeHeader(h.admin, file)));
        rest.addAll(ModelUploads.chunks(file, half, file.length));
        assertTrue(h.putAll(rest).getComplete());
        assertArrayEquals(file, Files.readAllBytes(h.server.modelStore().find(hex).orElseThrow()));
    }

    @Test
    void theSdkResumesAnUploadCutMidStreamAndTheModelEndsByteIdentical() throws Exception {
        AtomicBoolean cut = new AtomicBoolean();
        // cancels the first PutModel call after its header and three chunks, as a dropped connection would
        ClientInterceptor cutter = new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options,
                                                         Channel next) {
                ClientCall<Q, R> call = next.newCall(method, options);
                if (!method.equals(MurmurGrpc.getPutModelMethod()) || cut.get()) {
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
        try (MurmurClient cutting = client(ClientInterceptors.intercept(h.channel, cutter))) {
            UploadReceipt receipt = cutting.putModel(h.admin.keys, dir.resolve("initial.safetensors"));
            assertTrue(receipt.getComplete());
            assertEquals(file.length, receipt.getDurableBytes());
        }

        assertTrue(cut.get());
        assertEquals(file.length, (long) h.counter(GrpcMetrics.INGEST_BYTES), "resumed, not restarted");
        assertArrayEquals(file, Files.readAllBytes(h.server.modelStore().find(hex).orElseThrow()));
    }

    @Test
    void theSdkSurfacesARefusal() throws Exception {
        try (MurmurClient client = client(h.channel)) {
            RefusedException e = assertThrows(RefusedException.class,
                    () -> client.putModel(h.bob.keys, dir.resolve("initial.safetensors")));
            assertEquals(Status.Code.PERMISSION_DENIED, e.code());
            assertEquals("NOT_ADMIN", e.reason());
        }
    }

    @Test
    void getUploadOffsetRefusesAMalformedModelSha256() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> h.blocking.getUploadOffset(
                GetUploadOffsetRequest.newBuilder().setModelSha256(ByteString.copyFrom(new byte[31])).build()));
        assertRefused(e, Status.Code.INVALID_ARGUMENT, RefusalReason.MALFORMED_REQUEST, "model_sha256", "32-byte");
    }
}
