package org.murmur.proto;

import io.grpc.Metadata;

/**
 * Sizes and names that the client and the server must agree on, in one place. Both sides set
 * their maximum inbound message size to {@link #MAX_MESSAGE_BYTES} and cut files into chunks of
 * {@link #CHUNK_BYTES}: four times the chunk leaves room for framing and for a peer that sends a
 * slightly bigger chunk, while a runaway message is still refused by gRPC before it is buffered.
 */
public final class Wire {
    /** Bytes of file data per upload or download chunk (1 MiB); the last chunk may be shorter. */
    public static final int CHUNK_BYTES = 1 << 20;

    /** Maximum size of one gRPC message, inbound, on both sides (4 MiB). */
    public static final int MAX_MESSAGE_BYTES = 4 << 20;

    /**
     * Trailer that carries a refusal's {@code RefusalReason} name (for example
     * {@code "CHECKSUM_MISMATCH"}) beside the gRPC status.
     */
    public static final Metadata.Key<String> REFUSAL_REASON =
            Metadata.Key.of("murmur-refusal", Metadata.ASCII_STRING_MARSHALLER);

    private Wire() {
    }
}
