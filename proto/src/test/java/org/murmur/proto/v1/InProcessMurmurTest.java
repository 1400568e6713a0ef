package org.murmur.proto.v1;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.murmur.proto.Wire;
import org.murmur.proto.identity.Ed25519;
import org.murmur.proto.identity.NodeKeys;
import org.murmur.proto.identity.Purpose;
import org.murmur.proto.identity.RequestSigner;
import org.murmur.proto.identity.SignatureRejectedException;
import org.murmur.proto.identity.SignatureVerifier;

/**
 * The generated stubs work end to end over an in-process channel: client streaming (PushUpdate),
 * server streaming (PullModel), unary refusals with the reason trailer, and an RPC the service
 * does not implement. The service here is a trivial stand-in, not the server.
 */
class InProcessMurmurTest {
    private static final byte[] MODEL = new byte[3 * Wire.CHUNK_BYTES + 12_345];

    static {
        new Random(42).nextBytes(MODEL);
    }

    private Server server;
    private ManagedChannel channel;

    /** Counts the bytes of an upload, checks the header's signature and SHA-256; serves MODEL. */
    static final class EchoService extends MurmurGrpc.MurmurImplBase {
        @Override
        public StreamObserver<PushUpdateRequest> pushUpdate(StreamObserver<UploadReceipt> response) {
            return new StreamObserver<>() {
                UpdateHeader header;
                long received;
                boolean closed;
                final MessageDigest sha256 = newSha256();

                @Override
                public void onNext(PushUpdateRequest request) {
                    if (closed) {
                        return;
                    }
                    if (header == null) {
                        if (!request.hasHeader()) {
                            refuse(response, Status.INVALID_ARGUMENT, RefusalReason.MALFORMED_REQUEST,
                                    "the first message must be the header");
                            closed = true;
                            return;
                        }
                        header = request.getHeader();
                        try {
                            SignatureVerifier.verify(Purpose.PUSH_UPDATE, header.getTaskId(), header.getRound(),
                                    header, header.getAuth(),
                                    Ed25519.publicKey(header.getAuth().getPublicKey().toByteArray()));
                        } catch (SignatureRejectedException e) {
                            refuse(response, Status.UNAUTHENTICATED, RefusalReason.BAD_SIGNATURE, e.getMessage());
                            closed = true;
                        }
                        return;
                    }
                    Chunk chunk = request.getChunk();
                    if (chunk.getOffset() != received) {
                        refuse(response, Status.OUT_OF_RANGE, RefusalReason.CHUNK_OUT_OF_ORDER,
                                "chunk at " + chunk.getOffset() + ", expected " + received);
                        closed = true;
                        return;
                    }
                    chunk.getData().asReadOnlyByteBufferList().forEach(sha256::update);
                    received += chunk.getData().size();
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                    if (closed) {
                        return;
                    }
                    if (header == null) {
                        refuse(response, Status.INVALID_ARGUMENT, RefusalReason.MALFORMED_REQUEST, "no header");
                        return;
                    }
                    byte[] digest = sha256.digest();
                    boolean complete = received == header.getTotalBytes()
                            && Arrays.equals(digest, header.getSha256().toByteArray());
                    response.onNext(UploadReceipt.newBuilder()
                            .setSha256(ByteString.copyFrom(digest))
                            .setDurableBytes(received)
                            .setComplete(complete)
                            .build());
                    response.onCompleted();
                }
            };
        }

        @Override
        public void pullModel(PullModelRequest request, StreamObserver<PullModelResponse> response) {
            if (request.getOffset() > MODEL.length) {
                refuse(response, Status.OUT_OF_RANGE, RefusalReason.CHUNK_PAST_END, "offset past the end");
                return;
            }
            response.onNext(PullModelResponse.newBuilder()
                    .setInfo(ModelInfo.newBuilder().setTotalBytes(MODEL.length)
                            .setSha256(ByteString.copyFrom(newSha256().digest(MODEL))))
                    .build());
            for (long offset = request.getOffset(); offset < MODEL.length; offset += Wire.CHUNK_BYTES) {
                int length = (int) Math.min(Wire.CHUNK_BYTES, MODEL.length - offset);
                response.onNext(PullModelResponse.newBuilder()
                        .setChunk(Chunk.newBuilder().setOffset(offset)
                                .setData(ByteString.copyFrom(MODEL, (int) offset, length)))
                        .build());
            }
            response.onCompleted();
        }

        @Override
        public void getTask(GetTaskRequest request, StreamObserver<TaskInfo> response) {
            refuse(response, Status.NOT_FOUND, RefusalReason.UNKNOWN_TASK, "no task " + request.getTaskId());
        }

        private static void refuse(StreamObserver<?> response, Status status, RefusalReason reason, String message) {
            Metadata trailers = new Metadata();
            trailers.put(Wire.REFUSAL_REASON, reason.name());
            response.onError(status.withDescription(message).asRuntimeException(trailers));
        }
    }

    static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @BeforeEach
    void start() throws IOException {
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name)
                .maxInboundMessageSize(Wire.MAX_MESSAGE_BYTES)
                .addService(new EchoService())
                .build()
                .start();
        channel = InProcessChannelBuilder.forName(name)
                .maxInboundMessageSize(Wire.MAX_MESSAGE_BYTES)
                .build();
    }

    @AfterEach
    void stop() throws InterruptedException {
        channel.shutdownNow();
        server.shutdownNow();
        channel.awaitTermination(5, TimeUnit.SECONDS);
        server.awaitTermination(5, TimeUnit.SECONDS);
    }

    private UploadReceipt upload(UpdateHeader header, byte[] file, long firstOffset) throws Exception {
        CompletableFuture<UploadReceipt> result = new CompletableFuture<>();
        StreamObserver<PushUpdateRequest> requests = MurmurGrpc.newStub(channel).pushUpdate(new StreamObserver<>() {
            @Override
            public void onNext(UploadReceipt receipt) {
                result.complete(receipt);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                result.completeExceptionally(new IllegalStateException("completed without a receipt"));
            }
        });
        requests.onNext(PushUpdateRequest.newBuilder().setHeader(header).build());
        for (long offset = firstOffset; offset < file.length; offset += Wire.CHUNK_BYTES) {
            int length = (int) Math.min(Wire.CHUNK_BYTES, file.length - offset);
            requests.onNext(PushUpdateRequest.newBuilder()
                    .setChunk(Chunk.newBuilder().setOffset(offset).setData(ByteString.copyFrom(file, (int) offset, length)))
                    .build());
        }
        requests.onCompleted();
        return result.get(30, TimeUnit.SECONDS);
    }

    private static UpdateHeader signedHeader(RequestSigner signer, byte[] file) {
        UpdateHeader unsigned = UpdateHeader.newBuilder()
                .setTaskId("smoke")
                .setRound(0)
                .addManifest(TensorSpec.newBuilder().setName("w").setDtype(DType.DTYPE_F32).addShape(file.length / 4))
                .setTotalBytes(file.length)
                .setSha256(ByteString.copyFrom(newSha256().digest(file)))
                .setNumSamples(100)
                .build();
        return unsigned.toBuilder()
                .setAuth(signer.auth(Purpose.PUSH_UPDATE, unsigned.getTaskId(), unsigned.getRound(), unsigned))
                .build();
    }

    @Test
    void pushUpdateStreamsChunksAndEchoesTheByteCount() throws Exception {
        RequestSigner signer = new RequestSigner(NodeKeys.generate());

        UploadReceipt receipt = upload(signedHeader(signer, MODEL), MODEL, 0);

        assertTrue(receipt.getComplete());
        assertEquals(MODEL.length, receipt.getDurableBytes());
        assertArrayEquals(newSha256().digest(MODEL), receipt.getSha256().toByteArray());
    }

    @Test
    void pushUpdateWithATamperedHeaderIsRefusedAsUnauthenticated() {
        RequestSigner signer = new RequestSigner(NodeKeys.generate());
        UpdateHeader tampered = signedHeader(signer, MODEL).toBuilder().setNumSamples(1_000_000).build();

        Exception e = assertThrows(Exception.class, () -> upload(tampered, MODEL, 0));

        Status status = Status.fromThrowable(e);
        assertEquals(Status.Code.UNAUTHENTICATED, status.getCode());
        assertEquals("BAD_SIGNATURE", Status.trailersFromThrowable(e).get(Wire.REFUSAL_REASON));
    }

    @Test
    void pushUpdateRefusesAChunkOutOfOrder() {
        RequestSigner signer = new RequestSigner(NodeKeys.generate());

        Exception e = assertThrows(Exception.class, () -> upload(signedHeader(signer, MODEL), MODEL, 5));

        assertEquals(Status.Code.OUT_OF_RANGE, Status.fromThrowable(e).getCode());
        assertEquals("CHUNK_OUT_OF_ORDER", Status.trailersFromThrowable(e).get(Wire.REFUSAL_REASON));
    }

    @Test
    void pullModelStreamsInfoThenChunksAndResumesFromAnOffset() {
        MurmurGrpc.MurmurBlockingStub stub = MurmurGrpc.newBlockingStub(channel);
        for (long start : new long[] {0, Wire.CHUNK_BYTES + 7}) {
            Iterator<PullModelResponse> responses = stub.pullModel(PullModelRequest.newBuilder()
                    .setTaskId("smoke").setWhich(ModelKind.MODEL_KIND_GLOBAL).setOffset(start).build());
            PullModelResponse first = responses.next();
            assertEquals(PullModelResponse.KindCase.INFO, first.getKindCase());
            assertEquals(MODEL.length, first.getInfo().getTotalBytes());
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            long expected = start;
            while (responses.hasNext()) {
                Chunk chunk = responses.next().getChunk();
                assertEquals(expected, chunk.getOffset());
                assertTrue(chunk.getData().size() <= Wire.CHUNK_BYTES);
                received.writeBytes(chunk.getData().toByteArray());
                expected += chunk.getData().size();
            }
            assertArrayEquals(Arrays.copyOfRange(MODEL, (int) start, MODEL.length), received.toByteArray());
        }
    }

    @Test
    void unaryRefusalCarriesStatusAndReason() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> MurmurGrpc.newBlockingStub(channel).getTask(GetTaskRequest.newBuilder().setTaskId("nope").build()));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertEquals("no task nope", e.getStatus().getDescription());
        assertEquals("UNKNOWN_TASK", e.getTrailers().get(Wire.REFUSAL_REASON));
    }

    @Test
    void unimplementedRpcAnswersUnimplemented() {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> MurmurGrpc.newBlockingStub(channel).getAssignment(GetAssignmentRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode());
    }

    @Test
    void serviceDescriptorListsEveryRpc() {
        assertEquals(java.util.Set.of("CreateTask", "PutModel", "GetTask", "Stake", "Join", "GetAssignment",
                        "PushUpdate", "GetUploadOffset", "PullModel", "CommitVote", "RevealVote", "Withdraw",
                        "WatchRound"),
                MurmurGrpc.getServiceDescriptor().getMethods().stream()
                        .map(m -> m.getBareMethodName())
                        .collect(java.util.stream.Collectors.toSet()));
    }
}
