package org.murmur.proto.safetensors;

import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor of a safetensors file: its name, dtype, shape and byte range {@code [begin, end)}
 * in the data buffer. A constructed entry is consistent: the range holds exactly
 * {@code elementCount() * dtype.byteSize()} bytes. The shape is copied in and out, so an entry
 * is immutable.
 */
public record TensorEntry(String name, TensorDtype dtype, long[] shape, long begin, long end) {

    public TensorEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = Shapes.validCopy(name, shape);
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException(
                    "tensor '" + name + "': data_offsets [" + begin + ", " + end + "] are not 0 <= begin <= end");
        }
        long needed;
        try {
            needed = Shapes.byteLength(shape, dtype);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(
                    "tensor '" + name + "': shape " + Arrays.toString(shape) + " of " + dtype + " overflows a long byte count", e);
        }
        if (end - begin != needed) {
            throw new IllegalArgumentException("tensor '" + name + "': data_offsets [" + begin + ", " + end
                    + "] hold " + (end - begin) + " bytes but shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + needed);
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Product of the shape, 1 for the 0-d shape []. */
    public long elementCount() {
        return Shapes.elementCount(shape);
    }

    /** {@code end - begin}. */
    public long byteLength() {
        return end - begin;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorEntry other
                && name.equals(other.name)
                && dtype == other.dtype
                && Arrays.equals(shape, other.shape)
                && begin == other.begin
                && end == other.end;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
    }

    @Override
    public String toString() {
        return "TensorEntry[name=" + name + ", dtype=" + dtype + ", shape=" + Arrays.toString(shape)
                + ", begin=" + begin + ", end=" + end + "]";
    }
}
