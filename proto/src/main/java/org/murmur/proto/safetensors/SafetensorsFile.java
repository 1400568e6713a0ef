package org.murmur.proto.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An open safetensors file whose header has been fully validated: every tensor has a supported
 * dtype, offsets that match its shape, and the tensors tile the data buffer exactly. Tensor
 * bytes are never copied; {@link #map} memory-maps them, so files and tensors beyond 2 GiB work.
 * Thread-safe once opened.
 */
public final class SafetensorsFile implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final List<TensorEntry> tensors;
    private final Map<String, TensorEntry> byName;
    private final Map<String, String> metadata;
    private final long dataStart;
    private final long dataLength;
    /** Shared read-only mappings of the data buffer, one per window, made on first use. */
    private final Map<Long, ByteBuffer> windows = new HashMap<>();

    /** Bytes per shared mapping of the data buffer. */
    static final long WINDOW_BYTES = 1L << 30;

    private SafetensorsFile(Path path, FileChannel channel, HeaderParser.ParsedHeader header, long dataStart, long dataLength) {
        this.path = path;
        this.channel = channel;
        this.tensors = header.tensors();
        this.metadata = header.metadata();
        this.dataStart = dataStart;
        this.dataLength = dataLength;
        this.byName = new HashMap<>();
        for (TensorEntry tensor : tensors) {
            byName.put(tensor.name(), tensor);
        }
    }

    /**
     * Opens and validates {@code path}.
     *
     * @throws SafetensorsException if the file is malformed or cannot be read; the message names
     *                              the file and, where one is at fault, the tensor
     */
    public static SafetensorsFile open(Path path) {
        Objects.requireNonNull(path, "path");
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new SafetensorsException(path, null, "cannot open: " + e, e);
        }
        try {
            return read(path, channel);
        } catch (RuntimeException e) {
            try {
                channel.close();
            } catch (IOException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            throw e;
        }
    }

    private static SafetensorsFile read(Path path, FileChannel channel) {
        HeaderReader.RawHeader raw;
        try {
            raw = HeaderReader.read(path, channel);
        } catch (IOException e) {
            throw new SafetensorsException(path, null, "cannot read: " + e, e);
        }
        HeaderParser.ParsedHeader header = HeaderParser.parse(path, raw.json());
        DataLayout.check(path, header.tensors(), raw.fileSize() - raw.dataStart());
        return new SafetensorsFile(path, channel, header, raw.dataStart(), raw.fileSize() - raw.dataStart());
    }

    public Path path() {
        return path;
    }

    /** The tensors, sorted by name ({@link String#compareTo}); unmodifiable. */
    public List<TensorEntry> tensors() {
        return tensors;
    }

    /** The {@code __metadata__} entries, empty if there are none; unmodifiable. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** File offset of the data buffer: 8 plus the header length. */
    public long dataStart() {
        return dataStart;
    }

    /**
     * Memory-maps one tensor's bytes read-only, as little-endian buffers of at most
     * {@code maxChunkBytes} each: every chunk but the last holds exactly {@code maxChunkBytes}, so
     * no element straddles two chunks. A 0-byte tensor gives one empty buffer. The buffers stay
     * valid after {@link #close}.
     *
     * @param tensor        an entry of {@link #tensors()}
     * @param maxChunkBytes a positive multiple of the element size, at most {@link Integer#MAX_VALUE}
     */
    public ByteBuffer[] map(TensorEntry tensor, long maxChunkBytes) {
        Objects.requireNonNull(tensor, "tensor");
        if (!tensor.equals(byName.get(tensor.name()))) {
            throw new IllegalArgumentException(path + ": " + tensor + " is not an entry of this file");
        }
        int elementSize = tensor.dtype().byteSize();
        if (maxChunkBytes <= 0 || maxChunkBytes > Integer.MAX_VALUE || maxChunkBytes % elementSize != 0) {
            throw new IllegalArgumentException("maxChunkBytes " + maxChunkBytes + " is not a positive multiple of "
                    + elementSize + " (the size of " + tensor.dtype() + ") up to " + Integer.MAX_VALUE);
        }
        long length = tensor.byteLength();
        if (length <= maxChunkBytes && fitsInOneWindow(tensor)) {
            return new ByteBuffer[] {windowSlice(tensor)};
        }
        long fullChunks = length / maxChunkBytes;
        int chunkCount = Math.toIntExact(Math.max(1, fullChunks + (length % maxChunkBytes == 0 ? 0 : 1)));
        ByteBuffer[] chunks = new ByteBuffer[chunkCount];
        try {
            for (int i = 0; i < chunkCount; i++) {
                long offset = i * maxChunkBytes;
                long size = Math.min(maxChunkBytes, length - offset);
                chunks[i] = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + tensor.begin() + offset, size)
                        .order(ByteOrder.LITTLE_ENDIAN);
            }
        } catch (IOException e) {
            throw new SafetensorsException(path, tensor.name(), "cannot map: " + e, e);
        }
        return chunks;
    }

    private static boolean fitsInOneWindow(TensorEntry tensor) {
        return tensor.byteLength() == 0 || tensor.begin() / WINDOW_BYTES == (tensor.end() - 1) / WINDOW_BYTES;
    }

    /**
     * A tensor's bytes as a slice of the shared mapping of its window. An adapter file holds
     * hundreds of small tensors and a server may open hundreds of files; one mapping per tensor
     * would exhaust the kernel's limit on mappings per process (65,530 by default).
     */
    private synchronized ByteBuffer windowSlice(TensorEntry tensor) {
        long window = tensor.begin() / WINDOW_BYTES;
        ByteBuffer mapped = windows.get(window);
        if (mapped == null) {
            long start = window * WINDOW_BYTES;
            long size = Math.min(WINDOW_BYTES, dataLength - start);
            try {
                mapped = channel.map(FileChannel.MapMode.READ_ONLY, dataStart + start, size);
            } catch (IOException e) {
                throw new SafetensorsException(path, tensor.name(), "cannot map: " + e, e);
            }
            windows.put(window, mapped);
        }
        int at = (int) (tensor.begin() - window * WINDOW_BYTES);
        return mapped.slice(at, (int) tensor.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Closes the file; buffers already mapped stay valid. */
    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new SafetensorsException(path, null, "cannot close: " + e, e);
        }
    }
}
