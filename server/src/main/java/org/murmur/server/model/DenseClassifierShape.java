package org.murmur.server.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.murmur.proto.safetensors.TensorHeader;

/**
 * The shape of a dense classifier model, as server-side evaluation reads it: tensors
 * {@code fc1.weight [h1, in]}, {@code fc1.bias [h1]}, ..., {@code fcL.weight [classes, hL-1]},
 * {@code fcL.bias [classes]} and nothing else, ReLU between the layers. Immutable.
 *
 * @param widths the layer widths: in, h1, ..., classes (L + 1 numbers)
 */
public record DenseClassifierShape(List<Integer> widths) {
    public DenseClassifierShape {
        widths = List.copyOf(widths);
    }

    /** The shape of {@code schema}, or why it is not a dense classifier. */
    public static Result of(ModelSchema schema) {
        List<TensorHeader> tensors = schema.tensors();
        if (tensors.size() % 2 != 0 || tensors.isEmpty()) {
            return Result.no("it has " + tensors.size() + " tensors, not a weight and a bias per layer");
        }
        int layers = tensors.size() / 2;
        List<Integer> widths = new ArrayList<>();
        for (int k = 1; k <= layers; k++) {
            Optional<TensorHeader> weight = find(tensors, "fc" + k + ".weight");
            Optional<TensorHeader> bias = find(tensors, "fc" + k + ".bias");
            if (weight.isEmpty() || bias.isEmpty()) {
                return Result.no("it has no tensor fc" + k + (weight.isEmpty() ? ".weight" : ".bias")
                        + " (layers are fc1 ... fc" + layers + ")");
            }
            long[] w = weight.get().shape();
            long[] b = bias.get().shape();
            if (w.length != 2 || b.length != 1 || b[0] != w[0] || w[0] > Integer.MAX_VALUE || w[1] > Integer.MAX_VALUE
                    || w[0] < 1 || w[1] < 1) {
                return Result.no("fc" + k + ".weight must be [out, in] and fc" + k + ".bias [out]");
            }
            if (k == 1) {
                widths.add((int) w[1]);
            } else if (w[1] != widths.get(k - 1)) {
                return Result.no("fc" + k + ".weight takes " + w[1] + " inputs but fc" + (k - 1) + " has "
                        + widths.get(k - 1) + " outputs");
            }
            widths.add((int) w[0]);
        }
        return new Result(Optional.of(new DenseClassifierShape(widths)), "");
    }

    /** A shape, or the reason there is none. */
    public record Result(Optional<DenseClassifierShape> shape, String whyNot) {
        static Result no(String why) {
            return new Result(Optional.empty(), why);
        }
    }

    public int inputs() {
        return widths.get(0);
    }

    public int classes() {
        return widths.get(widths.size() - 1);
    }

    public int layers() {
        return widths.size() - 1;
    }

    private static Optional<TensorHeader> find(List<TensorHeader> tensors, String name) {
        return tensors.stream().filter(t -> t.name().equals(name)).findFirst();
    }
}
