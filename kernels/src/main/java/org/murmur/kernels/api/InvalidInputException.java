package org.murmur.kernels.api;

/**
 * An input the rules must refuse: a malformed or mismatched update, a non-finite value, or a
 * parameter outside a rule's requirements. The message names the file, tensor or parameter at
 * fault and is meant to be shown to the user as it is.
 */
public class InvalidInputException extends RuntimeException {
    public InvalidInputException(String message) {
        super(message);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
