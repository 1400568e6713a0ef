package org.murmur.proto.safetensors;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Checks that the tensors tile the data buffer exactly, as the official library requires: taken
 * by offset they cover {@code [0, dataLength)} with no gap, no overlap and nothing after the last
 * one. Zero-length tensors may sit at any offset that keeps the tiling.
 */
final class DataLayout {
    private DataLayout() {
    }

    static void check(Path path, List<TensorEntry> tensors, long dataLength) {
        List<TensorEntry> byOffset = new ArrayList<>(tensors);
        byOffset.sort(Comparator.comparingLong(TensorEntry::begin).thenComparingLong(TensorEntry::end));
        // Past-the-end offsets first: a cut-off file then reads as truncated, not as a gap.
        for (TensorEntry tensor : byOffset) {
            if (tensor.end() > dataLength) {
                throw new SafetensorsException(path, tensor.name(), "truncated: data_offsets " + range(tensor)
                        + " reach past the end of the file's " + dataLength + "-byte data buffer");
            }
        }
        long covered = 0;
        TensorEntry previous = null;
        for (TensorEntry tensor : byOffset) {
            if (tensor.begin() > covered) {
                throw new SafetensorsException(path, tensor.name(), "gap of " + (tensor.begin() - covered)
                        + " bytes in the data buffer before data_offsets " + range(tensor));
            }
            if (tensor.begin() < covered) {
                throw new SafetensorsException(path, tensor.name(), "data_offsets " + range(tensor)
                        + " overlap those of tensor '" + previous.name() + "' " + range(previous));
            }
            covered = tensor.end();
            previous = tensor;
        }
        if (covered != dataLength) {
            throw new SafetensorsException(path, (dataLength - covered) + " trailing bytes after the last tensor's data"
                    + " (the tensors end at offset " + covered + " of a " + dataLength + "-byte data buffer)");
        }
    }

    private static String range(TensorEntry tensor) {
        return "[" + tensor.begin() + ", " + tensor.end() + "]";
    }
}
