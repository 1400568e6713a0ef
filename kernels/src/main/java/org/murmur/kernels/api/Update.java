package org.murmur.kernels.api;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One node's update: a set of uniquely named tensors, kept sorted by name so that the whole
 * update reads as one vector in the order the rules define. The label (a file path, a node id)
 * names the update in every error message.
 */
public final class Update {
    private final String label;
    private final List<TensorData> tensors;

    public Update(String label, List<TensorData> tensors) {
        this.label = Objects.requireNonNull(label, "label");
        List<TensorData> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparing(TensorData::name));
        Set<String> names = new HashSet<>();
        for (TensorData tensor : sorted) {
            if (!names.add(tensor.name())) {
                throw new InvalidInputException(label + ": duplicate tensor name '" + tensor.name() + "'");
            }
        }
        this.tensors = List.copyOf(sorted);
    }

    public String label() {
        return label;
    }

    /** The tensors, sorted by name. */
    public List<TensorData> tensors() {
        return tensors;
    }

    /** The total number of elements over all tensors. */
    public long dimension() {
        long d = 0;
        for (TensorData tensor : tensors) {
            d += tensor.elementCount();
        }
        return d;
    }
}
