package org.murmur.server.grpc;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.murmur.kernels.api.ElementType;
import org.murmur.proto.safetensors.SafetensorsWriter;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.safetensors.TensorHeader;
import org.murmur.server.model.ModelSchema;

/** Safetensors files of a small model schema with every dtype, written with SafetensorsWriter. */
final class TestModels {
    /** About 5.3 MiB of tensor data: several 1 MiB chunks. */
    static final List<TensorHeader> TENSORS = List.of(
            new TensorHeader("dense.weight", TensorDtype.F32, new long[] {512, 1024}),
            new TensorHeader("dense.bias", TensorDtype.F32, new long[] {1024}),
            new TensorHeader("embed", TensorDtype.BF16, new long[] {1536, 1024}),
            new TensorHeader("norm", TensorDtype.F16, new long[] {300}));
    static final ModelSchema SCHEMA = ModelSchema.of(TENSORS);

    /** A value to plant at one element of one tensor. */
    record Poison(String tensor, long element, float value) {
    }

    private TestModels() {
    }

    /** Writes a file of {@link #TENSORS} with seeded finite values in [-1, 1), except the poison. */
    static Path write(Path file, int seed, Poison... poisons) throws IOException {
        return write(file, TENSORS, seed, poisons);
    }

    static Path write(Path file, List<TensorHeader> tensors, int seed, Poison... poisons) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        SafetensorsWriter.write(file, Map.of("seed", Integer.toString(seed)), tensors, (tensor, out) -> {
            long count = tensor.byteLength() / tensor.dtype().byteSize();
            ByteBuffer bytes = ByteBuffer.allocate((int) tensor.byteLength()).order(ByteOrder.LITTLE_ENDIAN);
            for (long i = 0; i < count; i++) {
                float value = (float) (random.nextDouble() * 2 - 1);
                for (Poison poison : poisons) {
                    if (poison.tensor().equals(tensor.name()) && poison.element() == i) {
                        value = poison.value();
                    }
                }
                switch (tensor.dtype()) {
                    case F32 -> bytes.putFloat(value);
                    case BF16 -> bytes.putShort(ElementType.floatToBf16(value));
                    case F16 -> bytes.putShort(ElementType.floatToF16(value));
                }
            }
            bytes.flip();
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
        });
        return file;
    }

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] read(Path file) throws IOException {
        return Files.readAllBytes(file);
    }
}
