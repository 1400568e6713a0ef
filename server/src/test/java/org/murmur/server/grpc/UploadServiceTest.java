package org.murmur.server.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.murmur.server.grpc.Harness.TASK;
import static org.murmur.server.grpc.Harness.assertRefused;
import static org.murmur.server.grpc.Harness.await;
import static org.murmur.server.grpc.Harness.key;
import static org.murmur.server.grpc.Harness.until;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.proto.Wire;
import org.murmur.proto.v1.GetUploadOffsetRequest;
import org.murmur.proto.v1.PushUpdateRequest;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.UpdateHeader;
import org.murmur.proto.v1.UploadOffset;
import org.murmur.proto.v1.UploadReceipt;

/** PushUpdate and GetUploadOffset in-process: admission, durability, resume. */
class UploadServiceTest {
    private static final int CHUNK = Wire.CHUNK_BYTES;

    @TempDir
    Path dir;
    private Harness h;
    private byte[] file;

    @BeforeEach
    void setUp() throws Exception {
        file = TestModels.read(TestModels.write(dir.resolve("alice.safetensors"), 1));
        assertTrue(file.length > 5 * CHUNK, "several chunks");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    private Harness start() throws Exception {
        h = Harness.inProcess(dir.resolve("data"));
        return h;
    }

    private byte[] stored(TestNode node, long round) throws Exception {
        return Files.readAllBytes(h.server.updateStore().find(key(node, round)).orElseThrow());
    }

    private UploadOffset offset(TestNode node, long round) {
        return h.blocking.getUploadOffset(GetUploadOffsetRequest.newBuilder()
                .setUpdate(org.murmur.proto.v1.UpdateKey.newBuilder().setTaskId(TASK).setRound(round)
                        .setNodeId(node.id().hex()))
                .build());
    }

    private UpdateHeader resumeHeader(TestNode node, long round, byte[] bytes) {
        return node.sign(node.unsigned(TASK, round, bytes).setResume(true));
    }

    // ---- accepted uploads ----

    @Test
    void multiChunkUploadLandsByteIdenticalAndIsAcknowledgedOnceRecorded() throws Exception {
        start();
        Uploader uploader = new Uploader(TestNode.upload(h.alice.header(TASK, 0, file), file), true,
                () -> (long) h.counter(GrpcMetrics.INGEST_BYTES));
        h.async.pushUpdate(uploader);
        UploadReceipt receipt = await(uploader.result);
        assertNull(uploader.flowControlViolation(), uploader.flowControlViolation());

        assertTrue(receipt.getComplete());
        assertEquals(file.length, receipt.getDurableBytes());
        assertArrayEquals(TestModels.sha256(file), receipt.getSha256().toByteArray());
        assertArrayEquals(file, stored(h.alice, 0));
        List<Contribution> contributions = h.gate.contributions(TASK, 0);
        assertEquals(1, contributions.size());
        assertEquals(key(h.alice, 0), contributions.get(0).key());
        assertEquals(7, contributions.get(0).numSamples());
        assertArrayEquals(TestModels.sha256(file), contributions.get(0).sha256());
        assertEquals(1.0, h.counter(GrpcMetrics.INGEST_UPDATES));
        assertEquals(file.length, h.counter(GrpcMetrics.INGEST_BYTES));
        assertEquals(0, h.server.metrics().activeStreams());
        assertTrue(offset(h.alice, 0).getComplete());
    }

    @Test
    void cancelledUploadResumesFromTheDurableOffsetByteIdentical() throws Exception {
        start();
        long half = 3L * CHUNK;
        List<PushUpdateRequest> first = new ArrayList<>();
        first.add(TestNode.message(h.alice.header(TASK, 0, file)));
        first.addAll(TestNode.chunks(file, 0, half));
        Uploader interrupted = h.push(first, false);
        until(() -> h.counter(GrpcMetrics.INGEST_BYTES) == half, "the first half is written");
        interrupted.cancel();
        ExecutionException cancelled = assertThrows(ExecutionException.class, () -> await(interrupted.result));
        assertEquals(Status.Code.CANCELLED, Status.fromThrowable(cancelled.getCause()).getCode());
        until(() -> h.server.metrics().activeStreams() == 0, "the server has let go of the stream");

        UploadOffset offset = offset(h.alice, 0);
        assertEquals(half, offset.getDurableBytes());
        assertEquals(file.length, offset.getTotalBytes());
        assertFalse(offset.getComplete());

        List<PushUpdateRequest> rest = new ArrayList<>();
        rest.add(TestNode.message(resumeHeader(h.alice, 0, file)));
        rest.addAll(TestNode.chunks(file, offset.getDurableBytes(), file.length));
        UploadReceipt receipt = h.pushAll(rest);
        assertTrue(receipt.getComplete());
        assertArrayEquals(file, stored(h.alice, 0));
        assertEquals(1, h.gate.contributions(TASK, 0).size());
    }

    @Test
    void anUploadCutByAServerShutdownResumesOnTheRestartedServer() throws Exception {
        start();
        long part = 2L * CHUNK;
        List<PushUpdateRequest> first = new ArrayList<>();
        first.add(TestNode.message(h.alice.header(TASK, 0, file)));
        first.addAll(TestNode.chunks(file, 0, part));
        Uploader cut = h.push(first, false);
        until(() -> h.counter(GrpcMetrics.INGEST_BYTES) == part, "two chunks are written");
        h = h.restart();
        assertThrows(ExecutionException.class, () -> await(cut.result));

        UploadOffset offset = offset(h.alice, 0);
        assertEquals(part, offset.getDurableBytes());
        List<PushUpdateRequest> rest = new ArrayList<>();
        rest.add(TestNode.message(resumeHeader(h.alice, 0, file)));
        rest.addAll(TestNode.chunks(file, part, file.length));
        assertTrue(h.pushAll(rest).getComplete());
        assertArrayEquals(file, stored(h.alice, 0));
    }

    @Test
    void earlyHalfCloseAnswersTheDurableOffsetAndAResumeHeaderAloneQueriesIt() throws Exception {
        start();
        long part = 2L * CHUNK + 12_345;
        List<PushUpdateRequest> first = new ArrayList<>();
        first.add(TestNode.message(h.alice.header(TASK, 0, file)));
        first.addAll(TestNode.chunks(file, 0, part));
        UploadReceipt partial = h.pushAll(first);
        assertFalse(partial.getComplete());
        assertEquals(part, partial.getDurableBytes());

        UploadReceipt query = h.pushAll(List.of(TestNode.message(resumeHeader(h.alice, 0, file))));
        assertFalse(query.getComplete());
        assertEquals(part, query.getDurableBytes());

        List<PushUpdateRequest> rest = new ArrayList<>();
        rest.add(TestNode.message(resumeHeader(h.alice, 0, file)));
        rest.addAll(TestNode.chunks(file, part, file.length));
        assertTrue(h.pushAll(rest).getComplete());
        assertArrayEquals(file, stored(h.alice, 0));
    }

    @Test
    void aNewUploadStartsOverWhateverAnInterruptedOneLeft() throws Exception {
        start();
        List<PushUpdateRequest> first = new ArrayList<>();
        first.add(TestNode.message(h.alice.header(TASK, 0, file)));
        first.addAll(TestNode.chunks(file, 0, CHUNK));
        assertFalse(h.pushAll(first).getComplete());
        byte[] other = TestModels.read(TestModels.write(dir.resolve("other.safetensors"), 2));
        assertTrue(h.pushAll(TestNode.upload(h.alice.header(TASK, 0, other), other)).getComplete());
        assertArrayEquals(other, stored(h.alice, 0));
    }

    // ---- identity ----

    @Test
    void refusesAHeaderAlteredAfterSigning() throws Exception {
        start();
        UpdateHeader altered = h.alice.header(TASK, 0, file).toBuilder().setNumSamples(8).build();
        assertRefused(h.push(TestNode.upload(altered, file), true).result, Status.Code.UNAUTHENTICATED,
                RefusalReason.BAD_SIGNATURE, "signature", h.alice.id().hex());
        assertEquals(1.0, h.ingestRefusals(RefusalReason.BAD_SIGNATURE));
        assertTrue(h.server.updateStore().find(key(h.alice, 0)).isEmpty());
    }

    @Test
    void refusesANodeSigningWithAnotherNodesId() throws Exception {
        start();
        UpdateHeader forged = Forgery.signAs(h.bob, h.alice.id(), h.alice.unsigned(TASK, 0, file), false);
        assertRefused(h.push(TestNode.upload(forged, file), true).result, Status.Code.UNAUTHENTICATED,
                RefusalReason.BAD_SIGNATURE, h.alice.id().hex());

        UpdateHeader withOwnKey = Forgery.signAs(h.bob, h.alice.id(), h.alice.unsigned(TASK, 0, file), true);
        assertRefused(h.push(TestNode.upload(withOwnKey, file), true).result, Status.Code.UNAUTHENTICATED,
                RefusalReason.NODE_ID_MISMATCH, h.alice.id().hex(), h.bob.id().hex());
        assertEquals(1.0, h.ingestRefusals(RefusalReason.BAD_SIGNATURE));
        assertEquals(1.0, h.ingestRefusals(RefusalReason.NODE_ID_MISMATCH));
    }

    @Test
    void refusesANodeWithoutARegisteredKey() throws Exception {
        start();
        TestNode stranger = new TestNode();
        assertRefused(h.push(TestNode.upload(stranger.header(TASK, 0, file), file), true).result,
                Status.Code.UNAUTHENTICATED, RefusalReason.UNKNOWN_KEY, stranger.id().hex(), "Stake");
        assertEquals(1.0, h.ingestRefusals(RefusalReason.UNKNOWN_KEY));
    }

    @Test
    void refusesAReplayedHeader() throws Exception {
        start();
        UpdateHeader header = h.alice.header(TASK, 0, file);
        List<PushUpdateRequest> first = new ArrayList<>();
        first.add(TestNode.message(header));
        first.addAll(TestNode.chunks(file, 0, CHUNK));
        assertFalse(h.pushAll(first).getComplete());
        assertRefused(h.push(List.of(TestNode.message(header)), true).result, Status.Code.UNAUTHENTICATED,
                RefusalReason.REPLAYED_NONCE, "fresh random nonce");
        assertEquals(1.0, h.ingestRefusals(RefusalReason.REPLAYED_NONCE));
    }

    // ---- the round gate ----

    @Test
    void refusesUnknownTasksAndRounds() throws Exception {
        start();
        assertRefused(h.push(TestNode.upload(h.alice.header("cifar", 0, file), file), true).result,
                Status.Code.NOT_FOUND, RefusalReason.UNKNOWN_TASK, "task cifar");
        assertRefused(h.push(TestNode.upload(h.alice.header(TASK, 9, file), file), true).result,
                Status.Code.NOT_FOUND, RefusalReason.UNKNOWN_ROUND, "no round 9");
        assertEquals(1.0, h.ingestRefusals(RefusalReason.UNKNOWN_TASK));
        assertEquals(1.0, h.ingestRefusals(RefusalReason.UNKNOWN_ROUND));
    }

    @Test
    void refusesRoundsNotAcceptingUpdates() throws Exception {
        start();
        assertRefused(h.push(TestNode.upload(h.alice.header(TASK, 2, file), file), true).result,
                Status.Code.FAILED_PRECONDITION, RefusalReason.DEADLINE_PASSED, "round 2", "deadline");
        assertRefused(h.push(TestNode.upload(h.alice.header(TASK, 1, file), file), true).result,
                Status.Code.FAILED_PRECONDITION, RefusalReason.WRONG_PHASE, "round 1", "not accepting");
        assertEquals(1.0, h.ingestRefusals(RefusalReason.DEADLINE_PASSED));
        assertEquals(1.0, h.ingestRefusals(RefusalReason.WRONG_PHASE));
    }

    @Test
    void refusesNodesNotStakedOrNotProposers() throws Exception {
        start();
        assertRefused(h.push(TestNode.upload(h.carol.header(TASK, 0, file), file), true).result,
                Status.Code.FAILED_PRECONDITION, RefusalReason.NOT_STAKED, h.carol.id().hex(), "stake");
        assertRefused(h.push(TestNode.upload(h.bob.header(TASK, 0, file), file), true).result,
                Status.Code.PERMISSION_DENIED, RefusalReason.NOT_PROPOSER, h.bob.id().hex(), "not a proposer");
        h.gate.remove(TASK, h.alice.id());
        assertRefused(h.push(TestNode.upload(h.alice.header(TASK, 0, file), file), true).result,
                Status.Code.PERMISSION_DENIED, RefusalReason.NODE_REMOVED, "removed");
        assertEquals(1.0, h.ingestRefusals(RefusalReason.NOT_STAKED));
        assertEquals(1.0, h.ingestRefusals(RefusalReason.NOT_PROPOSER));
        assertEquals(1.0, h.ingestRefusals(RefusalReason.NODE_REMOVED));
    }

    @Test
    void refusesASecondUpdateOfTheSameRound() throws Exception {
        start();
        assertTrue(h.pushAll(TestNode.upload(h.alice.header(TASK, 0, file), file)).getComplete());
        assertRefused(h.push(TestNode.upload(h.alice.header(TASK, 0, file), file), true).result,
                Status.Code.ALREADY_EXISTS, RefusalReason.DUPLICATE_UPDATE, "already has a complete update");
        assertRefused(h.push(List.of(TestNode.message(resumeHeader(h.alice, 0, file))), true).result,
                Status.Code.ALREADY_EXISTS, RefusalReason.DUPLICATE_UPDATE);
        assertEquals(2.0, h.ingestRefusals(RefusalReason.DUPLICATE_UPDATE));
        assertArrayEquals(file, stored(h.alice, 0));
    }

    // ---- the header's manifest and size ----

    @Test
    void refusesAManifestThatIsNotTheTasksSchemaNamingTheTensor() throws Exception {
        start();
        UpdateHeader.Builder header = h.alice.unsigned(TASK, 0, file).clearManifest();
        for (var spec : TestModels.SCHEMA.toProto()) {
            header.addManifest(spec.getName().equals("embed") ? spec.toBuilder().setDtype(
                    org.murmur.proto.v1.DType.DTYPE_F16).build() : spec);
        }
        assertRefused(h.push(TestNode.upload(h.alice.sign(header), file), true).result,
                Status.Code.INVALID_ARGUMENT, RefusalReason.SCHEMA_MISMATCH, "tensor 'embed'", "F16", "BF16");

        UpdateHeader.Builder missing = h.alice.unsigned(TASK, 0, file).removeManifest(0);
        assertRefused(h.push(TestNode.upload(h.alice.sign(missing), file), true).result,
                Status.Code.INVALID_ARGUMENT, RefusalReason.SCHEMA_MISMATCH, "is missing from the manifest");
        assertEquals(2.0, h.ingestRefusals(RefusalReason.SCHEMA_MISMATCH));
    }

    @Test
    void refusesTotalBytesTheManifestOrTheServerCannotAllow() throws Exception {
        h = Harness.inProcess(dir.resolve("data"), b -> b.maxUpdateBytes(64L << 20).maxHeaderBytes(1 << 20));
        long data = TestModels.SCHEMA.dataBytes();
        assertRefused(h.push(List.of(TestNode.message(h.alice.sign(
                        h.alice.unsigned(TASK, 0, file).setTotalBytes((64L << 20) + 1)))), true).result,
                Status.Code.INVALID_ARGUMENT, RefusalReason.SIZE_MISMATCH, "max-update-bytes");
        assertRefused(h.push(List.of(TestNode.message(h.alice.sign(
                        h.alice.unsigned(TASK, 0, file).setTotalBytes(8 + (1 << 20) + data + 1)))), true).result,
                Status.Code.INVALID_ARGUMENT, RefusalReason.SIZE_MISMATCH, "too large for the manifest",
                "max-header-bytes");
        assertRefused(h.push(List.of(TestNode.message(h.alice.sign(
                        h.alice.unsigned(TASK, 0, file).setTotalBytes(data)))), true).result,
                Status.Code.INVALID_ARGUMENT, RefusalReason.SIZE_MISMATCH, "too small", Long.toString(data));
        assertEquals(3.0, h.ingestRefusals(RefusalReason.SIZE_MISMATCH));
    }

    @Test
    void refusesAFileShorterThanItsHeaderImpliesAtCompletion() throws Exception {
        start();
        byte[] truncated = java.util.Arrays.copyOf(file, file.length - 64);
        assertRefused(h.push(TestNode.upload(h.alice.header(TASK, 0, truncated), truncated), true).result,
                Status.Code.INVALID_ARGUMENT, RefusalReason.SIZE_MISMATCH, "64 bytes missing",
                "total_bytes is " + truncated.length);
        assertTrue(h.server.updateStore().find(key(h.alice, 0)).isEmpty(), "the refused file is removed");
        assertTrue(h.gate.contributions(TASK, 0).isEmpty());
        assertEquals(0.0, h.counter(GrpcMetrics.INGEST_UPDATES));
    }

    @Test
    void refusesMalformedHeadersAndStreams() throws Exception {
        start();
        assertRefused(h.push(TestNode.chunks(file, 0, CHUNK), true).result, Status.Code.INVALID_ARGUMENT,
                RefusalReason.MALFORMED_REQUEST, "first message", "UpdateHeader");
        UpdateHeader unsigned = h.alice.unsigned(TASK, 0, file).build();
        assertRefused(h.push(List.of(TestNode.message(unsigned)), true).result, Status.Code.INVALID_ARGUMENT,
                RefusalReason.MALFORMED_REQUEST, "header.auth");
        assertRefused(h.push(List.of(TestNode.message(h.alice.sign(h.alice.unsigned(TASK, 0, file)
                        .setNumSamples(0)))), true).result, Status.Code.INVALID_ARGUMENT,
                RefusalReason.MALFORMED_REQUEST, "num_samples");
        assertRefused(h.push(List.of(), true).result, Status.Code.INVALID_ARGUMENT,
                RefusalReason.MALFORMED_REQUEST, "without an UpdateHeader");
        UpdateHeader header = h.alice.header(TASK, 0, file);
        assertRefused(h.push(List.of(TestNode.message(header), TestNode.message(h.alice.header(TASK, 0, file))),
                true).result, Status.Code.INVALID_ARGUMENT, RefusalReason.MALFORMED_REQUEST, "second UpdateHeader");
        assertEquals(5.0, h.ingestRefusals(RefusalReason.MALFORMED_REQUEST));
    }

    // ---- the bytes ----

    @Test
    void refusesBytesNotMatchingTheAnnouncedSha256AndDiscardsThem() throws Exception {
        start();
        byte[] sent = file.clone();
        sent[sent.length / 2] ^= 1;
        assertRefused(h.push(TestNode.upload(h.alice.header(TASK, 0, file), sent), true).result,
                Status.Code.DATA_LOSS, RefusalReason.CHECKSUM_MISMATCH, "SHA-256", "offset 0");
        assertTrue(h.server.updateStore().find(key(h.alice, 0)).isEmpty());
        StatusRuntimeException none = assertThrows(StatusRuntimeException.class, () -> offset(h.alice, 0));
        assertRefused(none, Status.Code.NOT_FOUND, RefusalReason.NOTHING_TO_RESUME, "offset 0");
        assertEquals(1.0, h.ingestRefusals(RefusalReason.CHECKSUM_MISMATCH));
        // The node retries with the right bytes.
        assertTrue(h.pushAll(TestNode.upload(h.alice.header(TASK, 0, file), file)).getComplete());
    }

    @Test
    void refusesFilesThatAreNotSafetensorsOfTheManifest() throws Exception {
        start();
        byte[] garbled = file.clone();
        garbled[8] = 'X'; // the header's JSON no longer starts with '{'
        assertRefused(h.push(TestNode.upload(h.alice.header(TASK, 0, garbled), garbled), true).result,
                Status.Code.DATA_LOSS, RefusalReason.INVALID_FILE, "not a valid safetensors file");

        List<org.murmur.proto.safetensors.TensorHeader> transposed = new ArrayList<>();
        for (var tensor : TestModels.TENSORS) {
            transposed.add(tensor.name().equals("dense.weight") ? new org.murmur.proto.safetensors.TensorHeader(
                    tensor.name(), tensor.dtype(), new long[] {1024, 512}) : tensor);
        }
        byte[] other = TestModels.read(TestModels.write(dir.resolve("transposed.safetensors"), transposed, 3));
        assertEquals(file.length, other.length);
        String description = assertRefused(h.push(TestNode.upload(h.alice.header(TASK, 0, other), other), true).result,
                Status.Code.DATA_LOSS, RefusalReason.INVALID_FILE, "tensor 'dense.weight'", "[1024, 512]");
        assertFalse(description.contains(dir.toString()), "no server path in: " + description);
        assertEquals(2.0, h.ingestRefusals(RefusalReason.INVALID_FILE));
        assertTrue(h.server.updateStore().find(key(h.alice, 0)).isEmpty());
    }

    @Test
    void refusesNaNInAnF32TensorAndRemovesTheFile() throws Exception {
        start();
        byte[] poisoned = TestModels.read(TestModels.write(dir.resolve("nan.safetensors"), 4,
                new TestModels.Poison("dense.weight", 1234, Float.NaN)));
        assertRefused(h.push(TestNode.upload(h.alice.header(TASK, 0, poisoned), poisoned), true).result,
                Status.Code.INVALID_ARGUMENT, RefusalReason.NON_FINITE_VALUE, "tensor 'dense.weight' element 1234",
                "NaN");
        assertTrue(h.server.updateStore().find(key(h.alice, 0)).isEmpty(), "never aggregated");
        assertTrue(h.gate.contributions(TASK, 0).isEmpty());
        assertEquals(1.0, h.ingestRefusals(RefusalReason.NON_FINITE_VALUE));
        // Fixed values are accepted afterwards.
        assertTrue(h.pushAll(TestNode.upload(h.alice.header(TASK, 0, file), file)).getComplete());
    }

    @Test
    void refusesInfinityInABf16Tensor() throws Exception {
        start();
        byte[] poisoned = TestModels.read(TestModels.write(dir.resolve("inf.safetensors"), 5,
                new TestModels.Poison("embed", 777_777, Float.NEGATIVE_INFINITY)));
        assertRefused(h.push(TestNode.upload(h.alice.header(TASK, 0, poisoned), poisoned), true).result,
                Status.Code.INVALID_ARGUMENT, RefusalReason.NON_FINITE_VALUE, "tensor 'embed' element 777777",
                "-Infinity");
        assertTrue(h.server.updateStore().find(key(h.alice, 0)).isEmpty());
    }

    @Test
    void refusesChunkGapsOverlapsAndBytesPastTheEnd() throws Exception {
        start();
        UpdateHeader header = h.alice.header(TASK, 0, file);
        assertRefused(h.push(List.of(TestNode.message(header), TestNode.chunk(file, 0, CHUNK),
                        TestNode.chunk(file, 2L * CHUNK, CHUNK)), true).result, Status.Code.OUT_OF_RANGE,
                RefusalReason.CHUNK_OUT_OF_ORDER, "offset " + 2 * CHUNK, "continues at offset " + CHUNK,
                "gap of " + CHUNK + " bytes");
        // The first chunk stayed durable: the overlap below is measured against it.
        assertEquals(CHUNK, offset(h.alice, 0).getDurableBytes());
        assertRefused(h.push(List.of(TestNode.message(resumeHeader(h.alice, 0, file)),
                        TestNode.chunk(file, CHUNK - 100, CHUNK)), true).result, Status.Code.OUT_OF_RANGE,
                RefusalReason.CHUNK_OUT_OF_ORDER, "overlap of 100 bytes", "resume from offset " + CHUNK);

        List<PushUpdateRequest> pastEnd = new ArrayList<>();
        pastEnd.add(TestNode.message(resumeHeader(h.alice, 0, file)));
        pastEnd.addAll(TestNode.chunks(file, CHUNK, file.length - 10));
        byte[] longer = java.util.Arrays.copyOf(file, file.length + 10);
        pastEnd.add(TestNode.chunk(longer, file.length - 10, 20));
        assertRefused(h.push(pastEnd, true).result, Status.Code.OUT_OF_RANGE, RefusalReason.CHUNK_PAST_END,
                "past total_bytes " + file.length);
        assertEquals(2.0, h.ingestRefusals(RefusalReason.CHUNK_OUT_OF_ORDER));
        assertEquals(1.0, h.ingestRefusals(RefusalReason.CHUNK_PAST_END));
    }

    @Test
    void resumingWithNothingStoredOrOtherExpectationsIsRefused() throws Exception {
        start();
        assertRefused(h.push(List.of(TestNode.message(resumeHeader(h.alice, 0, file))), true).result,
                Status.Code.NOT_FOUND, RefusalReason.NOTHING_TO_RESUME, "resume = false");
        List<PushUpdateRequest> first = new ArrayList<>();
        first.add(TestNode.message(h.alice.header(TASK, 0, file)));
        first.addAll(TestNode.chunks(file, 0, CHUNK));
        assertFalse(h.pushAll(first).getComplete());
        byte[] other = TestModels.read(TestModels.write(dir.resolve("other.safetensors"), 2));
        assertRefused(h.push(List.of(TestNode.message(resumeHeader(h.alice, 0, other))), true).result,
                Status.Code.INVALID_ARGUMENT, RefusalReason.MALFORMED_REQUEST, "same total_bytes and sha256");
    }

    // ---- streams ----

    @Test
    void anIdleStreamIsCancelledAndItsBytesStayResumable() throws Exception {
        h = Harness.inProcess(dir.resolve("data"), b -> b.idleTimeout(java.time.Duration.ofMillis(200)));
        Uploader stalled = h.push(List.of(TestNode.message(h.alice.header(TASK, 0, file)),
                TestNode.chunk(file, 0, CHUNK)), false);
        assertRefused(stalled.result, Status.Code.DEADLINE_EXCEEDED, RefusalReason.STREAM_IDLE, "200 ms",
                "resume from offset " + CHUNK);
        assertEquals(1.0, h.ingestRefusals(RefusalReason.STREAM_IDLE));
        assertEquals(0, h.server.metrics().activeStreams());
        assertEquals(CHUNK, offset(h.alice, 0).getDurableBytes());

        List<PushUpdateRequest> rest = new ArrayList<>();
        rest.add(TestNode.message(resumeHeader(h.alice, 0, file)));
        rest.addAll(TestNode.chunks(file, CHUNK, file.length));
        assertTrue(h.pushAll(rest).getComplete());
        assertArrayEquals(file, stored(h.alice, 0));
    }

    @Test
    void refusesMoreConcurrentStreamsThanTheLimitAndASecondStreamOfTheSameUpdate() throws Exception {
        h = Harness.inProcess(dir.resolve("data"), b -> b.maxStreamsPerNode(1));
        Uploader open = h.push(List.of(TestNode.message(h.alice.header(TASK, 0, file)),
                TestNode.chunk(file, 0, CHUNK)), false);
        until(() -> h.counter(GrpcMetrics.INGEST_BYTES) == CHUNK, "the first stream is under way");
        assertRefused(h.push(TestNode.upload(h.alice.header(TASK, 3, file), file), true).result,
                Status.Code.RESOURCE_EXHAUSTED, RefusalReason.TOO_MANY_STREAMS, "1 upload stream(s) open",
                "max-streams-per-node");
        assertEquals(1.0, h.ingestRefusals(RefusalReason.TOO_MANY_STREAMS));
        open.cancel();
        until(() -> h.server.metrics().activeStreams() == 0, "the first stream ends");
        assertTrue(h.pushAll(TestNode.upload(h.alice.header(TASK, 3, file), file)).getComplete());
    }

    @Test
    void aResumeWhileTheOldStreamIsStillOpenIsRefusedAsBusy() throws Exception {
        start();
        Uploader open = h.push(List.of(TestNode.message(h.alice.header(TASK, 0, file)),
                TestNode.chunk(file, 0, CHUNK)), false);
        until(() -> h.counter(GrpcMetrics.INGEST_BYTES) == CHUNK, "the first stream is under way");
        assertRefused(h.push(List.of(TestNode.message(resumeHeader(h.alice, 0, file))), true).result,
                Status.Code.RESOURCE_EXHAUSTED, RefusalReason.TOO_MANY_STREAMS, "still open", "idle-timeout");
        UploadOffset active = offset(h.alice, 0);
        assertEquals(CHUNK, active.getDurableBytes(), "synced every chunk (sync-interval-bytes)");
        open.cancel();
    }

    @Test
    void getUploadOffsetRefusesWhatItCannotAnswer() throws Exception {
        start();
        StatusRuntimeException absent = assertThrows(StatusRuntimeException.class, () -> offset(h.alice, 0));
        assertRefused(absent, Status.Code.NOT_FOUND, RefusalReason.NOTHING_TO_RESUME, "start a new upload");
        StatusRuntimeException malformed = assertThrows(StatusRuntimeException.class, () -> h.blocking
                .getUploadOffset(GetUploadOffsetRequest.newBuilder().setUpdate(org.murmur.proto.v1.UpdateKey
                        .newBuilder().setTaskId(TASK).setNodeId("not-a-node-id")).build()));
        assertRefused(malformed, Status.Code.INVALID_ARGUMENT, RefusalReason.MALFORMED_REQUEST, "node id");
        StatusRuntimeException empty = assertThrows(StatusRuntimeException.class,
                () -> h.blocking.getUploadOffset(GetUploadOffsetRequest.getDefaultInstance()));
        assertRefused(empty, Status.Code.INVALID_ARGUMENT, RefusalReason.MALFORMED_REQUEST, "target");
    }
}
