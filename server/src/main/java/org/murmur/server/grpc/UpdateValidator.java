package org.murmur.server.grpc;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.murmur.proto.safetensors.SafetensorsException;
import org.murmur.proto.safetensors.SafetensorsFile;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.safetensors.TensorEntry;
import org.murmur.proto.v1.RefusalReason;

/**
 * Checks a complete update file (its size and SHA-256 already verified by the store) before it is
 * admitted: the size its own header implies given the manifest, a valid safetensors file whose
 * tensors are exactly the manifest's, and every value finite. Reads the tensors through read-only
 * memory mappings in tiles of bounded size; nothing proportional to the file lands on the heap.
 * Messages name what the node can fix and never a server path. Stateless.
 */
final class UpdateValidator {
    /** Elements per tile of the finiteness scan: 64 KiB of F32, L2-friendly. */
    private static final int TILE = 16 * 1024;
    /** Bytes per mapping; a multiple of every element size. */
    private static final long MAP_BYTES = 1L << 30;
    private static final int LENGTH_FIELD_BYTES = 8;

    private UpdateValidator() {
    }

    /**
     * @param file     the complete update
     * @param manifest the manifest the node announced, already checked equal to the task's schema
     * @throws Refusal SIZE_MISMATCH, INVALID_FILE or NON_FINITE_VALUE
     */
    static void validate(Path file, ModelSchema manifest) throws Refusal, IOException {
        long size;
        long headerLength;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            size = channel.size();
            ByteBuffer field = ByteBuffer.allocate(LENGTH_FIELD_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            while (field.hasRemaining()) {
                if (channel.read(field, field.position()) < 0) {
                    throw new EOFException();
                }
            }
            headerLength = field.getLong(0);
        } catch (EOFException shorter) {
            throw new Refusal(RefusalReason.INVALID_FILE, "the file is shorter than the 8-byte header length field"
                    + " of a safetensors file");
        }
        if (headerLength < 1 || headerLength > size - LENGTH_FIELD_BYTES) {
            throw new Refusal(RefusalReason.INVALID_FILE, "the file's 8-byte header length field holds "
                    + Long.toUnsignedString(headerLength) + ", which is not a header length within its " + size
                    + " bytes: not a safetensors file");
        }
        long implied = LENGTH_FIELD_BYTES + headerLength + manifest.dataBytes();
        if (implied != size) {
            throw new Refusal(RefusalReason.SIZE_MISMATCH, "total_bytes is " + size + " but a safetensors file with"
                    + " this " + headerLength + "-byte header and the manifest's " + manifest.dataBytes()
                    + " bytes of tensor data is " + implied + " bytes ("
                    + (implied > size ? (implied - size) + " bytes missing" : (size - implied) + " bytes too many")
                    + "); announce the size of the whole file");
        }
        try (SafetensorsFile safetensors = SafetensorsFile.open(file)) {
            ModelSchema actual;
            try {
                actual = ModelSchema.ofEntries(safetensors.tensors());
            } catch (IllegalArgumentException e) {
                throw new Refusal(RefusalReason.INVALID_FILE, "the file's header is not usable: " + e.getMessage());
            }
            Optional<String> difference = actual.firstDifference(manifest, "the file's header", "the manifest");
            if (difference.isPresent()) {
                throw new Refusal(RefusalReason.INVALID_FILE, "the file does not match its manifest: "
                        + difference.get());
            }
            for (TensorEntry tensor : safetensors.tensors()) {
                requireFinite(safetensors, tensor);
            }
        } catch (SafetensorsException e) {
            throw new Refusal(RefusalReason.INVALID_FILE, "not a valid safetensors file: " + withoutPath(e, file));
        }
    }

    private static void requireFinite(SafetensorsFile file, TensorEntry tensor) throws Refusal {
        if (tensor.byteLength() == 0) {
            return;
        }
        long base = 0;
        for (ByteBuffer chunk : file.map(tensor, MAP_BYTES)) {
            ByteBuffer data = chunk.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            long bad = tensor.dtype() == TensorDtype.F32 ? firstNonFinite32(data.asIntBuffer())
                    : firstNonFinite16(data.asShortBuffer(), tensor.dtype() == TensorDtype.BF16 ? 0x7f80 : 0x7c00);
            if (bad >= 0) {
                long element = base + bad;
                throw new Refusal(RefusalReason.NON_FINITE_VALUE, "tensor '" + tensor.name() + "' element " + element
                        + index(tensor.shape(), element) + " is " + describe(data, (int) bad, tensor.dtype())
                        + "; updates must be finite");
            }
            base += chunk.remaining() / tensor.dtype().byteSize();
        }
    }

    /** Index of the first F32 whose exponent bits are all ones (NaN or an infinity), or -1. */
    static long firstNonFinite32(IntBuffer values) {
        int[] tile = new int[Math.min(TILE, values.remaining())];
        int total = values.remaining();
        for (int at = 0; at < total; at += tile.length) {
            int n = Math.min(tile.length, total - at);
            values.get(at, tile, 0, n);
            int largest = 0;
            for (int i = 0; i < n; i++) {
                largest = Math.max(largest, tile[i] & 0x7fffffff);
            }
            if (largest >= 0x7f800000) {
                for (int i = 0; i < n; i++) {
                    if ((tile[i] & 0x7fffffff) >= 0x7f800000) {
                        return at + i;
                    }
                }
            }
        }
        return -1;
    }

    /** Index of the first 16-bit float whose magnitude bits reach {@code exponentMask}, or -1. */
    static long firstNonFinite16(ShortBuffer values, int exponentMask) {
        short[] tile = new short[Math.min(TILE, values.remaining())];
        int total = values.remaining();
        for (int at = 0; at < total; at += tile.length) {
            int n = Math.min(tile.length, total - at);
            values.get(at, tile, 0, n);
            int largest = 0;
            for (int i = 0; i < n; i++) {
                largest = Math.max(largest, tile[i] & 0x7fff);
            }
            if (largest >= exponentMask) {
                for (int i = 0; i < n; i++) {
                    if ((tile[i] & 0x7fff) >= exponentMask) {
                        return at + i;
                    }
                }
            }
        }
        return -1;
    }

    private static String describe(ByteBuffer data, int element, TensorDtype dtype) {
        boolean nan;
        boolean negative;
        switch (dtype) {
            case F32 -> {
                int bits = data.getInt(element * 4);
                nan = (bits & 0x7fffffff) > 0x7f800000;
                negative = bits < 0;
            }
            case BF16 -> {
                int bits = data.getShort(element * 2) & 0xffff;
                nan = (bits & 0x7fff) > 0x7f80;
                negative = (bits & 0x8000) != 0;
            }
            default -> {
                int bits = data.getShort(element * 2) & 0xffff;
                nan = (bits & 0x7fff) > 0x7c00;
                negative = (bits & 0x8000) != 0;
            }
        }
        return nan ? "NaN" : negative ? "-Infinity" : "Infinity";
    }

    /** " (index [i, j, ...])" for tensors of rank 2 or more, else "". */
    private static String index(long[] shape, long element) {
        if (shape.length < 2) {
            return "";
        }
        long[] index = new long[shape.length];
        long rest = element;
        for (int d = shape.length - 1; d >= 0; d--) {
            index[d] = rest % shape[d];
            rest /= shape[d];
        }
        return " (index " + java.util.Arrays.toString(index) + ")";
    }

    /** The exception's message without the leading server path. */
    private static String withoutPath(SafetensorsException e, Path file) {
        String message = e.getMessage();
        String prefix = file + ": ";
        return message.startsWith(prefix) ? message.substring(prefix.length()) : message;
    }
}
