package org.murmur.kernels.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.TensorData;
import org.murmur.kernels.api.UpdateBatch;

/**
 * Lays a coordinate tile of chosen updates out in a staging buffer as the kernels read it
 * (murmur_math.cuh): one 32-bit descriptor per row, then each row at a 16-byte aligned offset from
 * the start of the tile, the descriptor holding that offset and the row's element type. A row whose
 * coordinates in the tile all come from tensors of one element type is copied as it is stored, so
 * F16 and BF16 cross the bus at half the bytes; a row that spans tensors of different types is
 * decoded to F32 here. Values are not checked: the kernels flag a NaN or an infinity, and {@link
 * #requireFinite} then names it. One instance per pass; not thread-safe.
 */
final class TileStager {
    /** The alignment of every row, which leaves the low 4 bits of a descriptor for the type. */
    static final int ALIGNMENT = 16;

    private final UpdateBatch batch;
    private final int[] rows;
    private final long[] starts;
    /** The chosen updates' tensors, [row][tensor] in layout order. */
    private final TensorData[][] tensors;
    /** Their stored bytes, [row][tensor][chunk]. */
    private final ByteBuffer[][][] chunks;
    private float[] decoded = new float[0];

    TileStager(UpdateBatch batch, int[] rows) {
        this.batch = batch;
        this.rows = rows.clone();
        this.starts = batch.tensorStarts();
        this.tensors = new TensorData[rows.length][];
        this.chunks = new ByteBuffer[rows.length][][];
        for (int r = 0; r < rows.length; r++) {
            List<TensorData> list = batch.update(rows[r]).tensors();
            tensors[r] = list.toArray(new TensorData[0]);
            chunks[r] = new ByteBuffer[list.size()][];
            for (int t = 0; t < list.size(); t++) {
                chunks[r][t] = list.get(t).chunks();
            }
        }
    }

    /** Bytes of the descriptors at the start of a tile of {@code rows} rows. */
    static int descriptorBytes(int rows) {
        return Math.toIntExact(align(4L * rows));
    }

    /** The most bytes a tile of {@code rows} rows of {@code width} coordinates can take. */
    static long tileBytes(int rows, int width) {
        return descriptorBytes(rows) + rows * align(4L * width);
    }

    /** The widest tile of {@code rows} rows that always fits in {@code slotBytes}; 0 if none does. */
    static int widthFor(int rows, long slotBytes) {
        long perRow = (slotBytes - descriptorBytes(rows)) / rows;
        return (int) Math.min(Integer.MAX_VALUE, Math.max(0, perRow / ALIGNMENT * ALIGNMENT / 4));
    }

    /** The code of an element type in a descriptor: kF32, kF16 and kBF16 of murmur_math.cuh. */
    static int code(ElementType type) {
        return switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case BF16 -> 2;
        };
    }

    /**
     * Stages coordinates {@code [start, start + length)} of every chosen update into {@code dst}
     * from its index 0 (absolute writes; position and limit are left alone) and returns the bytes
     * written, at most {@link #tileBytes}.
     */
    int stage(long start, int length, ByteBuffer dst) {
        ByteBuffer out = dst.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int offset = descriptorBytes(rows.length);
        for (int r = 0; r < rows.length; r++) {
            ElementType type = storedType(r, start, length);
            if (type != null) {
                copyStored(r, start, length, out, offset);
            } else {
                type = ElementType.F32;
                if (decoded.length < length) {
                    decoded = new float[length];
                }
                batch.decode(rows[r], start, length, decoded, 0);
                out.slice(offset, 4 * length).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(decoded, 0, length);
            }
            out.putInt(4 * r, offset | code(type));
            offset += (int) align((long) length * type.byteSize());
        }
        return offset;
    }

    /**
     * Reads every chosen update through the batch's checked path, whose exception names the
     * update, tensor and element of the first NaN or infinity; returns normally if there is none.
     */
    void requireFinite() {
        float[] block = new float[1 << 16];
        long dimension = batch.dimension();
        for (int row : rows) {
            for (long from = 0; from < dimension; from += block.length) {
                batch.read(row, from, (int) Math.min(block.length, dimension - from), block, 0);
            }
        }
    }

    /** The element type of every tensor row r has in the range, or null when they differ. */
    private ElementType storedType(int r, long start, int length) {
        ElementType type = null;
        long end = start + length;
        for (int t = firstTensor(start); t < tensors[r].length && starts[t] < end; t++) {
            if (starts[t + 1] > start && starts[t + 1] > starts[t]) {
                ElementType own = tensors[r][t].type();
                if (type != null && type != own) {
                    return null;
                }
                type = own;
            }
        }
        return type == null ? ElementType.F32 : type;
    }

    /** Copies the stored bytes of row r's range, tensor by tensor and chunk by chunk. */
    private void copyStored(int r, long start, int length, ByteBuffer out, int offset) {
        long end = start + length;
        int at = offset;
        for (int t = firstTensor(start); t < tensors[r].length && starts[t] < end; t++) {
            long from = Math.max(start, starts[t]) - starts[t];
            long to = Math.min(end, starts[t + 1]) - starts[t];
            int size = tensors[r][t].type().byteSize();
            long chunkElements = tensors[r][t].chunkElements();
            while (from < to) {
                int chunk = (int) (from / chunkElements);
                int inChunk = (int) (from - chunk * chunkElements);
                int run = (int) Math.min(to - from, chunkElements - inChunk);
                out.put(at, chunks[r][t][chunk], inChunk * size, run * size);
                at += run * size;
                from += run;
            }
        }
    }

    /** A tensor at or before the first one holding {@code coordinate}; those before it are empty. */
    private int firstTensor(long coordinate) {
        int t = Arrays.binarySearch(starts, coordinate);
        return t >= 0 ? t : -t - 2;
    }

    private static long align(long bytes) {
        return (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }
}
