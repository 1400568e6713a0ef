package org.murmur.server.grpc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.murmur.proto.v1.Chunk;
import org.murmur.proto.v1.UploadReceipt;

/**
 * What one client-streaming upload RPC adds to the stream machinery of {@link UploadStream}, which
 * does everything else (flow control, chunk order, idle deadline, stream limit, resume, half-close,
 * refusals, metrics). A target reads its request messages, admits a header, says what the stores
 * already hold, and takes the complete file. Implementations are stateless and thread-safe.
 *
 * @param <Q> the RPC's request message: a oneof of a header and a {@code Chunk}
 */
interface UploadTarget<Q> {
    /** The RPC's name, for log lines ("PushUpdate"). */
    String rpc();

    /** The header message's name, for refusals ("UpdateHeader"). */
    String headerName();

    boolean isHeader(Q message);

    /** The message's chunk, or null when it holds none. */
    Chunk chunk(Q message);

    /** The stream in words for log lines, from its header (checked or not). */
    String context(Q header);

    /**
     * Checks the header {@code message}: well formed, signed, allowed, a size the manifest
     * allows. Nothing is stored yet.
     */
    Admission admit(Q message) throws Refusal, IOException;

    /**
     * What the stores already hold for an admitted upload: a receipt to answer at once (a model
     * already stored), empty to receive the bytes, or a refusal (an update already complete).
     */
    Optional<UploadReceipt> stored(Admission admission) throws Refusal, IOException;

    /**
     * Takes the complete file: its size and SHA-256 verified and its content checked against the
     * manifest, published in the update store under the admission's key. Once this returns, the
     * stream acknowledges the upload as complete.
     *
     * @param header the stream's header message
     */
    void completed(Admission admission, Q header, Path file) throws Refusal, IOException;
}
