package org.murmur.server.grpc;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import org.murmur.proto.identity.NodeId;
import org.murmur.proto.identity.Purpose;
import org.murmur.proto.v1.Chunk;
import org.murmur.proto.v1.ModelHeader;
import org.murmur.proto.v1.PutModelRequest;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.UploadReceipt;
import org.murmur.server.store.ModelStore;
import org.murmur.server.store.UpdateKey;
import org.murmur.server.store.UpdateStore;
import org.murmur.server.store.UploadStatus;

/**
 * PutModel: an admin uploads a model (a task's initial model) into the content-addressed
 * {@link ModelStore}. The header is signed by an admin ({@link ServerConfig#admins()}), whose key
 * may come from the request; only its manifest is checked (there is no task yet). While the bytes
 * arrive they are kept in the {@link UpdateStore} under {@link #key}, so a cut upload resumes like
 * an update; once complete and checked, the file is moved (not copied) into the model store, whose
 * own hash must be the announced one. A model the store already holds is answered at once.
 */
final class ModelTarget implements UploadTarget<PutModelRequest> {
    /**
     * The update-store task id of models in upload: task ids are lower case (TaskRegistry), so no
     * task has it; and a model's 64-hex-digit key never equals a 40-digit node id, even where a
     * case-insensitive filesystem would fold it onto a task's directory.
     */
    static final String UPLOADS_TASK = "PutModel";
    private static final HexFormat HEX = HexFormat.of();

    private final HeaderChecks checks;
    private final Admins admins;
    private final ModelStore models;
    private final UpdateStore uploads;
    private final GrpcMetrics metrics;

    ModelTarget(HeaderChecks checks, Admins admins, ModelStore models, UpdateStore uploads, GrpcMetrics metrics) {
        this.checks = Objects.requireNonNull(checks, "checks");
        this.admins = Objects.requireNonNull(admins, "admins");
        this.models = Objects.requireNonNull(models, "models");
        this.uploads = Objects.requireNonNull(uploads, "uploads");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    /** Where the partial upload of the model with this SHA-256 is kept. */
    static UpdateKey key(String sha256hex) {
        return new UpdateKey(UPLOADS_TASK, 0, sha256hex);
    }

    @Override
    public String rpc() {
        return "PutModel";
    }

    @Override
    public String headerName() {
        return "ModelHeader";
    }

    @Override
    public boolean isHeader(PutModelRequest message) {
        return message.hasHeader();
    }

    @Override
    public Chunk chunk(PutModelRequest message) {
        return message.hasChunk() ? message.getChunk() : null;
    }

    @Override
    public String context(PutModelRequest message) {
        ModelHeader h = message.getHeader();
        return "PutModel from node " + h.getAuth().getNodeId() + ", model " + HEX.formatHex(h.getSha256().toByteArray());
    }

    @Override
    public Admission admit(PutModelRequest message) throws Refusal {
        ModelHeader h = message.getHeader();
        UploadHeader header = HeaderChecks.wellFormed(h.hasAuth(), h.getManifestList(), h.getTotalBytes(),
                h.getSha256(), h.getResume(), "model");
        NodeId node = checks.signer(Purpose.PUT_MODEL, "", 0, h, h.getAuth(), true);
        admins.require(node, "upload models");
        checks.checkTotalBytes(header);
        String hex = HEX.formatHex(h.getSha256().toByteArray());
        return new Admission(node, key(hex), header, "model " + hex);
    }

    /**
     * The receipt of a model already in the store; or of one complete in the update store but not
     * moved yet (the server stopped in between), which is moved now.
     */
    @Override
    public Optional<UploadReceipt> stored(Admission admission) throws Refusal, IOException {
        String hex = admission.key().nodeId();
        Optional<Path> model = models.find(hex);
        if (model.isEmpty()) {
            Optional<Path> received = uploads.find(admission.key());
            if (received.isEmpty()) {
                return Optional.empty();
            }
            model = Optional.of(install(received.get(), hex));
        }
        long size = Files.size(model.get());
        if (size != admission.header().totalBytes()) {
            throw new Refusal(RefusalReason.SIZE_MISMATCH, "model " + hex + " is stored with " + size
                    + " bytes, but the header announced total_bytes " + admission.header().totalBytes());
        }
        return Optional.of(UploadReceipt.newBuilder().setSha256(admission.header().sha256()).setDurableBytes(size)
                .setComplete(true).build());
    }

    /** Moves the file into the model store; its entry in the update store goes with it. */
    @Override
    public void completed(Admission admission, PutModelRequest header, Path file) throws Refusal, IOException {
        install(file, admission.key().nodeId());
        metrics.modelStored();
    }

    /** What GetUploadOffset reports for the model with this SHA-256: complete once in the model store. */
    UploadStatus status(ByteString sha256) throws Refusal, IOException {
        if (sha256.size() != 32) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "model_sha256 must be the 32-byte SHA-256 of the"
                    + " model, got " + sha256.size() + " bytes");
        }
        String hex = HEX.formatHex(sha256.toByteArray());
        Optional<Path> model = models.find(hex);
        if (model.isPresent()) {
            long size = Files.size(model.get());
            return new UploadStatus(UploadStatus.State.COMPLETE, size, size);
        }
        return uploads.status(key(hex));
    }

    /**
     * Moves {@code received} (complete, verified, checked) into the model store and checks that
     * the store's hash is {@code hex}. A concurrent stream of the same model may have moved it
     * first: then the store holds it already.
     */
    private Path install(Path received, String hex) throws Refusal, IOException {
        String stored;
        try {
            stored = models.putFromWriter(temporary -> Files.move(received, temporary));
        } catch (NoSuchFileException movedAlready) {
            stored = hex;
        }
        if (!stored.equals(hex)) {
            // the bytes changed on disk after the upload verified them; they are stored under their own hash
            throw new Refusal(RefusalReason.CHECKSUM_MISMATCH, "the model store hashed the received bytes to "
                    + stored + " but the header announced " + hex + "; upload the file again from offset 0");
        }
        return models.find(hex).orElseThrow(() -> new NoSuchFileException("model " + hex
                + " was moved into the model store by another stream but is not there"));
    }
}
