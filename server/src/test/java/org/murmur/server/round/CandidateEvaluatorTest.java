package org.murmur.server.round;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.kernels.cpu.CpuBackend;
import org.murmur.proto.TensorSpecs;
import org.murmur.proto.identity.NodeKeys;
import org.murmur.proto.safetensors.SafetensorsWriter;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.safetensors.TensorHeader;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.TaskParams;
import org.murmur.server.economics.InvalidParameterException;
import org.murmur.server.economics.TaskRules;
import org.murmur.server.grpc.Refusal;
import org.murmur.server.model.DenseClassifierShape;
import org.murmur.server.model.ModelSchema;
import org.murmur.server.store.ModelStore;

class CandidateEvaluatorTest {
    @TempDir
    Path dir;

    @Test
    void scoresAHandBuiltClassifier() throws IOException {
        // fc1 = identity on 2 inputs (ReLU keeps positives), fc2 maps (a, b) to logits (a, b, 0.5):
        // class 0 when a is largest, 1 when b is, 2 when both are below 0.5.
        List<TensorHeader> schema = List.of(
                new TensorHeader("fc1.weight", TensorDtype.F32, new long[] {2, 2}),
                new TensorHeader("fc1.bias", TensorDtype.F32, new long[] {2}),
                new TensorHeader("fc2.weight", TensorDtype.F32, new long[] {3, 2}),
                new TensorHeader("fc2.bias", TensorDtype.F32, new long[] {3}));
        Path model = write(dir.resolve("model.safetensors"), schema, Map.of(
                "fc1.weight", new float[] {1, 0, 0, 1}, "fc1.bias", new float[] {0, 0},
                "fc2.weight", new float[] {1, 0, 0, 1, 0, 0}, "fc2.bias", new float[] {0, 0, 0.5f}));
        // 600 rows (several batches): rows cycle through (2, 1) -> 0, (1, 3) -> 1, (-1, 0.2) -> 2,
        // labelled right except every fourth row, labelled 1 whatever it is.
        int rows = 600;
        float[] x = new float[rows * 2];
        float[] y = new float[rows];
        float[][] points = {{2, 1}, {1, 3}, {-1, 0.2f}};
        int right = 0;
        for (int r = 0; r < rows; r++) {
            x[2 * r] = points[r % 3][0];
            x[2 * r + 1] = points[r % 3][1];
            y[r] = r % 4 == 3 ? 1 : r % 3;
            right += y[r] == r % 3 ? 1 : 0;
        }
        Path validation = write(dir.resolve("validation.safetensors"), List.of(
                new TensorHeader("x", TensorDtype.F32, new long[] {rows, 2}),
                new TensorHeader("y", TensorDtype.F32, new long[] {rows})), Map.of("x", x, "y", y));
        DenseClassifierShape shape = DenseClassifierShape.of(ModelSchema.of(schema)).shape().orElseThrow();
        assertEquals(List.of(2, 2, 3), shape.widths());
        try (CpuBackend backend = new CpuBackend(2, 64)) {
            assertEquals((double) right / rows, CandidateEvaluator.accuracy(backend, shape, model, validation), 1e-12);
        }
    }

    @Test
    void aModelThatIsNotADenseClassifierIsNamedWhy() {
        DenseClassifierShape.Result lora = DenseClassifierShape.of(ModelSchema.of(List.of(
                new TensorHeader("lora.a", TensorDtype.BF16, new long[] {8, 64}),
                new TensorHeader("lora.b", TensorDtype.BF16, new long[] {64, 8}))));
        assertTrue(lora.shape().isEmpty());
        assertTrue(lora.whyNot().contains("fc1"), lora.whyNot());
        DenseClassifierShape.Result mismatched = DenseClassifierShape.of(ModelSchema.of(List.of(
                new TensorHeader("fc1.weight", TensorDtype.F32, new long[] {4, 2}),
                new TensorHeader("fc1.bias", TensorDtype.F32, new long[] {4}),
                new TensorHeader("fc2.weight", TensorDtype.F32, new long[] {3, 5}),
                new TensorHeader("fc2.bias", TensorDtype.F32, new long[] {3}))));
        assertTrue(mismatched.whyNot().contains("fc2.weight takes 5 inputs but fc1 has 4 outputs"),
                mismatched.whyNot());
    }

    @Test
    void aTaskAsksForServerSideEvaluationOnlyOfADenseClassifier() {
        TaskParams.Builder params = TaskParams.newBuilder()
                .addModelSchema(TensorSpecs.of("lora.a", TensorDtype.BF16, new long[] {8, 64}))
                .setInitialModelSha256(ByteString.copyFrom(new byte[32]))
                .setValidationSetSha256(ByteString.copyFrom(new byte[32]));
        InvalidParameterException refused = assertThrows(InvalidParameterException.class,
                () -> TaskRules.fromProto(params.build()));
        assertTrue(refused.getMessage().startsWith("validation_set_sha256"), refused.getMessage());
        params.setValidationSetSha256(ByteString.copyFrom(new byte[5]));
        assertThrows(InvalidParameterException.class, () -> TaskRules.fromProto(params.build()));
    }

    @Test
    void aValidationSetMustBeStoredAndFitTheModel() throws Exception {
        List<TensorHeader> schema = List.of(
                new TensorHeader("fc1.weight", TensorDtype.F32, new long[] {3, 2}),
                new TensorHeader("fc1.bias", TensorDtype.F32, new long[] {3}));
        Path model = write(dir.resolve("model.safetensors"), schema, Map.of(
                "fc1.weight", new float[6], "fc1.bias", new float[3]));
        Path misfit = write(dir.resolve("misfit.safetensors"), List.of(
                new TensorHeader("x", TensorDtype.F32, new long[] {4, 5}),
                new TensorHeader("y", TensorDtype.F32, new long[] {4})), Map.of("x", new float[20], "y", new float[4]));
        Path data = dir.resolve("data");
        ModelStore models = new ModelStore(data);
        String initial = models.put(model);
        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
        try (TaskRegistry tasks = TaskRegistry.open(data, models, System::currentTimeMillis, timers, Runnable::run,
                (taskId, round, rules, contributions, previous) -> {
                    throw new AssertionError("no round runs here");
                })) {
            TaskParams.Builder params = TaskParams.newBuilder()
                    .addAllModelSchema(ModelSchema.of(schema).toProto())
                    .setInitialModelSha256(ByteString.copyFrom(HexFormat.of().parseHex(initial)))
                    .setValidationSetSha256(ByteString.copyFrom(new byte[32]));
            NodeKeys admin = NodeKeys.generate();
            ByteString nonce = ByteString.copyFrom(new byte[16]);
            Refusal missing = assertThrows(Refusal.class,
                    () -> tasks.create("t", params.build(), admin.nodeId(), admin.publicKey(), nonce));
            assertEquals(RefusalReason.UNKNOWN_MODEL, missing.reason());
            params.setValidationSetSha256(ByteString.copyFrom(HexFormat.of().parseHex(models.put(misfit))));
            Refusal wrongShape = assertThrows(Refusal.class,
                    () -> tasks.create("t", params.build(), admin.nodeId(), admin.publicKey(), nonce));
            assertEquals(RefusalReason.INVALID_FILE, wrongShape.reason());
            assertTrue(wrongShape.getMessage().contains("\"x\" [N, 2]"), wrongShape.getMessage());
            assertTrue(tasks.taskIds().isEmpty());
        } finally {
            timers.shutdownNow();
        }
    }

    private static Path write(Path file, List<TensorHeader> tensors, Map<String, float[]> values) throws IOException {
        SafetensorsWriter.write(file, Map.of(), tensors, (tensor, out) -> {
            float[] v = values.get(tensor.name());
            ByteBuffer bytes = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float f : v) {
                bytes.putFloat(f);
            }
            bytes.flip();
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
        });
        return file;
    }
}
