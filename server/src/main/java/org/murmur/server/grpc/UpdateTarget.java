package org.murmur.server.grpc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import org.murmur.proto.identity.NodeId;
import org.murmur.proto.identity.Purpose;
import org.murmur.proto.v1.Chunk;
import org.murmur.proto.v1.PushUpdateRequest;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.UpdateHeader;
import org.murmur.proto.v1.UploadReceipt;
import org.murmur.server.model.ModelSchema;
import org.murmur.server.store.UpdateKey;
import org.murmur.server.store.UpdateStore;

/**
 * PushUpdate: a proposer's update for a round. The header must be signed by the node's registered
 * key, pass the round gate (task, round, phase, deadline, stake, proposer), announce the task's
 * model schema and at least one training sample; the update is kept under (task, round, node), is
 * never replaced once complete, and is recorded with the gate as a {@link Contribution}.
 */
final class UpdateTarget implements UploadTarget<PushUpdateRequest> {
    private final HeaderChecks checks;
    private final RoundGate gate;
    private final UpdateStore store;
    private final GrpcMetrics metrics;

    UpdateTarget(HeaderChecks checks, RoundGate gate, UpdateStore store, GrpcMetrics metrics) {
        this.checks = Objects.requireNonNull(checks, "checks");
        this.gate = Objects.requireNonNull(gate, "gate");
        this.store = Objects.requireNonNull(store, "store");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
    }

    @Override
    public String rpc() {
        return "PushUpdate";
    }

    @Override
    public String headerName() {
        return "UpdateHeader";
    }

    @Override
    public boolean isHeader(PushUpdateRequest message) {
        return message.hasHeader();
    }

    @Override
    public Chunk chunk(PushUpdateRequest message) {
        return message.hasChunk() ? message.getChunk() : null;
    }

    @Override
    public String context(PushUpdateRequest message) {
        UpdateHeader h = message.getHeader();
        return "PushUpdate from node " + h.getAuth().getNodeId() + ", task " + h.getTaskId() + ", round "
                + Long.toUnsignedString(h.getRound());
    }

    @Override
    public Admission admit(PushUpdateRequest message) throws Refusal {
        UpdateHeader h = message.getHeader();
        UploadHeader header = HeaderChecks.wellFormed(h.hasAuth(), h.getManifestList(), h.getTotalBytes(),
                h.getSha256(), h.getResume(), "update");
        if (h.getTaskId().isEmpty()) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "header.task_id is empty");
        }
        if (h.getNumSamples() < 1) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "header.num_samples must be at least 1, got "
                    + Long.toUnsignedString(h.getNumSamples()));
        }
        NodeId node = checks.signer(Purpose.PUSH_UPDATE, h.getTaskId(), h.getRound(), h, h.getAuth(), false);
        UploadVerdict verdict = gate.checkUpload(h.getTaskId(), h.getRound(), node);
        if (verdict != UploadVerdict.ALLOWED) {
            throw new Refusal(verdict.reason().orElseThrow(), explain(verdict, h, node));
        }
        ModelSchema schema = gate.schema(h.getTaskId()).orElseThrow(() ->
                new Refusal(RefusalReason.UNKNOWN_TASK, "task " + h.getTaskId() + " does not exist"));
        Optional<String> difference = header.manifest().firstDifference(schema, "the manifest",
                "the task's model schema");
        if (difference.isPresent()) {
            throw new Refusal(RefusalReason.SCHEMA_MISMATCH, "the manifest does not match the model schema of"
                    + " task " + h.getTaskId() + ": " + difference.get());
        }
        checks.checkTotalBytes(header);
        UpdateKey key = key(h.getTaskId(), h.getRound(), node.hex(), "header");
        return new Admission(node, key, header, "this update (" + key + ")");
    }

    /** An update is never replaced: a complete one is a refusal. */
    @Override
    public Optional<UploadReceipt> stored(Admission admission) throws Refusal {
        UpdateKey key = admission.key();
        if (store.find(key).isPresent()) {
            throw new Refusal(RefusalReason.DUPLICATE_UPDATE, "node " + key.nodeId() + " already has a complete"
                    + " update for round " + key.round() + " of task " + key.taskId() + "; an update is never"
                    + " replaced");
        }
        return Optional.empty();
    }

    /** Records the contribution with the round gate. */
    @Override
    public void completed(Admission admission, PushUpdateRequest message, Path file) throws Refusal, IOException {
        UpdateHeader h = message.getHeader();
        gate.contributed(new Contribution(admission.key(), h.getSha256().toByteArray(), h.getNumSamples(),
                h.getTotalBytes(), file, h.getAuth().getNonce().toByteArray()));
        metrics.updateAdmitted();
    }

    /**
     * The store key of an update named in a request.
     *
     * @param field how the key's fields are named in messages ("header", "update")
     */
    static UpdateKey key(String taskId, long round, String nodeId, String field) throws Refusal {
        if (round < 0) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, field + ".round " + Long.toUnsignedString(round)
                    + " is out of range");
        }
        try {
            NodeId.parse(nodeId);
            return new UpdateKey(taskId, round, nodeId);
        } catch (IllegalArgumentException e) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, field + ": " + e.getMessage());
        }
    }

    private static String explain(UploadVerdict verdict, UpdateHeader header, NodeId node) {
        String round = "round " + Long.toUnsignedString(header.getRound()) + " of task " + header.getTaskId();
        return switch (verdict) {
            case UNKNOWN_TASK -> "task " + header.getTaskId() + " does not exist";
            case UNKNOWN_ROUND -> "task " + header.getTaskId() + " has no round "
                    + Long.toUnsignedString(header.getRound());
            case NOT_ACCEPTING -> round + " is not accepting updates: its contribute phase is not open"
                    + " (watch the round's events for PHASE_CONTRIBUTE)";
            case DEADLINE_PASSED -> round + " no longer accepts updates: its contribute deadline has passed";
            case NODE_REMOVED -> "node " + node + " was removed from task " + header.getTaskId()
                    + " (stake below the minimum)";
            case NOT_STAKED -> "node " + node + " has no stake in task " + header.getTaskId() + ": stake first";
            case NOT_PROPOSER -> "node " + node + " is not a proposer of " + round
                    + " (see GetAssignment for its role)";
            case ALLOWED -> throw new IllegalArgumentException("not a refusal");
        };
    }
}
