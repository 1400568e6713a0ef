package org.murmur.proto.safetensors;

import java.util.Arrays;
import java.util.Objects;

/**
 * The description of one tensor to write: name, dtype and shape. Immutable (the shape is copied
 * in and out), and its byte length is known to fit in a long.
 */
public record TensorHeader(String name, TensorDtype dtype, long[] shape) {

    public TensorHeader {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = Shapes.validCopy(name, shape);
        try {
            Shapes.byteLength(shape, dtype);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(
                    "tensor '" + name + "': shape " + Arrays.toString(shape) + " of " + dtype + " overflows a long byte count", e);
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Bytes of data this tensor takes: element count times the dtype's size. */
    public long byteLength() {
        return Shapes.byteLength(shape, dtype);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorHeader other
                && name.equals(other.name)
                && dtype == other.dtype
                && Arrays.equals(shape, other.shape);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        return "TensorHeader[name=" + name + ", dtype=" + dtype + ", shape=" + Arrays.toString(shape) + "]";
    }
}
