package org.murmur.server.grpc;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.kernels.api.UpdateBatch;
import org.murmur.proto.safetensors.SafetensorsException;
import org.murmur.proto.safetensors.SafetensorsFile;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.server.model.ModelSchema;
import org.murmur.server.model.UpdateFiles;

/**
 * Checks a complete update file (its size and SHA-256 already verified by the store) before it is
 * admitted: the size its own header implies given the manifest, a valid safetensors file whose
 * tensors are exactly the manifest's, and every value finite after decoding (the same check the
 * aggregation applies). Reads the tensors through read-only memory mappings in tiles of bounded
 * size; nothing proportional to the file lands on the heap.
 * Messages name what the node can fix and never a server path. Stateless.
 */
final class UpdateValidator {
    /** Elements per tile of the finiteness scan: 64 KiB of F32, L2-friendly. */
    private static final int TILE = 16 * 1024;
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
        } catch (SafetensorsException e) {
            throw new Refusal(RefusalReason.INVALID_FILE, "not a valid safetensors file: " + withoutPath(e, file));
        }
        requireFinite(file);
    }

    /** Decodes the whole update tile by tile; the batch's checked read refuses NaN and infinities. */
    private static void requireFinite(Path file) throws Refusal {
        UpdateBatch update = UpdateBatch.of(UpdateFiles.open(file, "the update"));
        float[] tile = new float[TILE];
        try {
            for (long at = 0; at < update.dimension(); at += TILE) {
                update.read(0, at, (int) Math.min(TILE, update.dimension() - at), tile, 0);
            }
        } catch (InvalidInputException e) {
            throw new Refusal(RefusalReason.NON_FINITE_VALUE, e.getMessage());
        }
    }

    /** The exception's message without the leading server path. */
    private static String withoutPath(SafetensorsException e, Path file) {
        String message = e.getMessage();
        String prefix = file + ": ";
        return message.startsWith(prefix) ? message.substring(prefix.length()) : message;
    }
}
