package org.murmur.proto.safetensors;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * A safetensors file that cannot be used. The message always starts with the file path, then
 * names the tensor at fault where there is one, e.g.
 * {@code /x/a.safetensors: tensor 'w': data_offsets [0, 12] hold 12 bytes but shape [4] of F16 needs 8},
 * so it can be shown to a user as it is.
 */
public final class SafetensorsException extends RuntimeException {
    private final transient Path file;
    private final String tensorName;

    public SafetensorsException(Path file, String problem) {
        this(file, null, problem, null);
    }

    public SafetensorsException(Path file, String tensorName, String problem) {
        this(file, tensorName, problem, null);
    }

    /** {@code tensorName} may be null when no single tensor is at fault. */
    public SafetensorsException(Path file, String tensorName, String problem, Throwable cause) {
        super(Objects.requireNonNull(file, "file") + ": "
                + (tensorName == null ? "" : "tensor '" + tensorName + "': ") + problem, cause);
        this.file = file;
        this.tensorName = tensorName;
    }

    /** The file at fault. */
    public Path file() {
        return file;
    }

    /** The tensor at fault, if one is. */
    public Optional<String> tensorName() {
        return Optional.ofNullable(tensorName);
    }
}
