package org.murmur.bench.ingest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.murmur.proto.safetensors.SafetensorsException;
import org.murmur.proto.safetensors.SafetensorsFile;
import org.murmur.proto.safetensors.SafetensorsWriter;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.safetensors.TensorEntry;
import org.murmur.proto.safetensors.TensorHeader;

/**
 * The updates the ingest benchmark uploads: safetensors files holding exactly {@code dataBytes}
 * bytes of tensor data, as tensors {@code layers.NN.delta} of shape [rows, {@link #COLUMNS}] of at
 * most {@link #TENSOR_BYTES} each. Values are finite and never zero (random sign, mantissa and
 * one of eight exponents, magnitudes in [2^-9, 2^-1)), drawn from a SplitMix64 stream seeded by
 * the update's index, so a file is the same whoever writes it and different updates differ.
 *
 * <p>A file is cached under its name, {@code update-<dtype>-<dataBytes>-<index>.safetensors}, and
 * reused while its header and size are right: {@link SafetensorsWriter} writes it under a
 * temporary name and renames it, so a file with that name is always complete.
 */
public final class SyntheticUpdates {
    /** Width of every tensor. */
    static final int COLUMNS = 4096;
    /** Largest tensor: 1 GiB, so an update of several GiB holds a few big tensors. */
    static final long TENSOR_BYTES = 1L << 30;
    private static final int BLOCK_BYTES = 4 << 20;
    private static final long SEED = 0x6d75726d7572L;

    private SyntheticUpdates() {
    }

    /** The tensors of an update of {@code dataBytes}; IllegalArgumentException unless it is a whole number of rows. */
    public static List<TensorHeader> schema(TensorDtype dtype, long dataBytes) {
        long rowBytes = (long) COLUMNS * dtype.byteSize();
        if (dataBytes <= 0 || dataBytes % rowBytes != 0) {
            throw new IllegalArgumentException("an update's data must be a positive multiple of " + rowBytes
                    + " bytes (rows of " + COLUMNS + " " + dtype + " values), got " + dataBytes);
        }
        long rowsPerTensor = TENSOR_BYTES / rowBytes;
        List<TensorHeader> tensors = new ArrayList<>();
        for (long rows = dataBytes / rowBytes; rows > 0; rows -= rowsPerTensor) {
            tensors.add(new TensorHeader(String.format(Locale.ROOT, "layers.%02d.delta", tensors.size()), dtype,
                    new long[] {Math.min(rows, rowsPerTensor), COLUMNS}));
        }
        return tensors;
    }

    public static Path path(Path dir, TensorDtype dtype, long dataBytes, int index) {
        return dir.resolve("update-" + dtype.name().toLowerCase(Locale.ROOT) + "-" + dataBytes + "-"
                + index + ".safetensors");
    }

    /** The cached update {@code index}, written first unless a complete one exists. */
    public static Path ensure(Path dir, TensorDtype dtype, long dataBytes, int index) throws IOException {
        Path file = path(dir, dtype, dataBytes, index);
        List<TensorHeader> tensors = schema(dtype, dataBytes);
        if (isComplete(file, tensors, dataBytes)) {
            return file;
        }
        Files.createDirectories(dir);
        SplitMix64 random = new SplitMix64(SEED + index);
        ByteBuffer block = ByteBuffer.allocateDirect(BLOCK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        SafetensorsWriter.write(file, Map.of(), tensors, (tensor, out) -> {
            for (long left = tensor.byteLength(); left > 0; ) {
                int length = (int) Math.min(BLOCK_BYTES, left);
                fill(block.clear().limit(length), dtype, random);
                while (block.hasRemaining()) {
                    out.write(block);
                }
                left -= length;
            }
        });
        return file;
    }

    private static boolean isComplete(Path file, List<TensorHeader> tensors, long dataBytes) throws IOException {
        if (!Files.isRegularFile(file)) {
            return false;
        }
        try (SafetensorsFile existing = SafetensorsFile.open(file)) {
            List<TensorHeader> found = new ArrayList<>();
            for (TensorEntry entry : existing.tensors()) {
                found.add(new TensorHeader(entry.name(), entry.dtype(), entry.shape()));
            }
            return found.equals(tensors) && Files.size(file) == existing.dataStart() + dataBytes;
        } catch (SafetensorsException unreadable) {
            return false;
        }
    }

    /** Fills {@code block} from 0 to its limit (a multiple of 8 bytes) with values, 8 bytes per draw. */
    private static void fill(ByteBuffer block, TensorDtype dtype, SplitMix64 random) {
        int limit = block.limit();
        for (int at = 0; at < limit; at += 8) {
            long r = random.next();
            long bits = dtype == TensorDtype.F32
                    ? (f32(r) & 0xffffffffL) | ((long) f32(r >>> 32) << 32)
                    : (bf16(r) & 0xffffL) | ((bf16(r >>> 16) & 0xffffL) << 16)
                    | ((bf16(r >>> 32) & 0xffffL) << 32) | ((long) bf16(r >>> 48) << 48);
            block.putLong(at, bits);
        }
    }

    /** Sign and mantissa from {@code r}, exponent 118 to 125 from three other bits: finite, never zero. */
    private static int f32(long r) {
        int x = (int) r;
        return (x & 0x807fffff) | ((118 + ((x >>> 23) & 7)) << 23);
    }

    private static int bf16(long r) {
        int x = (int) r & 0xffff;
        return (x & 0x807f) | ((118 + ((x >>> 7) & 7)) << 7);
    }

    /** Steele, Lea and Flood's SplitMix64: fast, and good enough to defeat compression and dedup. */
    private static final class SplitMix64 {
        private long state;

        SplitMix64(long seed) {
            this.state = seed * 0x9e3779b97f4a7c15L;
        }

        long next() {
            long z = (state += 0x9e3779b97f4a7c15L);
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            return z ^ (z >>> 31);
        }
    }
}
