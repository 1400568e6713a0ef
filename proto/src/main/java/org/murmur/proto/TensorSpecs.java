package org.murmur.proto;

import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.v1.DType;
import org.murmur.proto.v1.TensorSpec;

/** The one mapping from a safetensors tensor description to the wire's {@link TensorSpec}. */
public final class TensorSpecs {
    private TensorSpecs() {
    }

    public static TensorSpec of(String name, TensorDtype dtype, long[] shape) {
        TensorSpec.Builder spec = TensorSpec.newBuilder().setName(name).setDtype(switch (dtype) {
            case F32 -> DType.DTYPE_F32;
            case F16 -> DType.DTYPE_F16;
            case BF16 -> DType.DTYPE_BF16;
        });
        for (long dim : shape) {
            spec.addShape(dim);
        }
        return spec.build();
    }
}
