package org.murmur.server.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.murmur.kernels.api.ElementType;
import org.murmur.proto.safetensors.SafetensorsFile;
import org.murmur.proto.safetensors.SafetensorsWriter;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.safetensors.TensorEntry;
import org.murmur.proto.safetensors.TensorHeader;

/**
 * Shared helpers for the end-to-end tests of {@code murmur aggregate}: builds input files (through
 * the codec's writer, or byte by byte for malformed ones), runs {@link Main#run} with captured
 * streams, and reads the output back.
 */
final class AggregateFixtures {
    static final TensorDtype F32 = TensorDtype.F32;
    static final TensorDtype F16 = TensorDtype.F16;
    static final TensorDtype BF16 = TensorDtype.BF16;

    private AggregateFixtures() {
    }

    /** One tensor of an input file: its values are given as floats and encoded in {@code dtype}. */
    record Tensor(String name, TensorDtype dtype, long[] shape, float[] values) {
        Tensor {
            long count = 1;
            for (long dim : shape) {
                count *= dim;
            }
            if (count != values.length) {
                throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " holds " + count
                        + " values, given " + values.length);
            }
        }

        byte[] bytes() {
            ByteBuffer buffer = ByteBuffer.allocate(values.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                switch (dtype) {
                    case F32 -> buffer.putFloat(v);
                    case F16 -> buffer.putShort(ElementType.floatToF16(v));
                    case BF16 -> buffer.putShort(ElementType.floatToBf16(v));
                    default -> throw new AssertionError(dtype);
                }
            }
            return buffer.array();
        }
    }

    static long[] shape(long... dims) {
        return dims;
    }

    static Tensor t(String name, long[] shape, float... values) {
        return new Tensor(name, F32, shape, values);
    }

    static Tensor t(String name, TensorDtype dtype, long[] shape, float... values) {
        return new Tensor(name, dtype, shape, values);
    }

    /** A 1-element tensor of shape [1]. */
    static Tensor scalar1(String name, float value) {
        return t(name, shape(1), value);
    }

    /** Writes a valid file with the codec's writer; header keys and data both in the given order. */
    static Path write(Path file, Tensor... tensors) throws IOException {
        List<TensorHeader> headers = new ArrayList<>();
        Map<String, Tensor> byName = new LinkedHashMap<>();
        for (Tensor tensor : tensors) {
            headers.add(new TensorHeader(tensor.name(), tensor.dtype(), tensor.shape()));
            byName.put(tensor.name(), tensor);
        }
        SafetensorsWriter.write(file, Map.of("note", "test input"), headers, (header, channel) -> {
            ByteBuffer bytes = ByteBuffer.wrap(byName.get(header.name()).bytes());
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
        });
        return file;
    }

    /**
     * Writes a valid file byte by byte: header keys in {@code keyOrder}, data laid out in the order
     * {@code dataOrder} (indices into keyOrder), a {@code __metadata__} entry in the middle of the
     * header, and {@code padding} trailing spaces in the header.
     */
    static Path writeShuffled(Path file, List<Tensor> keyOrder, int[] dataOrder, int padding) throws IOException {
        long[] begins = new long[keyOrder.size()];
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (int index : dataOrder) {
            begins[index] = data.size();
            data.writeBytes(keyOrder.get(index).bytes());
        }
        StringBuilder json = new StringBuilder("{");
        for (int i = 0; i < keyOrder.size(); i++) {
            Tensor tensor = keyOrder.get(i);
            if (i > 0) {
                json.append(", ");
            }
            if (i == keyOrder.size() / 2) {
                json.append("\"__metadata__\": {\"format\": \"pt\"}, ");
            }
            long end = begins[i] + tensor.bytes().length;
            json.append(entry(tensor.name(), tensor.dtype().name(), Arrays.toString(tensor.shape()), begins[i], end));
        }
        json.append("}").append(" ".repeat(padding));
        return raw(file, json.toString(), data.toByteArray());
    }

    /** One header entry, {@code "name": {...}}. */
    static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\": {\"dtype\": \"" + dtype + "\", \"shape\": " + shape.replace(" ", "")
                + ", \"data_offsets\": [" + begin + ", " + end + "]}";
    }

    /** A file whose length field matches the header exactly. */
    static Path raw(Path file, String header, byte[] data) throws IOException {
        byte[] headerBytes = header.getBytes(StandardCharsets.UTF_8);
        return raw(file, headerBytes.length, headerBytes, data);
    }

    /** A file with any length field, header bytes and data. */
    static Path raw(Path file, long declaredHeaderLength, byte[] headerBytes, byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(declaredHeaderLength).array());
        out.writeBytes(headerBytes);
        out.writeBytes(data);
        return Files.write(file, out.toByteArray());
    }

    static byte[] f32(float... values) {
        return t("x", shape(values.length), values).bytes();
    }

    // ---------------------------------------------------------------- running the command

    record Result(int code, String out, String err) {
        List<String> errLines() {
            return err.lines().toList();
        }

        List<String> outLines() {
            return out.lines().toList();
        }

        @Override
        public String toString() {
            return "exit " + code + "\n--- out:\n" + out + "--- err:\n" + err;
        }
    }

    static Result run(List<String> args) {
        return run(args.toArray(String[]::new));
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code;
        try (PrintWriter outWriter = new PrintWriter(out, true); PrintWriter errWriter = new PrintWriter(err, true)) {
            code = Main.run(args, outWriter, errWriter);
        }
        return new Result(code, out.toString(), err.toString());
    }

    /** {@code aggregate --rule RULE <extra...> --out OUT IN...}. */
    static List<String> command(String rule, Path out, List<Path> inputs, String... extra) {
        List<String> args = new ArrayList<>(List.of("aggregate", "--rule", rule, "--backend", "cpu"));
        args.addAll(List.of(extra));
        args.add("--out");
        args.add(out.toString());
        for (Path input : inputs) {
            args.add(input.toString());
        }
        return args;
    }

    // ---------------------------------------------------------------- reading the output

    record OutTensor(TensorDtype dtype, long[] shape, float[] values) {
    }

    /** The output's tensors by name, in the file's (sorted) order. */
    static Map<String, OutTensor> read(Path file) {
        Map<String, OutTensor> tensors = new LinkedHashMap<>();
        try (SafetensorsFile opened = SafetensorsFile.open(file)) {
            for (TensorEntry entry : opened.tensors()) {
                ByteBuffer bytes = opened.map(entry, 1 << 30)[0];
                float[] values = new float[Math.toIntExact(entry.elementCount())];
                for (int i = 0; i < values.length; i++) {
                    values[i] = switch (entry.dtype()) {
                        case F32 -> bytes.getFloat(4 * i);
                        case F16 -> ElementType.f16ToFloat(bytes.getShort(2 * i));
                        case BF16 -> ElementType.bf16ToFloat(bytes.getShort(2 * i));
                    };
                }
                tensors.put(entry.name(), new OutTensor(entry.dtype(), entry.shape(), values));
            }
        }
        return tensors;
    }

    /**
     * Asserts a successful run: exit 0, nothing on err, one summary line on out naming the rule,
     * and the out directory holding only OUT. Returns the output tensors.
     */
    static Map<String, OutTensor> assertSucceeded(Result result, Path out, String rule) throws IOException {
        assertEquals(0, result.code(), result::toString);
        assertEquals("", result.err(), result::toString);
        assertEquals(1, result.outLines().size(), result::toString);
        assertTrue(result.outLines().get(0).startsWith(rule + " of "), result::toString);
        assertTrue(result.outLines().get(0).endsWith(out.toString()), result::toString);
        assertEquals(List.of(out.getFileName().toString()), listNames(out.getParent()), "the out directory");
        return read(out);
    }

    /** Asserts the names (as a set), shapes and dtype of an output. */
    static void assertLayout(Map<String, OutTensor> output, TensorDtype dtype, Object... nameShapePairs) {
        Map<String, long[]> expected = new LinkedHashMap<>();
        for (int i = 0; i < nameShapePairs.length; i += 2) {
            expected.put((String) nameShapePairs[i], (long[]) nameShapePairs[i + 1]);
        }
        assertEquals(expected.keySet(), output.keySet(), "tensor names");
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            OutTensor tensor = output.get(e.getKey());
            assertArrayEquals(e.getValue(), tensor.shape(), "shape of " + e.getKey());
            assertEquals(dtype, tensor.dtype(), "dtype of " + e.getKey());
        }
    }

    /** The mean-like tolerance of the spec: |a - b| <= 1e-5 + 1e-4 |b|, element by element. */
    static void assertClose(double[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            float b = (float) expected[i];
            assertTrue(Float.isFinite(actual[i]), what + "[" + i + "] is " + actual[i]);
            assertTrue(Math.abs(actual[i] - b) <= 1e-5 + 1e-4 * Math.abs(b),
                    what + "[" + i + "]: expected " + b + ", got " + actual[i] + " (all: " + Arrays.toString(actual) + ")");
        }
    }

    static void assertClose(Map<String, OutTensor> output, String name, double... expected) {
        assertClose(expected, output.get(name).values(), "tensor '" + name + "'");
    }

    /** The iterative rules' tolerance: ||a - b|| / ||b|| <= 1e-4 over the whole update. */
    static void assertRelativeL2(Map<String, OutTensor> output, Map<String, double[]> expected) {
        double diff = 0;
        double norm = 0;
        for (Map.Entry<String, double[]> e : expected.entrySet()) {
            float[] actual = output.get(e.getKey()).values();
            assertEquals(e.getValue().length, actual.length, "length of " + e.getKey());
            for (int i = 0; i < actual.length; i++) {
                double b = (float) e.getValue()[i];
                assertTrue(Float.isFinite(actual[i]), e.getKey() + "[" + i + "] is " + actual[i]);
                diff += (actual[i] - b) * (actual[i] - b);
                norm += b * b;
            }
        }
        double relative = Math.sqrt(diff) / Math.sqrt(norm);
        assertTrue(relative <= 1e-4, () -> "relative L2 error " + relative + " > 1e-4; got " + describe(output));
    }

    static String describe(Map<String, OutTensor> output) {
        StringBuilder text = new StringBuilder();
        output.forEach((name, tensor) -> text.append(name).append('=').append(Arrays.toString(tensor.values())).append(' '));
        return text.toString();
    }

    static List<String> listNames(Path directory) throws IOException {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /**
     * Asserts a failed run: the exit code is one of {@code codes}, err holds exactly one line that
     * contains every fragment, OUT does not exist and its directory is empty (no temporary file).
     */
    static void assertRejected(Result result, Path out, int[] codes, String... fragments) throws IOException {
        assertTrue(Arrays.stream(codes).anyMatch(c -> c == result.code()),
                () -> "exit code should be one of " + Arrays.toString(codes) + "; " + result);
        List<String> lines = result.errLines();
        assertEquals(1, lines.size(), () -> "exactly one line on err; " + result);
        String line = lines.get(0);
        for (String fragment : fragments) {
            assertTrue(line.contains(fragment), () -> "expected '" + fragment + "' in the err line: " + line);
        }
        assertFalse(Files.exists(out), "no file at OUT");
        assertEquals(List.of(), listNames(out.getParent()), "no leftover file in OUT's directory");
    }

    static int[] codes(int... codes) {
        return codes;
    }
}
