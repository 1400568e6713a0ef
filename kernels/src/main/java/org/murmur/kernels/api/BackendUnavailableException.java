package org.murmur.kernels.api;

/** A backend that was asked for by name cannot run here; the message says why. */
public class BackendUnavailableException extends RuntimeException {
    public BackendUnavailableException(String message) {
        super(message);
    }
}
