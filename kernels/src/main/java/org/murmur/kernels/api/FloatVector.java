package org.murmur.kernels.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A float32 vector of any length, kept off the Java heap in a memory-mapped scratch file that is
 * unlinked as soon as it is mapped (so nothing is left behind, even after a crash). Results and
 * the iterates of the whole-vector rules live here. Disjoint ranges may be written from different
 * threads at once.
 */
public final class FloatVector {
    /** Floats per mapped chunk: 1 GiB, under the 2 GiB limit of one mapping. */
    static final int CHUNK_FLOATS = 1 << 28;

    private final long length;
    private final FloatBuffer[] chunks;

    private FloatVector(long length, FloatBuffer[] chunks) {
        this.length = length;
        this.chunks = chunks;
    }

    /** A zeroed vector backed by a scratch file in {@code scratchDir}. */
    public static FloatVector allocate(long length, Path scratchDir) {
        if (length < 0) {
            throw new IllegalArgumentException("length " + length);
        }
        try {
            Path file = Files.createTempFile(scratchDir, ".murmur-vector-", ".f32");
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                int count = (int) ((length + CHUNK_FLOATS - 1) / CHUNK_FLOATS);
                FloatBuffer[] chunks = new FloatBuffer[count];
                for (int i = 0; i < count; i++) {
                    long floats = Math.min(CHUNK_FLOATS, length - (long) i * CHUNK_FLOATS);
                    chunks[i] = channel.map(FileChannel.MapMode.READ_WRITE, (long) i * CHUNK_FLOATS * 4, floats * 4)
                            .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
                }
                return new FloatVector(length, chunks);
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot allocate a scratch vector of " + length + " floats in " + scratchDir, e);
        }
    }

    /** A zeroed vector in the default temporary directory. */
    public static FloatVector allocate(long length) {
        return allocate(length, Path.of(System.getProperty("java.io.tmpdir")));
    }

    public long length() {
        return length;
    }

    /** Copies {@code src[offset, offset + count)} to {@code [index, index + count)}. */
    public void put(long index, float[] src, int offset, int count) {
        checkRange(index, count);
        while (count > 0) {
            int chunk = (int) (index / CHUNK_FLOATS);
            int at = (int) (index % CHUNK_FLOATS);
            int run = Math.min(count, CHUNK_FLOATS - at);
            chunks[chunk].put(at, src, offset, run);
            index += run;
            offset += run;
            count -= run;
        }
    }

    /** Copies {@code [index, index + count)} into {@code dst[offset ...]}. */
    public void get(long index, float[] dst, int offset, int count) {
        checkRange(index, count);
        while (count > 0) {
            int chunk = (int) (index / CHUNK_FLOATS);
            int at = (int) (index % CHUNK_FLOATS);
            int run = Math.min(count, CHUNK_FLOATS - at);
            chunks[chunk].get(at, dst, offset, run);
            index += run;
            offset += run;
            count -= run;
        }
    }

    /**
     * Writes {@code [from, from + count)} to {@code channel}, encoded little-endian as {@code type}.
     * Throws {@link ArithmeticException} naming the element when a finite value would become
     * infinite in a narrower type.
     */
    public void writeTo(WritableByteChannel channel, long from, long count, ElementType type) throws IOException {
        checkRange(from, count);
        int block = 1 << 16;
        float[] values = new float[block];
        ByteBuffer bytes = ByteBuffer.allocateDirect(block * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (long done = 0; done < count; ) {
            int run = (int) Math.min(block, count - done);
            get(from + done, values, 0, run);
            bytes.clear();
            if (type == ElementType.F32) {
                bytes.asFloatBuffer().put(values, 0, run);
                bytes.position(run * 4);
            } else {
                for (int i = 0; i < run; i++) {
                    short half = type == ElementType.F16 ? ElementType.floatToF16(values[i]) : ElementType.floatToBf16(values[i]);
                    float back = type == ElementType.F16 ? ElementType.f16ToFloat(half) : ElementType.bf16ToFloat(half);
                    if (Float.isInfinite(back) && Float.isFinite(values[i])) {
                        throw new ArithmeticException("element " + (done + i) + " = " + values[i] + " overflows " + type);
                    }
                    bytes.putShort(half);
                }
            }
            bytes.flip();
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            done += run;
        }
    }

    private void checkRange(long index, long count) {
        if (index < 0 || count < 0 || index + count > length) {
            throw new IndexOutOfBoundsException("[" + index + ", " + (index + count) + ") of " + length);
        }
    }
}
