package org.murmur.proto.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.proto.Wire;
import org.murmur.proto.identity.Ed25519;
import org.murmur.proto.identity.NodeKeys;
import org.murmur.proto.identity.Purpose;
import org.murmur.proto.identity.SignatureVerifier;
import org.murmur.proto.safetensors.SafetensorsWriter;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.safetensors.TensorHeader;
import org.murmur.proto.v1.DType;
import org.murmur.proto.v1.ModelInfo;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.TensorSpec;
import org.murmur.proto.v1.UpdateHeader;
import org.murmur.proto.v1.UploadReceipt;

/** MurmurClient against an in-process fake service: uploads (plain, resumed, refused) and downloads. */
class MurmurClientTest {
    private static final List<TensorHeader> TENSORS = List.of(
            new TensorHeader("dense.weight", TensorDtype.F32, new long[] {1024, 1300}),
            new TensorHeader("dense.bias", TensorDtype.BF16, new long[] {777}));

    @TempDir
    Path dir;
    private final FakeMurmur fake = new FakeMurmur();
    private final NodeKeys keys = NodeKeys.generate();
    private Server server;
    private ManagedChannel channel;
    private MurmurClient client;
    private Path file;
    private byte[] bytes;

    @BeforeEach
    void setUp() throws Exception {
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(fake).maxInboundMessageSize(Wire.MAX_MESSAGE_BYTES)
                .build().start();
        channel = InProcessChannelBuilder.forName(name).maxInboundMessageSize(Wire.MAX_MESSAGE_BYTES).build();
        client = MurmurClient.builder(channel).ownsChannel(true).maxAttempts(3).retryBackoff(Duration.ZERO).build();
        file = write(dir.resolve("update.safetensors"), 1);
        bytes = Files.readAllBytes(file);
        assertTrue(bytes.length > 5 * Wire.CHUNK_BYTES, "a multi-MiB file");
    }

    @AfterEach
    void tearDown() {
        client.close();
        server.shutdownNow();
    }

    static Path write(Path path, int seed) throws IOException {
        Random random = new Random(seed);
        SafetensorsWriter.write(path, Map.of(), TENSORS, (tensor, out) -> {
            byte[] data = new byte[(int) tensor.byteLength()];
            random.nextBytes(data);
            ByteBuffer buffer = ByteBuffer.wrap(data);
            while (buffer.hasRemaining()) {
                out.write(buffer);
            }
        });
        return path;
    }

    private UpdateUpload upload() {
        return new UpdateUpload(keys, "mnist", 3, file, 42);
    }

    private void assertSigned(UpdateHeader header) throws Exception {
        SignatureVerifier.verify(Purpose.PUSH_UPDATE, header.getTaskId(), header.getRound(), header, header.getAuth(),
                Ed25519.publicKey(header.getAuth().getPublicKey().toByteArray()));
        assertEquals(keys.nodeId().hex(), header.getAuth().getNodeId());
    }

    @Test
    void uploadArrivesByteIdenticalWithAVerifiedHeaderAndTheFilesManifest() throws Exception {
        UploadReceipt receipt = client.pushUpdate(upload());

        assertTrue(receipt.getComplete());
        assertEquals(bytes.length, receipt.getDurableBytes());
        assertArrayEquals(bytes, fake.update());
        assertEquals(1, fake.headers.size());
        UpdateHeader header = fake.headers.get(0);
        assertSigned(header);
        assertEquals("mnist", header.getTaskId());
        assertEquals(3, header.getRound());
        assertEquals(42, header.getNumSamples());
        assertFalse(header.getResume());
        assertEquals(bytes.length, header.getTotalBytes());
        assertArrayEquals(FakeMurmur.sha256(bytes), header.getSha256().toByteArray());
        assertTrue(header.getManifestList().contains(TensorSpec.newBuilder().setName("dense.weight")
                .setDtype(DType.DTYPE_F32).addShape(1024).addShape(1300).build()));
        assertTrue(header.getManifestList().contains(TensorSpec.newBuilder().setName("dense.bias")
                .setDtype(DType.DTYPE_BF16).addShape(777).build()));
        assertEquals(2, header.getManifestCount());
        long expected = 0;
        for (long offset : fake.chunkOffsets) {
            assertEquals(expected, offset);
            expected += Wire.CHUNK_BYTES;
        }
        assertEquals((bytes.length + Wire.CHUNK_BYTES - 1) / Wire.CHUNK_BYTES, fake.chunkOffsets.size());
    }

    @Test
    void droppedUploadResumesFromTheOffsetTheServerReports() throws Exception {
        fake.dropUploadAfter = 3L * Wire.CHUNK_BYTES;

        UploadReceipt receipt = client.pushUpdate(upload());

        assertTrue(receipt.getComplete());
        assertArrayEquals(bytes, fake.update());
        assertEquals(1, fake.getUploadOffsetCalls.get());
        assertEquals(2, fake.headers.size());
        UpdateHeader first = fake.headers.get(0);
        UpdateHeader resumed = fake.headers.get(1);
        assertFalse(first.getResume());
        assertTrue(resumed.getResume());
        assertSigned(first);
        assertSigned(resumed);
        assertNotEquals(first.getAuth().getNonce(), resumed.getAuth().getNonce(), "a fresh nonce per attempt");
        assertEquals(first.toBuilder().clearAuth().setResume(true).build(), resumed.toBuilder().clearAuth().build());
        // the fake kept 2 MiB of the 3 it received: the resumed stream starts there
        assertEquals(List.of(0L, 1L * Wire.CHUNK_BYTES, 2L * Wire.CHUNK_BYTES, 2L * Wire.CHUNK_BYTES),
                fake.chunkOffsets.subList(0, 4));
    }

    @Test
    void refusalSurfacesWithCodeReasonAndMessage() {
        fake.refuseWith = Status.PERMISSION_DENIED;
        fake.refusalReason = RefusalReason.NOT_PROPOSER;

        RefusedException e = assertThrows(RefusedException.class, () -> client.pushUpdate(upload()));

        assertEquals(Status.Code.PERMISSION_DENIED, e.code());
        assertEquals("NOT_PROPOSER", e.reason());
        assertEquals("refused by the fake: try another round", e.serverMessage());
        assertEquals(1, fake.headers.size(), "a refusal is not retried");
        assertEquals(0, fake.getUploadOffsetCalls.get());
    }

    @Test
    void transportFailuresOnEveryAttemptEndInTransportException() throws Exception {
        server.shutdownNow().awaitTermination();
        TransportException e = assertThrows(TransportException.class, () -> client.pushUpdate(upload()));
        assertTrue(e.getMessage().contains("3 attempts"), e.getMessage());
    }

    @Test
    void pullsAModelToTheTarget() throws Exception {
        fake.model = bytes;
        Path target = dir.resolve("models").resolve("global.safetensors");
        Files.createDirectories(target.getParent());

        ModelInfo info = client.pullModel(PullRequest.global("mnist"), target);

        assertEquals(bytes.length, info.getTotalBytes());
        assertArrayEquals(bytes, Files.readAllBytes(target));
        assertEquals(List.of(0L), fake.pullOffsets);
        assertEquals(List.of(target), listing(target.getParent()), "no temporary file left");
    }

    @Test
    void resumesADownloadCutMidStream() throws Exception {
        fake.model = bytes;
        fake.dropDownloadAfter = 3L * Wire.CHUNK_BYTES;
        Path target = dir.resolve("candidate.safetensors");
        Files.write(target, new byte[] {1, 2, 3}); // replaced atomically

        client.pullModel(PullRequest.candidate("mnist", 0), target);

        assertArrayEquals(bytes, Files.readAllBytes(target));
        assertEquals(List.of(0L, 3L * Wire.CHUNK_BYTES), fake.pullOffsets);
    }

    @Test
    void checksumMismatchLeavesNoFileAtTheTarget() throws Exception {
        fake.model = bytes;
        fake.announcedSha256 = FakeMurmur.sha256(new byte[] {7});
        Path target = dir.resolve("bad").resolve("global.safetensors");
        Files.createDirectories(target.getParent());

        assertThrows(ChecksumMismatchException.class, () -> client.pullModel(PullRequest.global("mnist"), target));

        assertFalse(Files.exists(target));
        assertEquals(List.of(), listing(target.getParent()), "no temporary file left");
    }

    @Test
    void downloadRefusalSurfacesAsRefusedException() throws Exception {
        Path target = dir.resolve("none.safetensors");
        RefusedException e = assertThrows(RefusedException.class,
                () -> client.pullModel(PullRequest.candidate("mnist", 5), target));
        assertEquals(Status.Code.NOT_FOUND, e.code());
        assertEquals("UNKNOWN_MODEL", e.reason());
        assertTrue(e.serverMessage().contains("round 5"), e.serverMessage());
        assertFalse(Files.exists(target));
        assertEquals(1, listing(dir).size(), "only the update file: no temporary file left");
    }

    private static List<Path> listing(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.toList();
        }
    }
}
