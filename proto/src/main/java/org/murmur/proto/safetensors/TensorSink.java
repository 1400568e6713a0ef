package org.murmur.proto.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The channel a {@link TensorBytesWriter} sees for one tensor: it passes writes to the file,
 * refuses any byte beyond the tensor's length, and closing it never closes the file.
 */
final class TensorSink implements WritableByteChannel {
    private final FileChannel file;
    private final Path out;
    private final TensorHeader tensor;
    private final long expected;
    private long written;
    private boolean open = true;

    TensorSink(FileChannel file, Path out, TensorHeader tensor) {
        this.file = file;
        this.out = out;
        this.tensor = tensor;
        this.expected = tensor.byteLength();
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (!open) {
            throw new ClosedChannelException();
        }
        if (src.remaining() > expected - written) {
            throw wrongCount("more than " + expected);
        }
        int count = file.write(src);
        written += count;
        return count;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public void close() {
        open = false;
    }

    /** Ends this tensor, failing unless exactly its byte length was written. */
    void finish() throws IOException {
        open = false;
        if (written != expected) {
            throw wrongCount(String.valueOf(written));
        }
    }

    private IOException wrongCount(String actual) {
        return new IOException(out + ": tensor '" + tensor.name() + "': the data callback wrote " + actual
                + " bytes but shape " + Arrays.toString(tensor.shape()) + " of " + tensor.dtype()
                + " needs " + expected);
    }
}
