package org.murmur.bench.fl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.proto.safetensors.SafetensorsException;
import org.murmur.proto.safetensors.SafetensorsFile;
import org.murmur.proto.safetensors.SafetensorsWriter;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.safetensors.TensorEntry;
import org.murmur.proto.safetensors.TensorHeader;

class MlpFilesTest {
    private static final List<String> NAMES = List.of(Mlp.FC1_WEIGHT, Mlp.FC1_BIAS, Mlp.FC2_WEIGHT, Mlp.FC2_BIAS);

    @TempDir
    Path dir;

    @Test
    void roundTripsBitForBit() throws IOException {
        Mlp model = new Sgd(0.1f, 8, 1).train(Mlp.init(12, 7, 4, 1), Synthetic.blobs(40, 12, 4, 2), 3);
        model.w2[0][0] = Float.intBitsToFloat(0x7fc0_1234);
        model.w2[0][1] = -0f;
        model.b2[0] = Float.MIN_VALUE;
        Path file = dir.resolve("model.safetensors");
        MlpFiles.write(model, file);

        Mlp read = MlpFiles.read(file);

        assertEquals(12, read.inputs());
        assertEquals(7, read.hidden());
        assertEquals(4, read.classes());
        for (String name : NAMES) {
            assertArrayEquals(bits(model.tensor(name)), bits(read.tensor(name)), name);
        }
        Path again = dir.resolve("again.safetensors");
        MlpFiles.write(read, again);
        assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(again));
    }

    @Test
    void writesPyTorchNamesAndShapes() throws IOException {
        Mlp model = Mlp.forFashionMnist(128, 1);
        Path file = dir.resolve("fashion.safetensors");
        MlpFiles.write(model, file);
        try (SafetensorsFile safetensors = SafetensorsFile.open(file)) {
            List<String> described = new ArrayList<>();
            for (TensorEntry tensor : safetensors.tensors()) {
                described.add(tensor.name() + " " + tensor.dtype() + " " + Arrays.toString(tensor.shape()));
            }
            assertEquals(List.of("fc1.bias F32 [128]", "fc1.weight F32 [128, 784]", "fc2.bias F32 [10]",
                    "fc2.weight F32 [10, 128]"), described);
            TensorEntry fc1 = safetensors.tensors().get(1);
            ByteBuffer bytes = safetensors.map(fc1, fc1.byteLength())[0];
            float[] weight = model.tensor(Mlp.FC1_WEIGHT);
            // Row j of fc1.weight holds hidden unit j's weights for the 784 inputs.
            assertEquals(weight[3 * 784 + 5], bytes.getFloat((3 * 784 + 5) * 4));
            assertEquals(model.w1t[5][3], weight[3 * 784 + 5]);
        }
    }

    @Test
    void refusesFilesThatAreNotTheModel() throws IOException {
        Mlp model = Mlp.init(3, 2, 2, 1);
        List<TensorHeader> extra = new ArrayList<>(model.schema());
        extra.add(new TensorHeader("fc3.weight", TensorDtype.F32, new long[] {1}));
        assertRefused(file("extra", extra), "holds tensors [fc1.bias, fc1.weight, fc2.bias, fc2.weight, fc3.weight]");

        List<TensorHeader> half = new ArrayList<>(model.schema());
        half.set(1, new TensorHeader(Mlp.FC1_BIAS, TensorDtype.F16, new long[] {2}));
        assertRefused(file("half", half), "tensor 'fc1.bias': is F16 [2], but the model's other tensors make it F32 [2]");

        List<TensorHeader> mismatched = new ArrayList<>(model.schema());
        mismatched.set(2, new TensorHeader(Mlp.FC2_WEIGHT, TensorDtype.F32, new long[] {2, 3}));
        assertRefused(file("mismatched", mismatched), "tensor 'fc2.weight': is F32 [2, 3], but the model's other"
                + " tensors make it F32 [2, 2]");

        List<TensorHeader> vector = new ArrayList<>(model.schema());
        vector.set(0, new TensorHeader(Mlp.FC1_WEIGHT, TensorDtype.F32, new long[] {6}));
        assertRefused(file("vector", vector), "are not matrices");
    }

    private Path file(String name, List<TensorHeader> tensors) throws IOException {
        Path file = dir.resolve(name + ".safetensors");
        SafetensorsWriter.write(file, Map.of(), tensors,
                (tensor, out) -> out.write(ByteBuffer.allocate((int) tensor.byteLength())));
        return file;
    }

    private static void assertRefused(Path file, String problem) {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> MlpFiles.read(file));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
    }

    private static int[] bits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }
}
