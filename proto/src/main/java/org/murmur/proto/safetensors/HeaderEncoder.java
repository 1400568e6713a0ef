package org.murmur.proto.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Encodes the writer's file prefix: the 8-byte length, then the header JSON with
 * {@code __metadata__} first (if non-empty) and the tensors in the given order at contiguous
 * offsets from 0, padded with spaces so the data buffer starts 8-byte aligned.
 */
final class HeaderEncoder {
    private static final JsonFactory JSON = new JsonFactory();
    private static final int ALIGNMENT = 8;

    private HeaderEncoder() {
    }

    /**
     * @throws IllegalArgumentException on a duplicate tensor name, a tensor named
     *                                  {@code __metadata__}, or a header over the readers' limit
     */
    static byte[] encode(Map<String, String> metadata, List<TensorHeader> tensors) throws IOException {
        requireDistinctNames(tensors);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[HeaderReader.LENGTH_FIELD_BYTES]);
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            if (!metadata.isEmpty()) {
                json.writeObjectFieldStart(HeaderParser.METADATA_KEY);
                for (Map.Entry<String, String> entry : metadata.entrySet()) {
                    json.writeStringField(Objects.requireNonNull(entry.getKey(), "metadata key"),
                            Objects.requireNonNull(entry.getValue(), "metadata value"));
                }
                json.writeEndObject();
            }
            long offset = 0;
            for (TensorHeader tensor : tensors) {
                json.writeObjectFieldStart(tensor.name());
                json.writeStringField("dtype", tensor.dtype().name());
                json.writeArrayFieldStart("shape");
                for (long dim : tensor.shape()) {
                    json.writeNumber(dim);
                }
                json.writeEndArray();
                json.writeArrayFieldStart("data_offsets");
                json.writeNumber(offset);
                offset = Math.addExact(offset, tensor.byteLength());
                json.writeNumber(offset);
                json.writeEndArray();
                json.writeEndObject();
            }
            json.writeEndObject();
        }
        while (out.size() % ALIGNMENT != 0) {
            out.write(' ');
        }
        byte[] prefix = out.toByteArray();
        long headerLength = prefix.length - HeaderReader.LENGTH_FIELD_BYTES;
        if (headerLength > HeaderReader.MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("header of " + headerLength + " bytes exceeds the limit of "
                    + HeaderReader.MAX_HEADER_BYTES + " that readers accept");
        }
        ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerLength);
        return prefix;
    }

    private static void requireDistinctNames(List<TensorHeader> tensors) {
        Set<String> names = new HashSet<>();
        for (TensorHeader tensor : tensors) {
            if (tensor.name().equals(HeaderParser.METADATA_KEY)) {
                throw new IllegalArgumentException("a tensor may not be named '" + HeaderParser.METADATA_KEY + "'");
            }
            if (!names.add(tensor.name())) {
                throw new IllegalArgumentException("duplicate tensor name '" + tensor.name() + "'");
            }
        }
    }
}
