package org.murmur.server.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.murmur.proto.TensorSpecs;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.safetensors.TensorEntry;
import org.murmur.proto.safetensors.TensorHeader;
import org.murmur.proto.v1.DType;
import org.murmur.proto.v1.TensorSpec;

/**
 * A task's model schema: the names, dtypes and shapes of every tensor an update or model of the
 * task holds, sorted by name (the order of the wire's manifest does not matter). Immutable.
 */
public final class ModelSchema {
    private final List<TensorHeader> tensors;
    private final long dataBytes;

    private ModelSchema(List<TensorHeader> sorted) {
        this.tensors = List.copyOf(sorted);
        long bytes = 0;
        for (TensorHeader tensor : sorted) {
            bytes = Math.addExact(bytes, tensor.byteLength());
        }
        this.dataBytes = bytes;
    }

    /**
     * A schema of these tensors (any order). IllegalArgumentException for an empty list, a
     * duplicate name or a total size beyond a long.
     */
    public static ModelSchema of(List<TensorHeader> tensors) {
        if (tensors.isEmpty()) {
            throw new IllegalArgumentException("a model schema holds at least one tensor");
        }
        List<TensorHeader> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparing(TensorHeader::name));
        Set<String> names = new HashSet<>();
        for (TensorHeader tensor : sorted) {
            if (!names.add(tensor.name())) {
                throw new IllegalArgumentException("tensor '" + tensor.name() + "' appears twice");
            }
        }
        try {
            return new ModelSchema(sorted);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("the tensors hold more than 2^63 bytes", e);
        }
    }

    /** The schema of a manifest as the wire carries it; IllegalArgumentException naming the tensor at fault. */
    public static ModelSchema fromProto(List<TensorSpec> specs) {
        List<TensorHeader> tensors = new ArrayList<>(specs.size());
        for (TensorSpec spec : specs) {
            TensorDtype dtype = switch (spec.getDtype()) {
                case DTYPE_F32 -> TensorDtype.F32;
                case DTYPE_F16 -> TensorDtype.F16;
                case DTYPE_BF16 -> TensorDtype.BF16;
                default -> throw new IllegalArgumentException("tensor '" + spec.getName() + "': dtype "
                        + spec.getDtypeValue() + " is not F32, F16 or BF16");
            };
            long[] shape = new long[spec.getShapeCount()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = spec.getShape(i);
                if (shape[i] < 0) {
                    throw new IllegalArgumentException("tensor '" + spec.getName() + "': dimension "
                            + Long.toUnsignedString(shape[i]) + " is too large");
                }
            }
            if (spec.getName().isEmpty()) {
                throw new IllegalArgumentException("a tensor has an empty name");
            }
            tensors.add(new TensorHeader(spec.getName(), dtype, shape));
        }
        return of(tensors);
    }

    /** The schema as a wire manifest, in name order. */
    public List<TensorSpec> toProto() {
        List<TensorSpec> specs = new ArrayList<>(tensors.size());
        for (TensorHeader tensor : tensors) {
            specs.add(TensorSpecs.of(tensor.name(), tensor.dtype(), tensor.shape()));
        }
        return specs;
    }

    /** The schema of a safetensors file's tensors. */
    public static ModelSchema ofEntries(List<TensorEntry> entries) {
        List<TensorHeader> tensors = new ArrayList<>(entries.size());
        for (TensorEntry entry : entries) {
            tensors.add(new TensorHeader(entry.name(), entry.dtype(), entry.shape()));
        }
        return of(tensors);
    }

    /** The tensors, sorted by name. */
    public List<TensorHeader> tensors() {
        return tensors;
    }

    /** Bytes of tensor data a file of this schema holds (the data buffer, without the header). */
    public long dataBytes() {
        return dataBytes;
    }

    /**
     * The first difference between {@code this} (what a node sent) and {@code expected} (the task's
     * schema), in tensor-name order, as a sentence naming the tensor; empty when they are equal.
     * {@code mine} and {@code theirs} name the two sides in the sentence (e.g. "the manifest" and
     * "the task's model schema").
     */
    public Optional<String> firstDifference(ModelSchema expected, String mine, String theirs) {
        int i = 0;
        int j = 0;
        while (i < tensors.size() || j < expected.tensors.size()) {
            TensorHeader have = i < tensors.size() ? tensors.get(i) : null;
            TensorHeader want = j < expected.tensors.size() ? expected.tensors.get(j) : null;
            int order = have == null ? 1 : want == null ? -1 : have.name().compareTo(want.name());
            if (order < 0) {
                return Optional.of("tensor '" + have.name() + "' of " + mine + " is not in " + theirs);
            }
            if (order > 0) {
                return Optional.of("tensor '" + want.name() + "' of " + theirs + " is missing from " + mine);
            }
            if (have.dtype() != want.dtype()) {
                return Optional.of("tensor '" + have.name() + "' is " + have.dtype() + " in " + mine + " but "
                        + want.dtype() + " in " + theirs);
            }
            if (!Arrays.equals(have.shape(), want.shape())) {
                return Optional.of("tensor '" + have.name() + "' has shape " + Arrays.toString(have.shape()) + " in "
                        + mine + " but " + Arrays.toString(want.shape()) + " in " + theirs);
            }
            i++;
            j++;
        }
        return Optional.empty();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelSchema other && tensors.equals(other.tensors);
    }

    @Override
    public int hashCode() {
        return tensors.hashCode();
    }

    @Override
    public String toString() {
        return "ModelSchema" + tensors;
    }
}
