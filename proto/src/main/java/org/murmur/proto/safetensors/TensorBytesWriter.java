package org.murmur.proto.safetensors;

import java.io.IOException;
import java.nio.channels.WritableByteChannel;

/**
 * Supplies one tensor's data to {@link SafetensorsWriter}: called once per tensor, in the order
 * given, it must write exactly {@code tensor.byteLength()} little-endian bytes to {@code out}.
 * Writing more fails at once; writing fewer fails when the call returns. Closing {@code out}
 * only ends this tensor's writes; it does not close the file.
 */
@FunctionalInterface
public interface TensorBytesWriter {
    void write(TensorHeader tensor, WritableByteChannel out) throws IOException;
}
