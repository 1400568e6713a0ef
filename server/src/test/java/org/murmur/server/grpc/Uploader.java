package org.murmur.server.grpc;

import java.util.List;
import java.util.function.LongSupplier;
import org.murmur.proto.v1.PushUpdateRequest;

/** The client side of one PushUpdate call; see {@link ClientUpload}. */
final class Uploader extends ClientUpload<PushUpdateRequest> {
    Uploader(List<PushUpdateRequest> messages, boolean halfClose) {
        this(messages, halfClose, null);
    }

    /** @see ClientUpload#ClientUpload(List, boolean, LongSupplier, java.util.function.ToIntFunction) */
    Uploader(List<PushUpdateRequest> messages, boolean halfClose, LongSupplier serverBytesWritten) {
        super(messages, halfClose, serverBytesWritten, m -> m.getChunk().getData().size());
    }
}
