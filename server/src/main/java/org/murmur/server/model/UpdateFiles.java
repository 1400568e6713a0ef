package org.murmur.server.model;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.TensorData;
import org.murmur.kernels.api.Update;
import org.murmur.proto.safetensors.SafetensorsFile;
import org.murmur.proto.safetensors.TensorEntry;

/**
 * Opens a safetensors file as an {@link Update} whose tensors are memory-mapped, never read onto
 * the heap; the mappings stay valid after the file is closed. The update's label is the path, so
 * every later error names the file.
 */
public final class UpdateFiles {
    /** Bytes per mapping: 1 GiB, a multiple of every element size and under the 2 GiB limit. */
    static final long CHUNK_BYTES = 1L << 30;

    private UpdateFiles() {
    }

    public static Update open(Path path) {
        return open(path, path.toString());
    }

    /** Opens {@code path} as an update whose errors name it {@code label}. */
    public static Update open(Path path, String label) {
        try (SafetensorsFile file = SafetensorsFile.open(path)) {
            List<TensorData> tensors = new ArrayList<>();
            for (TensorEntry entry : file.tensors()) {
                ElementType type = ElementType.valueOf(entry.dtype().name());
                ByteBuffer[] chunks = file.map(entry, CHUNK_BYTES);
                tensors.add(new TensorData(entry.name(), type, entry.shape(), chunks, CHUNK_BYTES / type.byteSize()));
            }
            return new Update(label, tensors);
        }
    }
}
