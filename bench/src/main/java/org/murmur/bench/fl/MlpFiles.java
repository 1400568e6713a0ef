package org.murmur.bench.fl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.murmur.proto.safetensors.SafetensorsException;
import org.murmur.proto.safetensors.SafetensorsFile;
import org.murmur.proto.safetensors.SafetensorsWriter;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.safetensors.TensorEntry;
import org.murmur.proto.safetensors.TensorHeader;

/**
 * An {@link Mlp} as a safetensors file, bit for bit: what a node pushes as its update and what it
 * reads back from the global model it pulls. Writes are atomic (see {@link SafetensorsWriter}).
 */
public final class MlpFiles {
    private static final long MAX_CHUNK = Integer.MAX_VALUE - 3;

    private MlpFiles() {
    }

    /** Writes the model's four tensors, with no metadata. */
    public static void write(Mlp model, Path out) throws IOException {
        SafetensorsWriter.write(out, Map.of(), model.schema(), (tensor, channel) -> {
            float[] values = model.tensor(tensor.name());
            ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(values);
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
        });
    }

    /**
     * Reads a model written by {@link #write} or by PyTorch: exactly the four tensors, F32, with
     * shapes that agree on the inputs, hidden and classes.
     *
     * @throws SafetensorsException if the file is malformed or not such a model; the message names the file
     */
    public static Mlp read(Path file) {
        try (SafetensorsFile safetensors = SafetensorsFile.open(file)) {
            Map<String, TensorEntry> byName = new HashMap<>();
            for (TensorEntry tensor : safetensors.tensors()) {
                byName.put(tensor.name(), tensor);
            }
            Set<String> expected = Set.of(Mlp.FC1_WEIGHT, Mlp.FC1_BIAS, Mlp.FC2_WEIGHT, Mlp.FC2_BIAS);
            if (!byName.keySet().equals(expected)) {
                throw new SafetensorsException(file, "holds tensors " + byName.keySet().stream().sorted()
                        .collect(Collectors.toList()) + ", not the MLP's " + expected.stream().sorted().collect(Collectors.toList()));
            }
            long[] fc1 = byName.get(Mlp.FC1_WEIGHT).shape();
            long[] fc2 = byName.get(Mlp.FC2_WEIGHT).shape();
            if (fc1.length != 2 || fc2.length != 2 || fc1[0] > Integer.MAX_VALUE || fc1[1] > Integer.MAX_VALUE
                    || fc2[0] > Integer.MAX_VALUE) {
                throw new SafetensorsException(file, Mlp.FC1_WEIGHT + " and " + Mlp.FC2_WEIGHT + " are not matrices"
                        + " of int-sized dimensions");
            }
            Mlp model;
            try {
                model = new Mlp((int) fc1[1], (int) fc1[0], (int) fc2[0]);
            } catch (IllegalArgumentException e) {
                throw new SafetensorsException(file, e.getMessage());
            }
            for (TensorHeader wanted : model.schema()) {
                TensorEntry entry = byName.get(wanted.name());
                if (entry.dtype() != TensorDtype.F32 || !Arrays.equals(entry.shape(), wanted.shape())) {
                    throw new SafetensorsException(file, entry.name(), "is " + entry.dtype() + " "
                            + Arrays.toString(entry.shape()) + ", but the model's other tensors make it F32 "
                            + Arrays.toString(wanted.shape()));
                }
                model.setTensor(entry.name(), floats(safetensors, entry));
            }
            return model;
        }
    }

    private static float[] floats(SafetensorsFile file, TensorEntry entry) {
        float[] values = new float[Math.toIntExact(entry.elementCount())];
        int at = 0;
        for (ByteBuffer chunk : file.map(entry, MAX_CHUNK)) {
            int count = chunk.remaining() / Float.BYTES;
            chunk.asFloatBuffer().get(values, at, count);
            at += count;
        }
        return values;
    }
}
