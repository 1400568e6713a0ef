package org.murmur.proto.client;

import io.grpc.Metadata;
import io.grpc.Status;
import org.murmur.proto.Wire;

/**
 * The server refused a request: a gRPC status other than a transport failure, with the
 * {@code murmur-refusal} trailer's reason (a {@code RefusalReason} name, or null when the server
 * sent none) and the server's description, which says what to do about it.
 */
public final class RefusedException extends Exception {
    private static final long serialVersionUID = 1L;

    private final Status.Code code;
    private final String reason;
    private final String serverMessage;

    public RefusedException(Status.Code code, String reason, String serverMessage, Throwable cause) {
        super(code + (reason == null ? "" : " (" + reason + ")") + (serverMessage == null ? "" : ": " + serverMessage),
                cause);
        this.code = code;
        this.reason = reason;
        this.serverMessage = serverMessage;
    }

    static RefusedException of(Status status, Metadata trailers) {
        String reason = trailers == null ? null : trailers.get(Wire.REFUSAL_REASON);
        return new RefusedException(status.getCode(), reason, status.getDescription(), status.asRuntimeException(trailers));
    }

    /** The gRPC status code. */
    public Status.Code code() {
        return code;
    }

    /** The {@code RefusalReason} name from the {@code murmur-refusal} trailer, or null when absent. */
    public String reason() {
        return reason;
    }

    /** The server's status description, or null when it sent none. */
    public String serverMessage() {
        return serverMessage;
    }
}
