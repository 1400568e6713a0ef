package org.murmur.proto.safetensors;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The element types this codec accepts; the constant names are the header's dtype tags. */
public enum TensorDtype {
    F32(4),
    F16(2),
    BF16(2);

    /** "F32, F16, BF16", for error messages. */
    static final String SUPPORTED_TAGS =
            Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));

    private final int byteSize;

    TensorDtype(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** Parses "F32", "F16" or "BF16" (case-sensitive, as the format is); returns null for anything else. */
    public static TensorDtype fromTag(String tag) {
        for (TensorDtype dtype : values()) {
            if (dtype.name().equals(tag)) {
                return dtype;
            }
        }
        return null;
    }
}
