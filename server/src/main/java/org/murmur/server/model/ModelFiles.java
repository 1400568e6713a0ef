package org.murmur.server.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.kernels.api.TensorData;
import org.murmur.proto.safetensors.SafetensorsWriter;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.safetensors.TensorHeader;

/**
 * Writes an aggregate (one vector over a layout of named tensors) as a safetensors file,
 * atomically: either the complete file appears at the path or nothing does.
 */
public final class ModelFiles {
    private ModelFiles() {
    }

    /**
     * Writes {@code values} split into {@code layout}'s tensors (same names and shapes, in layout
     * order) encoded as {@code type}. Fails, writing nothing, if a value does not fit the type.
     */
    public static void write(Path out, List<TensorData> layout, FloatVector values, ElementType type,
                             Map<String, String> metadata) throws IOException {
        write(out, layout, values, tensor -> type, metadata);
    }

    /**
     * Writes {@code values} as a model of {@code layout}'s tensors, each encoded in its own element
     * type: the shape of the inputs, as a round's candidate must have.
     */
    public static void writeInInputTypes(Path out, List<TensorData> layout, FloatVector values,
                                         Map<String, String> metadata) throws IOException {
        write(out, layout, values, TensorData::type, metadata);
    }

    private static void write(Path out, List<TensorData> layout, FloatVector values,
                              Function<TensorData, ElementType> typeOf, Map<String, String> metadata)
            throws IOException {
        List<TensorHeader> headers = new ArrayList<>();
        Map<String, Long> starts = new HashMap<>();
        Map<String, ElementType> types = new HashMap<>();
        long start = 0;
        for (TensorData tensor : layout) {
            ElementType type = typeOf.apply(tensor);
            headers.add(new TensorHeader(tensor.name(), TensorDtype.valueOf(type.name()), tensor.shape()));
            starts.put(tensor.name(), start);
            types.put(tensor.name(), type);
            start += tensor.elementCount();
        }
        SafetensorsWriter.write(out, metadata, headers, (tensor, channel) -> {
            ElementType type = types.get(tensor.name());
            long first = starts.get(tensor.name());
            long count = tensor.byteLength() / type.byteSize();
            try {
                values.writeTo(channel, first, count, type);
            } catch (ArithmeticException e) {
                throw new InvalidInputException("result tensor '" + tensor.name() + "': " + e.getMessage()
                        + "; choose a wider --out-dtype");
            }
        });
    }
}
