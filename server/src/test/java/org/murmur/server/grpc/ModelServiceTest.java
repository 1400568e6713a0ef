package org.murmur.server.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.murmur.server.grpc.Harness.TASK;
import static org.murmur.server.grpc.Harness.assertRefused;
import static org.murmur.server.grpc.Harness.await;

import io.grpc.Status;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.proto.Wire;
import org.murmur.proto.v1.Chunk;
import org.murmur.proto.v1.ModelKind;
import org.murmur.proto.v1.PullModelRequest;
import org.murmur.proto.v1.RefusalReason;

/** PullModel in-process: full and resumed downloads, refusals, and the server waiting for a slow client. */
class ModelServiceTest {
    private static final int CHUNK = Wire.CHUNK_BYTES;

    @TempDir
    Path dir;
    private Harness h;
    private byte[] initial;
    private byte[] candidate;

    @BeforeEach
    void setUp() throws Exception {
        h = Harness.inProcess(dir.resolve("data"));
        Path initialFile = TestModels.write(dir.resolve("initial.safetensors"), 10);
        Path candidateFile = TestModels.write(dir.resolve("candidate.safetensors"), 11);
        initial = TestModels.read(initialFile);
        candidate = TestModels.read(candidateFile);
        h.catalog.setInitial(TASK, h.server.modelStore().put(initialFile));
        h.catalog.putCandidate(TASK, 0, h.server.modelStore().put(candidateFile));
    }

    @AfterEach
    void tearDown() throws Exception {
        h.close();
    }

    private Downloader pull(PullModelRequest request) {
        Downloader downloader = new Downloader(() -> (long) h.counter(GrpcMetrics.MODEL_BYTES));
        h.async.pullModel(request, downloader);
        return downloader;
    }

    private static PullModelRequest.Builder global() {
        return PullModelRequest.newBuilder().setTaskId(TASK).setWhich(ModelKind.MODEL_KIND_GLOBAL);
    }

    private static PullModelRequest.Builder candidate(long round) {
        return PullModelRequest.newBuilder().setTaskId(TASK).setWhich(ModelKind.MODEL_KIND_CANDIDATE).setRound(round);
    }

    @Test
    void downloadsTheGlobalModelByteIdenticalWithItsInfo() throws Exception {
        Downloader downloader = pull(global().build());
        Downloader.Result result = await(downloader.result);

        assertArrayEquals(initial, result.bytes());
        assertEquals(initial.length, result.info().getTotalBytes());
        assertArrayEquals(TestModels.sha256(initial), result.info().getSha256().toByteArray());
        assertTrue(result.info().getInitial());
        assertEquals(0, result.info().getRound());
        assertEquals(TestModels.SCHEMA.toProto(), result.info().getManifestList());
        assertEquals((initial.length + CHUNK - 1) / CHUNK, result.chunks().size());
        long expected = 0;
        for (Chunk chunk : result.chunks()) {
            assertEquals(expected, chunk.getOffset());
            expected += Math.min(CHUNK, initial.length - expected);
        }
        assertNull(downloader.backPressureViolation(), downloader.backPressureViolation());
        assertEquals(initial.length, h.counter(GrpcMetrics.MODEL_BYTES));
    }

    @Test
    void resumesADownloadFromAnyOffsetAtChunkBoundaries() throws Exception {
        long offset = CHUNK + CHUNK / 2 + 17;
        Downloader.Result result = await(pull(candidate(0).setOffset(offset).build()).result);
        assertArrayEquals(Arrays.copyOfRange(candidate, (int) offset, candidate.length), result.bytes());
        assertEquals(candidate.length, result.info().getTotalBytes());
        assertFalse(result.info().getInitial());
        assertEquals(offset, result.chunks().get(0).getOffset());
        assertEquals(2L * CHUNK, result.chunks().get(1).getOffset(), "later chunks start at multiples of 1 MiB");

        Downloader.Result atEnd = await(pull(candidate(0).setOffset(candidate.length).build()).result);
        assertEquals(0, atEnd.bytes().length);
        assertEquals(candidate.length, atEnd.info().getTotalBytes());
    }

    @Test
    void servesTheAcceptedGlobalModelAfterARound() throws Exception {
        h.catalog.accept(TASK, 0, HexFormat.of().formatHex(TestModels.sha256(candidate)));
        Downloader.Result current = await(pull(global().build()).result);
        assertArrayEquals(candidate, current.bytes());
        assertEquals(0, current.info().getRound());
        assertFalse(current.info().getInitial());
    }

    @Test
    void refusesUnknownTasksAndModelsAndOffsetsPastTheEnd() throws Exception {
        assertRefused(pull(candidate(5).build()).result, Status.Code.NOT_FOUND, RefusalReason.UNKNOWN_MODEL,
                "no candidate for round 5");
        assertRefused(pull(global().setTaskId("cifar").build()).result, Status.Code.NOT_FOUND,
                RefusalReason.UNKNOWN_TASK, "task cifar");
        h.catalog.putCandidate(TASK, 1, "ab".repeat(32));
        assertRefused(pull(candidate(1).build()).result, Status.Code.NOT_FOUND, RefusalReason.UNKNOWN_MODEL,
                "not in the server's model store");
        assertRefused(pull(global().setOffset(initial.length + 1L).build()).result, Status.Code.OUT_OF_RANGE,
                RefusalReason.CHUNK_PAST_END, "offset " + (initial.length + 1), "up to " + initial.length);
        assertRefused(pull(PullModelRequest.newBuilder().setTaskId(TASK).build()).result,
                Status.Code.INVALID_ARGUMENT, RefusalReason.MALFORMED_REQUEST, "MODEL_KIND_GLOBAL");
        assertRefused(pull(PullModelRequest.newBuilder().setTaskId(TASK).setWhich(ModelKind.MODEL_KIND_CANDIDATE)
                .build()).result, Status.Code.INVALID_ARGUMENT, RefusalReason.MALFORMED_REQUEST, "round");
        assertEquals(2.0, h.modelRefusals(RefusalReason.UNKNOWN_MODEL));
        assertEquals(1.0, h.modelRefusals(RefusalReason.UNKNOWN_TASK));
        assertEquals(1.0, h.modelRefusals(RefusalReason.CHUNK_PAST_END));
        assertEquals(2.0, h.modelRefusals(RefusalReason.MALFORMED_REQUEST));
    }

    @Test
    void aCancelledDownloadResumesByteIdentical() throws Exception {
        CancellingDownloader first = new CancellingDownloader(2);
        h.async.pullModel(global().build(), first);
        long got = await(first.cancelledAt);
        assertEquals(2L * CHUNK, got);
        Downloader.Result rest = await(pull(global().setOffset(got).build()).result);
        byte[] whole = new byte[initial.length];
        System.arraycopy(first.bytes.toByteArray(), 0, whole, 0, (int) got);
        System.arraycopy(rest.bytes(), 0, whole, (int) got, rest.bytes().length);
        assertArrayEquals(initial, whole);
        assertArrayEquals(TestModels.sha256(initial), rest.info().getSha256().toByteArray());
    }

    /** Receives {@code chunks} chunks, then cancels the call as a dropped client would. */
    private static final class CancellingDownloader implements
            io.grpc.stub.ClientResponseObserver<PullModelRequest, org.murmur.proto.v1.PullModelResponse> {
        final java.util.concurrent.CompletableFuture<Long> cancelledAt = new java.util.concurrent.CompletableFuture<>();
        final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        private final int chunks;
        private int received;
        private io.grpc.stub.ClientCallStreamObserver<PullModelRequest> call;

        CancellingDownloader(int chunks) {
            this.chunks = chunks;
        }

        @Override
        public void beforeStart(io.grpc.stub.ClientCallStreamObserver<PullModelRequest> requestStream) {
            call = requestStream;
            requestStream.disableAutoRequestWithInitial(1);
        }

        @Override
        public void onNext(org.murmur.proto.v1.PullModelResponse value) {
            if (value.hasChunk()) {
                bytes.writeBytes(value.getChunk().getData().toByteArray());
                if (++received == chunks) {
                    call.cancel("the client goes away", null);
                    cancelledAt.complete((long) bytes.size());
                    return;
                }
            }
            call.request(1);
        }

        @Override
        public void onError(Throwable t) {
            cancelledAt.complete((long) bytes.size());
        }

        @Override
        public void onCompleted() {
            cancelledAt.completeExceptionally(new AssertionError("the download finished before the cancel"));
        }
    }
}
