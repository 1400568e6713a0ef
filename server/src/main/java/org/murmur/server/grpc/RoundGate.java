package org.murmur.server.grpc;

import java.io.IOException;
import java.security.PublicKey;
import java.util.Optional;
import org.murmur.proto.identity.NodeId;
import org.murmur.server.model.ModelSchema;

/**
 * What the upload path asks the round engine: who a node is, what a task's model looks like, and
 * whether a node may upload its update to a round now. The engine owns stakes, phases and role
 * draws; the upload path owns bytes. Implementations must be thread-safe: every upload stream
 * calls in from its own thread.
 */
public interface RoundGate {
    /** The Ed25519 public key registered for {@code node} (on its first Stake), or empty. */
    Optional<PublicKey> publicKey(NodeId node);

    /** The model schema of {@code taskId}, or empty when the task is unknown. */
    Optional<ModelSchema> schema(String taskId);

    /**
     * Whether {@code node} may upload its update to {@code round} of {@code taskId} now. The
     * checks run in the order of {@link UploadVerdict}'s constants, and the first that fails is
     * the answer. {@code round} is an unsigned 64-bit value.
     */
    UploadVerdict checkUpload(String taskId, long round, NodeId node);

    /**
     * Records an admitted update: complete, checked (size, SHA-256, schema, finite values) and
     * durable in the update store. Called once per update, before its receipt is sent, so an update
     * is aggregated only once it is recorded here. A refusal (the contribute phase closed while the
     * last bytes arrived, say) is the node's answer; an IOException fails the upload (the node sees
     * UNAVAILABLE and may retry; the stored file stays).
     */
    void contributed(Contribution contribution) throws Refusal, IOException;
}
