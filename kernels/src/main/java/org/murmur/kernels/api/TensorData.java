package org.murmur.kernels.api;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * One named tensor of one update: its element type, shape and little-endian bytes, which may be
 * split over several buffers (a memory-mapped buffer holds at most 2 GiB). Every buffer but the
 * last holds exactly {@code chunkElements} elements. The bytes are never copied onto the heap as
 * a whole: {@link #read} decodes a requested range into a caller-owned float array. Instances are
 * immutable and safe to read from many threads at once.
 */
public final class TensorData {
    private final String name;
    private final ElementType type;
    private final long[] shape;
    private final long elementCount;
    private final ByteBuffer[] chunks;
    private final long chunkElements;

    public TensorData(String name, ElementType type, long[] shape, ByteBuffer[] chunks, long chunkElements) {
        this.name = Objects.requireNonNull(name, "name");
        this.type = Objects.requireNonNull(type, "type");
        this.shape = shape.clone();
        this.elementCount = elementCount(shape);
        if (chunkElements <= 0 || chunkElements * type.byteSize() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("chunk of " + chunkElements + " elements for tensor " + name);
        }
        this.chunkElements = chunkElements;
        this.chunks = new ByteBuffer[chunks.length];
        long covered = 0;
        for (int i = 0; i < chunks.length; i++) {
            ByteBuffer chunk = chunks[i].duplicate().order(ByteOrder.LITTLE_ENDIAN);
            long elements = chunk.remaining() / type.byteSize();
            boolean last = i == chunks.length - 1;
            if (chunk.remaining() % type.byteSize() != 0 || (!last && elements != chunkElements)) {
                throw new IllegalArgumentException("tensor " + name + ": chunk " + i + " is not " + chunkElements + " whole elements");
            }
            this.chunks[i] = chunk.slice().order(ByteOrder.LITTLE_ENDIAN);
            covered += elements;
        }
        if (covered != elementCount) {
            throw new IllegalArgumentException("tensor " + name + ": " + covered + " elements stored, shape "
                    + Arrays.toString(shape) + " needs " + elementCount);
        }
    }

    /** A tensor held in one buffer (at most 2 GiB). */
    public static TensorData of(String name, ElementType type, long[] shape, ByteBuffer data) {
        long count = elementCount(shape);
        return new TensorData(name, type, shape, new ByteBuffer[] {data}, Math.max(1, count));
    }

    /** The number of elements a shape holds; a 0-d shape holds one. */
    public static long elementCount(long[] shape) {
        long count = 1;
        for (long dim : shape) {
            if (dim < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, dim);
        }
        return count;
    }

    public String name() {
        return name;
    }

    public ElementType type() {
        return type;
    }

    public long[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        return elementCount;
    }

    /** The raw little-endian buffers, for backends that copy bytes to a device as they are. */
    public ByteBuffer[] chunks() {
        ByteBuffer[] copies = new ByteBuffer[chunks.length];
        for (int i = 0; i < chunks.length; i++) {
            copies[i] = chunks[i].duplicate().order(ByteOrder.LITTLE_ENDIAN);
        }
        return copies;
    }

    public long chunkElements() {
        return chunkElements;
    }

    /**
     * Decodes elements {@code [from, from + count)} to float32 into {@code dst[offset ...]}.
     * Thread-safe: only absolute reads are used.
     */
    public void read(long from, int count, float[] dst, int offset) {
        if (from < 0 || count < 0 || from + count > elementCount) {
            throw new IndexOutOfBoundsException("tensor " + name + ": [" + from + ", " + (from + count) + ") of " + elementCount);
        }
        while (count > 0) {
            int chunk = (int) (from / chunkElements);
            int inChunk = (int) (from - chunk * chunkElements);
            int run = (int) Math.min(count, chunkElements - inChunk);
            decode(chunks[chunk], inChunk, run, dst, offset);
            from += run;
            offset += run;
            count -= run;
        }
    }

    private void decode(ByteBuffer chunk, int element, int count, float[] dst, int offset) {
        switch (type) {
            case F32:
                chunk.asFloatBuffer().get(element, dst, offset, count);
                break;
            case BF16:
                for (int i = 0; i < count; i++) {
                    dst[offset + i] = ElementType.bf16ToFloat(chunk.getShort((element + i) << 1));
                }
                break;
            case F16:
                for (int i = 0; i < count; i++) {
                    dst[offset + i] = ElementType.f16ToFloat(chunk.getShort((element + i) << 1));
                }
                break;
            default:
                throw new AssertionError(type);
        }
    }
}
