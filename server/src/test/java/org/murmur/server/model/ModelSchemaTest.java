package org.murmur.server.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.safetensors.TensorHeader;
import org.murmur.proto.v1.DType;
import org.murmur.proto.v1.TensorSpec;

class ModelSchemaTest {
    private static TensorHeader t(String name, TensorDtype dtype, long... shape) {
        return new TensorHeader(name, dtype, shape);
    }

    private static final ModelSchema TASK = ModelSchema.of(List.of(
            t("b", TensorDtype.F32, 4), t("a", TensorDtype.BF16, 2, 3), t("c", TensorDtype.F16)));

    private static String diff(ModelSchema mine) {
        return mine.firstDifference(TASK, "mine", "theirs").orElse("equal");
    }

    @Test
    void equalInAnyOrderAndRoundTripsThroughTheWire() {
        assertEquals("equal", diff(ModelSchema.of(List.of(
                t("c", TensorDtype.F16), t("a", TensorDtype.BF16, 2, 3), t("b", TensorDtype.F32, 4)))));
        assertEquals(TASK, ModelSchema.fromProto(TASK.toProto()));
        assertEquals(4 * 4 + 6 * 2 + 2, TASK.dataBytes());
    }

    @Test
    void namesTheFirstDifferingTensorInNameOrder() {
        assertEquals("tensor 'a' is F32 in mine but BF16 in theirs", diff(ModelSchema.of(List.of(
                t("a", TensorDtype.F32, 2, 3), t("b", TensorDtype.F32, 5), t("c", TensorDtype.F16)))));
        assertEquals("tensor 'b' has shape [5] in mine but [4] in theirs", diff(ModelSchema.of(List.of(
                t("a", TensorDtype.BF16, 2, 3), t("b", TensorDtype.F32, 5), t("c", TensorDtype.F16)))));
        assertEquals("tensor 'a' of theirs is missing from mine", diff(ModelSchema.of(List.of(
                t("b", TensorDtype.F32, 4), t("c", TensorDtype.F16)))));
        assertEquals("tensor 'bb' of mine is not in theirs", diff(ModelSchema.of(List.of(
                t("a", TensorDtype.BF16, 2, 3), t("b", TensorDtype.F32, 4), t("bb", TensorDtype.F32),
                t("c", TensorDtype.F16)))));
        assertEquals("tensor 'c' of theirs is missing from mine", diff(ModelSchema.of(List.of(
                t("a", TensorDtype.BF16, 2, 3), t("b", TensorDtype.F32, 4)))));
    }

    @Test
    void refusesMalformedManifests() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelSchema.fromProto(List.of(
                TensorSpec.newBuilder().setName("x").build()))).getMessage().contains("tensor 'x'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelSchema.fromProto(List.of(
                TensorSpec.newBuilder().setName("x").setDtype(DType.DTYPE_F32).build(),
                TensorSpec.newBuilder().setName("x").setDtype(DType.DTYPE_F32).build()))).getMessage()
                .contains("twice"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelSchema.fromProto(List.of(
                TensorSpec.newBuilder().setName("x").setDtype(DType.DTYPE_F32).addShape(-1L).build())))
                .getMessage().contains("too large"));
        assertThrows(IllegalArgumentException.class, () -> ModelSchema.of(List.of()));
    }
}
