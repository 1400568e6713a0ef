package org.murmur.proto.safetensors;

import java.util.Arrays;
import java.util.Objects;

/** Shape arithmetic shared by the tensor records; every product is overflow-checked. */
final class Shapes {
    private Shapes() {
    }

    /** Copies a shape, rejecting negative dimensions and element counts beyond a long. */
    static long[] validCopy(String tensorName, long[] shape) {
        long[] copy = Objects.requireNonNull(shape, "shape").clone();
        for (long dim : copy) {
            if (dim < 0) {
                throw new IllegalArgumentException(
                        "tensor '" + tensorName + "': negative dimension in shape " + Arrays.toString(copy));
            }
        }
        try {
            elementCount(copy);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(
                    "tensor '" + tensorName + "': shape " + Arrays.toString(copy) + " overflows a long element count", e);
        }
        return copy;
    }

    /** Product of the dimensions, 1 for the 0-d shape []; throws ArithmeticException on overflow. */
    static long elementCount(long[] shape) {
        long count = 1;
        for (long dim : shape) {
            count = Math.multiplyExact(count, dim);
        }
        return count;
    }

    /** Bytes the shape needs in the dtype; throws ArithmeticException on overflow. */
    static long byteLength(long[] shape, TensorDtype dtype) {
        return Math.multiplyExact(elementCount(shape), (long) dtype.byteSize());
    }
}
