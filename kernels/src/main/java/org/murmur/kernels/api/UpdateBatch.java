package org.murmur.kernels.api;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * n updates with the same tensor names and shapes, read as n vectors of d coordinates: each
 * update's tensors concatenated in name order, each flattened row-major. Construction checks that
 * the updates agree; {@link #read} decodes any coordinate range of any update and refuses
 * non-finite values, naming the update, tensor and element. Immutable and thread-safe.
 */
public final class UpdateBatch {
    private final List<Update> updates;
    private final List<TensorData> layout;
    private final long[] starts;
    private final long dimension;

    public UpdateBatch(List<Update> updates) {
        if (updates.isEmpty()) {
            throw new InvalidInputException("no updates to aggregate");
        }
        this.updates = List.copyOf(updates);
        Update first = updates.get(0);
        this.layout = first.tensors();
        for (Update other : updates.subList(1, updates.size())) {
            requireSameLayout(first, other);
        }
        this.starts = new long[layout.size() + 1];
        for (int t = 0; t < layout.size(); t++) {
            starts[t + 1] = starts[t] + layout.get(t).elementCount();
        }
        this.dimension = starts[layout.size()];
    }

    public static UpdateBatch of(Update... updates) {
        return new UpdateBatch(List.of(updates));
    }

    /**
     * Fails unless {@code other} has exactly the tensor names and shapes of {@code reference};
     * the message names the tensor and both updates.
     */
    public static void requireSameLayout(Update reference, Update other) {
        Map<String, TensorData> mine = byName(reference);
        Map<String, TensorData> theirs = byName(other);
        for (String name : mine.keySet()) {
            if (!theirs.containsKey(name)) {
                throw new InvalidInputException(other.label() + ": tensor '" + name + "' is missing (present in "
                        + reference.label() + ")");
            }
        }
        for (String name : theirs.keySet()) {
            if (!mine.containsKey(name)) {
                throw new InvalidInputException(other.label() + ": unexpected tensor '" + name + "' (absent from "
                        + reference.label() + ")");
            }
            long[] expected = mine.get(name).shape();
            long[] actual = theirs.get(name).shape();
            if (!Arrays.equals(expected, actual)) {
                throw new InvalidInputException(other.label() + ": tensor '" + name + "' has shape "
                        + Arrays.toString(actual) + " but " + reference.label() + " has " + Arrays.toString(expected));
            }
        }
    }

    private static Map<String, TensorData> byName(Update update) {
        Map<String, TensorData> map = new TreeMap<>();
        for (TensorData tensor : update.tensors()) {
            map.put(tensor.name(), tensor);
        }
        return map;
    }

    /** n, the number of updates. */
    public int size() {
        return updates.size();
    }

    /** d, the number of coordinates of each update. */
    public long dimension() {
        return dimension;
    }

    public Update update(int index) {
        return updates.get(index);
    }

    public List<Update> updates() {
        return updates;
    }

    /** The tensors of the first update: names, shapes and coordinate order shared by all. */
    public List<TensorData> layout() {
        return layout;
    }

    /** The first coordinate of each tensor in layout order, plus d at the end. */
    public long[] tensorStarts() {
        return starts.clone();
    }

    /**
     * Decodes coordinates {@code [from, from + count)} of update {@code index} into
     * {@code dst[offset ...]}, refusing NaN and infinities.
     */
    public void read(int index, long from, int count, float[] dst, int offset) {
        copy(index, from, count, dst, offset, true);
    }

    /**
     * Like {@link #read} but without the finiteness check, for callers that check the values
     * themselves (faster, in bulk) and call {@link #read} on the range to report a bad one.
     */
    public void decode(int index, long from, int count, float[] dst, int offset) {
        copy(index, from, count, dst, offset, false);
    }

    private void copy(int index, long from, int count, float[] dst, int offset, boolean check) {
        Update update = updates.get(index);
        int t = tensorAt(from);
        while (count > 0) {
            TensorData tensor = update.tensors().get(t);
            long inTensor = from - starts[t];
            int run = (int) Math.min(count, tensor.elementCount() - inTensor);
            tensor.read(inTensor, run, dst, offset);
            if (check) {
                requireFinite(update, tensor, inTensor, dst, offset, run);
            }
            from += run;
            offset += run;
            count -= run;
            t++;
        }
    }

    private int tensorAt(long coordinate) {
        if (coordinate < 0 || coordinate > dimension) {
            throw new IndexOutOfBoundsException("coordinate " + coordinate + " of " + dimension);
        }
        int found = Arrays.binarySearch(starts, coordinate);
        int t = found >= 0 ? found : -found - 2;
        // Skip empty tensors, which share their start with the next one.
        while (t < layout.size() - 1 && starts[t + 1] == coordinate) {
            t++;
        }
        return t;
    }

    private static void requireFinite(Update update, TensorData tensor, long first, float[] values, int offset, int count) {
        float largest = 0f;
        for (int i = offset; i < offset + count; i++) {
            largest = Math.max(largest, Math.abs(values[i]));
        }
        if (largest <= Float.MAX_VALUE) {
            return;
        }
        for (int i = 0; i < count; i++) {
            float v = values[offset + i];
            if (!Float.isFinite(v)) {
                throw new InvalidInputException(update.label() + ": tensor '" + tensor.name() + "' element "
                        + (first + i) + " is " + v + " (updates must be finite)");
            }
        }
    }

}
