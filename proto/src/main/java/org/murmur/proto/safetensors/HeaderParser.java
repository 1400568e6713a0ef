package org.murmur.proto.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.LongStream;

/**
 * Parses header JSON into metadata and tensor entries against the strict schema: one object,
 * optionally followed by spaces; {@code __metadata__} maps strings to strings; every other key
 * is a tensor with exactly {@code dtype}, {@code shape} and {@code data_offsets}, consistent with
 * each other. Duplicate keys at any level are rejected. Does not check the data layout.
 */
final class HeaderParser {
    static final String METADATA_KEY = "__metadata__";

    private static final JsonFactory JSON = JsonFactory.builder()
            // Most parsers keep the last of two equal keys; a duplicate tensor must be an error.
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            // Jackson's default caps (e.g. 50 000-char names) are tighter than the header limit.
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxStringLength((int) HeaderReader.MAX_HEADER_BYTES)
                    .maxNameLength((int) HeaderReader.MAX_HEADER_BYTES)
                    .build())
            .build();

    /** The parsed header; tensors sorted by name. */
    record ParsedHeader(Map<String, String> metadata, List<TensorEntry> tensors) {
    }

    private final Path path;
    private final String json;

    private HeaderParser(Path path, String json) {
        this.path = path;
        this.json = json;
    }

    static ParsedHeader parse(Path path, String json) {
        return new HeaderParser(path, json).parse();
    }

    private ParsedHeader parse() {
        try (JsonParser parser = JSON.createParser(json)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw error(null, "header is not a JSON object");
            }
            Map<String, String> metadata = Map.of();
            List<TensorEntry> tensors = new ArrayList<>();
            String key;
            while ((key = nextKey(parser, name -> error(null, "duplicate tensor name '" + name + "'"))) != null) {
                parser.nextToken();
                if (key.equals(METADATA_KEY)) {
                    metadata = parseMetadata(parser);
                } else {
                    tensors.add(parseTensor(parser, key));
                }
            }
            requireOnlySpacesAfter(parser);
            tensors.sort(Comparator.comparing(TensorEntry::name));
            return new ParsedHeader(metadata, Collections.unmodifiableList(tensors));
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw new SafetensorsException(path, null, "header is not valid JSON: " + e.getOriginalMessage()
                    + (at == null ? "" : " (at character " + at.getCharOffset() + ")"), e);
        } catch (IOException e) {
            throw new SafetensorsException(path, null, "cannot parse the header: " + e, e);
        }
    }

    /**
     * Advances to the next key of the current object and returns it, or null at the object's end.
     * Jackson reports a duplicate key as a generic parse error; its message tells it apart (a
     * later Jackson rewording would still fail the file, only with a less specific message).
     */
    private static String nextKey(JsonParser parser, Function<String, SafetensorsException> duplicate)
            throws IOException {
        JsonToken token;
        try {
            token = parser.nextToken();
        } catch (JsonProcessingException e) {
            if (e.getOriginalMessage().startsWith("Duplicate field")) {
                throw duplicate.apply(parser.getParsingContext().getCurrentName());
            }
            throw e;
        }
        return token == JsonToken.END_OBJECT ? null : parser.currentName();
    }

    private Map<String, String> parseMetadata(JsonParser parser) throws IOException {
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            throw error(null, METADATA_KEY + " must be an object mapping strings to strings");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        String key;
        while ((key = nextKey(parser, name -> error(null, METADATA_KEY + ": duplicate key '" + name + "'"))) != null) {
            if (parser.nextToken() != JsonToken.VALUE_STRING) {
                throw error(null, METADATA_KEY + ": the value of '" + key + "' is not a string");
            }
            metadata.put(key, parser.getText());
        }
        return Collections.unmodifiableMap(metadata);
    }

    private TensorEntry parseTensor(JsonParser parser, String name) throws IOException {
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            throw error(name, "entry is not a JSON object");
        }
        String dtypeTag = null;
        long[] shape = null;
        long[] offsets = null;
        String key;
        while ((key = nextKey(parser, dup -> error(name, "duplicate key '" + dup + "'"))) != null) {
            JsonToken value = parser.nextToken();
            switch (key) {
                case "dtype" -> {
                    if (value != JsonToken.VALUE_STRING) {
                        throw error(name, "dtype is not a string");
                    }
                    dtypeTag = parser.getText();
                }
                case "shape" -> shape = parseNaturals(parser, name, "shape");
                case "data_offsets" -> offsets = parseNaturals(parser, name, "data_offsets");
                default -> throw error(name, "unknown key '" + key + "'; expected dtype, shape, data_offsets");
            }
        }
        if (dtypeTag == null || shape == null || offsets == null) {
            String missing = dtypeTag == null ? "dtype" : shape == null ? "shape" : "data_offsets";
            throw error(name, "missing '" + missing + "'");
        }
        return entry(name, dtypeTag, shape, offsets);
    }

    private TensorEntry entry(String name, String dtypeTag, long[] shape, long[] offsets) {
        TensorDtype dtype = TensorDtype.fromTag(dtypeTag);
        if (dtype == null) {
            throw error(name, "unsupported dtype " + dtypeTag + "; supported: " + TensorDtype.SUPPORTED_TAGS);
        }
        if (offsets.length != 2) {
            throw error(name, "data_offsets must hold exactly 2 integers, not " + offsets.length);
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw error(name, "data_offsets [" + begin + ", " + end + "] begin after they end");
        }
        long needed;
        try {
            needed = Shapes.byteLength(shape, dtype);
        } catch (ArithmeticException e) {
            throw error(name, "shape " + Arrays.toString(shape) + " of " + dtype + " needs more than 2^63 bytes");
        }
        if (end - begin != needed) {
            throw error(name, "data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes but shape " + Arrays.toString(shape) + " of " + dtype + " needs " + needed);
        }
        return new TensorEntry(name, dtype, shape, begin, end);
    }

    /** Reads an array of integers in {@code [0, Long.MAX_VALUE]}; 2.0, -1 or 2^63 are errors. */
    private long[] parseNaturals(JsonParser parser, String tensor, String field) throws IOException {
        if (parser.currentToken() != JsonToken.START_ARRAY) {
            throw error(tensor, field + " is not an array");
        }
        LongStream.Builder values = LongStream.builder();
        JsonToken token;
        while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
            boolean natural = token == JsonToken.VALUE_NUMBER_INT
                    && parser.getNumberType() != JsonParser.NumberType.BIG_INTEGER
                    && parser.getLongValue() >= 0;
            if (!natural) {
                throw error(tensor, field + " must hold integers from 0 to 2^63-1, found " + parser.getText());
            }
            values.add(parser.getLongValue());
        }
        return values.build().toArray();
    }

    /** The format pads headers with spaces; anything else after the object is not a header. */
    private void requireOnlySpacesAfter(JsonParser parser) {
        int end = Math.toIntExact(parser.currentTokenLocation().getCharOffset()) + 1;
        for (int i = end; i < json.length(); i++) {
            if (json.charAt(i) != ' ') {
                throw error(null, "unexpected content after the header's JSON object at character " + i
                        + "; only spaces may pad a header");
            }
        }
    }

    private SafetensorsException error(String tensor, String problem) {
        return new SafetensorsException(path, tensor, problem);
    }
}
