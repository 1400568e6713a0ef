package org.murmur.proto.client;

import java.io.IOException;

/**
 * A transfer failed on the transport (UNAVAILABLE, or the stream cancelled) on every attempt the
 * client was allowed; the cause is the last failure.
 */
public final class TransportException extends IOException {
    private static final long serialVersionUID = 1L;

    public TransportException(String message, Throwable cause) {
        super(message, cause);
    }
}
