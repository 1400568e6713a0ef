package org.murmur.server.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.murmur.server.cli.AggregateFixtures.F16;
import static org.murmur.server.cli.AggregateFixtures.F32;
import static org.murmur.server.cli.AggregateFixtures.assertRejected;
import static org.murmur.server.cli.AggregateFixtures.codes;
import static org.murmur.server.cli.AggregateFixtures.command;
import static org.murmur.server.cli.AggregateFixtures.entry;
import static org.murmur.server.cli.AggregateFixtures.f32;
import static org.murmur.server.cli.AggregateFixtures.listNames;
import static org.murmur.server.cli.AggregateFixtures.raw;
import static org.murmur.server.cli.AggregateFixtures.run;
import static org.murmur.server.cli.AggregateFixtures.shape;
import static org.murmur.server.cli.AggregateFixtures.t;
import static org.murmur.server.cli.AggregateFixtures.write;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.murmur.kernels.cuda.CudaProbe;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.server.cli.AggregateFixtures.Result;

/**
 * Every input spec/aggregation-rules.md says must be rejected, end to end: a non-zero exit code,
 * exactly one line on stderr naming the file, tensor or parameter at fault, and no file (nor
 * temporary file) at OUT.
 */
class AggregateRejectionTest {
    /** Invalid input: a bad file, tensor or parameter value. */
    private static final int[] INVALID = codes(1);
    /** A malformed command line, as picocli reports it. */
    private static final int[] USAGE = codes(2);
    /** A flag combination that is wrong for the rule: either reading is defensible. */
    private static final int[] INVALID_OR_USAGE = codes(1, 2);

    @TempDir
    Path dir;
    Path in;
    Path out;

    @BeforeEach
    void directories() throws IOException {
        in = Files.createDirectory(dir.resolve("in"));
        out = Files.createDirectory(dir.resolve("out")).resolve("OUT.safetensors");
    }

    private Path input(String name) {
        return in.resolve(name + ".safetensors");
    }

    private static String fileName(Path file) {
        return file.getFileName().toString();
    }

    /** A valid update: "w" of shape [2, 3] and "b" of shape [2]. */
    private Path good(String name, float base) throws IOException {
        return write(input(name),
                t("w", shape(2, 3), base, base + 1, base + 2, base + 3, base + 4, base + 5),
                t("b", shape(2), -base, base));
    }

    /** n valid updates u0..u{n-1}. */
    private List<Path> goods(int n) throws IOException {
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            files.add(good("u" + i, i));
        }
        return files;
    }

    /** Two valid updates followed by {@code bad}. */
    private List<Path> twoGoodsAnd(Path bad) throws IOException {
        return List.of(good("u0", 0), good("u1", 1), bad);
    }

    private static List<String> withBackend(List<String> args, String backend) {
        List<String> changed = new ArrayList<>(args);
        changed.set(changed.indexOf("--backend") + 1, backend);
        return changed;
    }

    private Result aggregate(String rule, List<Path> inputs, String... extra) {
        return run(command(rule, out, inputs, extra));
    }

    // ---------------------------------------------------------------- layouts that differ

    @Test
    void mismatchedShapesWithTheSameElementCount() throws IOException {
        Path bad = write(input("bad"), t("w", shape(3, 2), 0, 1, 2, 3, 4, 5), t("b", shape(2), 0, 0));

        assertRejected(aggregate("fedavg", twoGoodsAnd(bad)), out, INVALID, fileName(bad), "'w'");
    }

    @Test
    void mismatchedShapesWithAnotherElementCount() throws IOException {
        Path bad = write(input("bad"), t("w", shape(2, 3), 0, 1, 2, 3, 4, 5), t("b", shape(3), 0, 0, 0));

        assertRejected(aggregate("median", twoGoodsAnd(bad)), out, INVALID, fileName(bad), "'b'");
    }

    @Test
    void aRenamedTensor() throws IOException {
        Path bad = write(input("bad"), t("w", shape(2, 3), 0, 1, 2, 3, 4, 5), t("bias", shape(2), 0, 0));

        assertRejected(aggregate("fedavg", twoGoodsAnd(bad)), out, INVALID, fileName(bad), "'b'");
    }

    @Test
    void aMissingTensor() throws IOException {
        Path bad = write(input("bad"), t("w", shape(2, 3), 0, 1, 2, 3, 4, 5));

        assertRejected(aggregate("fedavg", twoGoodsAnd(bad)), out, INVALID, fileName(bad), "'b'");
    }

    @Test
    void anExtraTensor() throws IOException {
        Path bad = write(input("bad"), t("w", shape(2, 3), 0, 1, 2, 3, 4, 5), t("b", shape(2), 0, 0),
                t("extra", shape(), 1));

        assertRejected(aggregate("fedavg", twoGoodsAnd(bad)), out, INVALID, fileName(bad), "'extra'");
    }

    @Test
    void anExtraTensorInTheFirstFile() throws IOException {
        Path first = write(input("first"), t("w", shape(2, 3), 0, 1, 2, 3, 4, 5), t("b", shape(2), 0, 0),
                t("extra", shape(), 1));
        List<Path> inputs = List.of(first, good("u1", 1), good("u2", 2));

        assertRejected(aggregate("krum", inputs, "--f", "0"), out, INVALID, "'extra'");
    }

    // ---------------------------------------------------------------- non-finite values

    static Stream<Arguments> nonFinite() {
        List<Arguments> cases = new ArrayList<>();
        for (TensorDtype dtype : TensorDtype.values()) {
            for (float value : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                for (String rule : new String[] {"fedavg", "median"}) {
                    cases.add(Arguments.of(dtype, value, rule));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{2}: {1} in {0}")
    @MethodSource("nonFinite")
    void aNonFiniteValueFailsTheRunEvenForRobustRules(TensorDtype dtype, float value, String rule) throws IOException {
        Path bad = write(input("bad"), t("w", shape(2, 3), 0, 1, 2, 3, 4, 5), t("b", dtype, shape(2), 0, value));

        assertRejected(aggregate(rule, twoGoodsAnd(bad)), out, INVALID, fileName(bad), "'b'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"trimmed_mean", "krum", "bulyan", "geomedian", "centered_clip", "norm_clip_mean", "multikrum"})
    void aNanFailsEveryRule(String rule) throws IOException {
        Path bad = write(input("bad"), t("w", F16, shape(2, 3), 0, 1, 2, 3, Float.NaN, 5), t("b", shape(2), 0, 0));
        String[] parameters = switch (rule) {
            case "trimmed_mean" -> new String[] {"--k", "1"};
            case "krum", "bulyan" -> new String[] {"--f", "0"};
            case "multikrum" -> new String[] {"--f", "0", "--m", "2"};
            case "centered_clip" -> new String[] {"--tau", "1"};
            case "norm_clip_mean" -> new String[] {"--c", "1"};
            default -> new String[0];
        };

        assertRejected(aggregate(rule, twoGoodsAnd(bad), parameters), out, INVALID, fileName(bad), "'w'");
    }

    // ---------------------------------------------------------------- malformed files

    private byte[] validBytes() throws IOException {
        return Files.readAllBytes(good("template", 7));
    }

    @Test
    void aFileCutInTheData() throws IOException {
        byte[] bytes = validBytes();
        Path bad = Files.write(input("bad"), Arrays.copyOf(bytes, bytes.length - 3));

        assertRejected(aggregate("fedavg", twoGoodsAnd(bad)), out, INVALID, fileName(bad));
    }

    @Test
    void aFileCutInsideTheHeader() throws IOException {
        byte[] bytes = validBytes();
        Path bad = Files.write(input("bad"), Arrays.copyOf(bytes, 8 + 10));

        assertRejected(aggregate("fedavg", twoGoodsAnd(bad)), out, INVALID, fileName(bad));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 5, 7})
    void aFileShorterThanTheLengthField(int length) throws IOException {
        Path bad = Files.write(input("bad"), Arrays.copyOf(validBytes(), length));

        assertRejected(aggregate("median", twoGoodsAnd(bad)), out, INVALID, fileName(bad));
    }

    @ParameterizedTest
    @ValueSource(longs = {1000, -1L /* 2^64-1 */, Long.MAX_VALUE, Long.MIN_VALUE /* 2^63 */, 0x1_0000_0000L})
    void aHeaderLengthLargerThanTheFile(long declared) throws IOException {
        String header = "{" + entry("w", "F32", "[1]", 0, 4) + "}";
        Path bad = raw(input("bad"), declared, header.getBytes(StandardCharsets.UTF_8), f32(1));

        assertRejected(aggregate("fedavg", twoGoodsAnd(bad)), out, INVALID, fileName(bad));
    }

    @Test
    void aDuplicateTensorNameInOneHeader() throws IOException {
        String header = "{" + entry("w", "F32", "[2,3]", 0, 24) + ", " + entry("b", "F32", "[2]", 24, 32) + ", "
                + entry("w", "F32", "[2,3]", 32, 56) + "}";
        Path bad = raw(input("bad"), header, f32(new float[14]));

        assertRejected(aggregate("fedavg", twoGoodsAnd(bad)), out, INVALID, fileName(bad), "'w'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"I64", "F64", "I32"})
    void anUnsupportedDtype(String dtype) throws IOException {
        int size = dtype.endsWith("64") ? 8 : 4;
        String header = "{" + entry("w", "F32", "[2,3]", 0, 24) + ", " + entry("b", dtype, "[2]", 24, 24 + 2L * size) + "}";
        Path bad = raw(input("bad"), header, new byte[24 + 2 * size]);

        assertRejected(aggregate("fedavg", twoGoodsAnd(bad)), out, INVALID, fileName(bad), "'b'", dtype);
    }

    @Test
    void trailingBytesAfterTheData() throws IOException {
        String header = "{" + entry("w", "F32", "[2,3]", 0, 24) + ", " + entry("b", "F32", "[2]", 24, 32) + "}";
        Path bad = raw(input("bad"), header, new byte[32 + 4]);

        assertRejected(aggregate("fedavg", twoGoodsAnd(bad)), out, INVALID, fileName(bad));
    }

    @Test
    void aGapInTheDataBuffer() throws IOException {
        String header = "{" + entry("w", "F32", "[2,3]", 0, 24) + ", " + entry("b", "F32", "[2]", 28, 36) + "}";
        Path bad = raw(input("bad"), header, new byte[36]);

        assertRejected(aggregate("fedavg", twoGoodsAnd(bad)), out, INVALID, fileName(bad));
    }

    @Test
    void aHeaderThatIsNotJson() throws IOException {
        Path bad = raw(input("bad"), "{\"w\": {\"dtype\" \"F32\"}}", new byte[0]);

        assertRejected(aggregate("fedavg", twoGoodsAnd(bad)), out, INVALID, fileName(bad));
    }

    @Test
    void anInputThatDoesNotExist() throws IOException {
        Path missing = input("missing");

        assertRejected(aggregate("fedavg", twoGoodsAnd(missing)), out, codes(1, 3), fileName(missing));
    }

    @Test
    void aDirectoryAsInput() throws IOException {
        Path directory = Files.createDirectory(input("directory"));

        assertRejected(aggregate("fedavg", twoGoodsAnd(directory)), out, codes(1, 3), fileName(directory));
    }

    // ---------------------------------------------------------------- n too small for the rule

    @Test
    void krumWithTooFewUpdates() throws IOException {
        assertRejected(aggregate("krum", goods(4), "--f", "1"), out, INVALID, "--f");
    }

    @Test
    void multikrumWithTooFewUpdates() throws IOException {
        assertRejected(aggregate("multikrum", goods(4), "--f", "1", "--m", "1"), out, INVALID, "--f");
    }

    @Test
    void bulyanWithTooFewUpdates() throws IOException {
        assertRejected(aggregate("bulyan", goods(6), "--f", "1"), out, INVALID, "--f");
    }

    @Test
    void trimmedMeanWithNNotAboveTwoK() throws IOException {
        assertRejected(aggregate("trimmed_mean", goods(4), "--k", "2"), out, INVALID, "--k");
    }

    @Test
    void multikrumWithMAboveN() throws IOException {
        assertRejected(aggregate("multikrum", goods(3), "--f", "0", "--m", "4"), out, INVALID, "--m");
    }

    // ---------------------------------------------------------------- parameter values

    @ParameterizedTest
    @ValueSource(strings = {"1,2", "1,2,3,4", "1", "1,-1,1", "1,NaN,1", "1,Infinity,1", "-Infinity,1,1", "0,0,0", "0,0,-0"})
    void badWeights(String weights) throws IOException {
        assertRejected(aggregate("fedavg", goods(3), "--weights", weights), out, INVALID, "--weights");
    }

    @ParameterizedTest
    @ValueSource(strings = {"1,x,1", "1,,1", "", "1;2;3", "0x,1,1"})
    void weightsThatAreNotNumbers(String weights) throws IOException {
        assertRejected(aggregate("fedavg", goods(3), "--weights", weights), out, INVALID_OR_USAGE, "--weights");
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
                Arguments.of("krum", new String[] {"--f", "-1"}, "--f"),
                Arguments.of("multikrum", new String[] {"--f", "0", "--m", "0"}, "--m"),
                Arguments.of("trimmed_mean", new String[] {"--k", "-1"}, "--k"),
                Arguments.of("centered_clip", new String[] {"--tau", "0"}, "--tau"),
                Arguments.of("centered_clip", new String[] {"--tau", "-0.5"}, "--tau"),
                Arguments.of("centered_clip", new String[] {"--tau", "NaN"}, "--tau"),
                Arguments.of("centered_clip", new String[] {"--tau", "1", "--iters", "-1"}, "--iters"),
                Arguments.of("norm_clip_mean", new String[] {"--c", "0"}, "--c"),
                Arguments.of("norm_clip_mean", new String[] {"--c", "-10"}, "--c"),
                Arguments.of("norm_clip_mean", new String[] {"--c", "Infinity"}, "--c"),
                Arguments.of("geomedian", new String[] {"--eps", "0"}, "--eps"),
                Arguments.of("geomedian", new String[] {"--tol", "-1e-08"}, "--tol"),
                Arguments.of("geomedian", new String[] {"--maxiter", "-1"}, "--maxiter"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("badValues")
    void parameterValuesOutOfRange(String rule, String[] parameters, String named) throws IOException {
        assertRejected(aggregate(rule, goods(5), parameters), out, INVALID, named);
    }

    @Test
    void aCenterFileWithOtherShapes() throws IOException {
        Path center = write(input("center"), t("w", shape(3, 2), 0, 1, 2, 3, 4, 5), t("b", shape(2), 0, 0));

        assertRejected(aggregate("centered_clip", goods(3), "--tau", "1", "--center", center.toString()),
                out, INVALID, fileName(center), "'w'");
    }

    @Test
    void aCenterFileWithAMissingTensor() throws IOException {
        Path center = write(input("center"), t("w", shape(2, 3), 0, 1, 2, 3, 4, 5));

        assertRejected(aggregate("centered_clip", goods(3), "--tau", "1", "--center", center.toString()),
                out, INVALID, fileName(center), "'b'");
    }

    @Test
    void aCenterFileWithANan() throws IOException {
        Path center = write(input("center"), t("w", shape(2, 3), 0, 1, 2, 3, 4, 5), t("b", shape(2), Float.NaN, 0));

        assertRejected(aggregate("centered_clip", goods(3), "--tau", "1", "--center", center.toString()),
                out, INVALID, fileName(center), "'b'");
    }

    @Test
    void aCenterFileThatDoesNotExist() throws IOException {
        Path center = input("no-center");

        assertRejected(aggregate("centered_clip", goods(3), "--tau", "1", "--center", center.toString()),
                out, codes(1, 3), fileName(center));
    }

    // ---------------------------------------------------------------- flags and rules

    static Stream<Arguments> missingParameters() {
        return Stream.of(
                Arguments.of("krum", new String[0], "--f"),
                Arguments.of("bulyan", new String[0], "--f"),
                Arguments.of("multikrum", new String[] {"--m", "1"}, "--f"),
                Arguments.of("multikrum", new String[] {"--f", "0"}, "--m"),
                Arguments.of("trimmed_mean", new String[0], "--k"),
                Arguments.of("centered_clip", new String[] {"--iters", "2"}, "--tau"),
                Arguments.of("norm_clip_mean", new String[0], "--c"));
    }

    @ParameterizedTest(name = "{0} {1} lacks {2}")
    @MethodSource("missingParameters")
    void aMissingRequiredParameter(String rule, String[] parameters, String named) throws IOException {
        assertRejected(aggregate(rule, goods(5), parameters), out, INVALID_OR_USAGE, named);
    }

    static Stream<Arguments> inapplicableParameters() {
        return Stream.of(
                Arguments.of("krum", new String[] {"--f", "0", "--k", "1"}, "--k"),
                Arguments.of("median", new String[] {"--weights", "1,1,1,1,1"}, "--weights"),
                Arguments.of("fedavg", new String[] {"--tau", "1"}, "--tau"),
                Arguments.of("geomedian", new String[] {"--iters", "3"}, "--iters"),
                Arguments.of("norm_clip_mean", new String[] {"--c", "1", "--center", "whatever.safetensors"}, "--center"),
                Arguments.of("trimmed_mean", new String[] {"--k", "1", "--m", "2"}, "--m"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("inapplicableParameters")
    void aParameterThatDoesNotApplyToTheRule(String rule, String[] parameters, String named) throws IOException {
        assertRejected(aggregate(rule, goods(5), parameters), out, INVALID_OR_USAGE, named);
    }

    @ParameterizedTest
    @ValueSource(strings = {"fedprox", "Median", "krum2", ""})
    void anUnknownRule(String rule) throws IOException {
        assertRejected(aggregate(rule, goods(3)), out, INVALID_OR_USAGE, "--rule");
    }

    @ParameterizedTest
    @ValueSource(strings = {"f64", "fp16", "int8", ""})
    void anUnknownOutDtype(String dtype) throws IOException {
        assertRejected(aggregate("fedavg", goods(3), "--out-dtype", dtype), out, INVALID_OR_USAGE, "--out-dtype");
    }

    @Test
    void theCudaBackendIsUnavailableHere() throws IOException {
        Assumptions.assumeFalse(CudaProbe.available(), "CUDA runs on this machine: nothing to refuse");
        Result result = run(withBackend(command("fedavg", out, goods(3)), "cuda"));

        assertRejected(result, out, codes(3));
        assertTrue(result.err().toLowerCase(Locale.ROOT).contains("cuda"), result::toString);
    }

    @Test
    void anUnknownBackend() throws IOException {
        assertRejected(run(withBackend(command("fedavg", out, goods(3)), "tpu")), out, INVALID_OR_USAGE, "tpu");
    }

    static Stream<Arguments> malformedCommandLines() {
        return Stream.of(
                Arguments.of(new String[] {"--rule", "krum", "--f", "abc"}, "--f"),
                Arguments.of(new String[] {"--rule", "fedavg", "--bogus", "1"}, "--bogus"),
                Arguments.of(new String[] {"--rule", "norm_clip_mean", "--c", "ten"}, "--c"),
                Arguments.of(new String[] {"--rule", "fedavg", "--f"}, "--f"),
                Arguments.of(new String[] {"--rule", "krum", "--f", "0", "--f", "1"}, "--f"),
                Arguments.of(new String[] {"--f", "1"}, "--rule"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedCommandLines")
    void aMalformedCommandLine(String[] flags, String named) throws IOException {
        List<String> args = new ArrayList<>(List.of("aggregate"));
        args.addAll(List.of(flags));
        args.add("--out");
        args.add(out.toString());
        for (Path input : goods(3)) {
            args.add(input.toString());
        }

        assertRejected(run(args), out, USAGE, named);
    }

    @Test
    void noOutFlag() throws IOException {
        List<String> args = new ArrayList<>(List.of("aggregate", "--rule", "fedavg"));
        for (Path input : goods(3)) {
            args.add(input.toString());
        }

        assertRejected(run(args), out, USAGE, "--out");
    }

    @Test
    void noInputs() throws IOException {
        assertRejected(run("aggregate", "--rule", "fedavg", "--out", out.toString()), out, USAGE);
    }

    // ---------------------------------------------------------------- failures while writing

    @Test
    void anF16OutputThatOverflowsNamesTheTensor() throws IOException {
        List<Path> inputs = List.of(
                write(input("u0"), t("ok", shape(2), 1, 2), t("big", shape(2), 1e6f, 1)),
                write(input("u1"), t("big", shape(2), 1e6f, 1), t("ok", shape(2), 3, 4)));

        assertRejected(aggregate("fedavg", inputs, "--out-dtype", "f16"), out, INVALID, "'big'");
    }

    @Test
    void aBf16OutputThatOverflowsNamesTheTensor() throws IOException {
        // Float.MAX_VALUE is finite in float32 but rounds up to infinity in bfloat16.
        List<Path> inputs = List.of(
                write(input("u0"), t("huge", shape(1), Float.MAX_VALUE)),
                write(input("u1"), t("huge", shape(1), Float.MAX_VALUE)));

        assertRejected(aggregate("median", inputs, "--out-dtype", "bf16"), out, INVALID, "'huge'");
    }

    // ---------------------------------------------------------------- an existing OUT

    static Stream<Arguments> failingRuns() {
        return Stream.of(
                Arguments.of("a NaN input", "nan"),
                Arguments.of("a rule parameter", "param"),
                Arguments.of("an f16 overflow while writing", "overflow"),
                Arguments.of("a malformed command line", "usage"),
                Arguments.of("the cuda backend", "cuda"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("failingRuns")
    void anExistingOutIsLeftUntouchedByAFailingRun(String description, String failure) throws IOException {
        byte[] previous = Files.readAllBytes(good("previous-model", 42));
        Files.write(out, previous);
        List<Path> inputs = goods(3);
        Result result = switch (failure) {
            case "nan" -> aggregate("median", twoGoodsAnd(
                    write(input("bad"), t("w", shape(2, 3), 0, 1, 2, 3, 4, Float.NaN), t("b", shape(2), 0, 0))));
            case "param" -> aggregate("krum", inputs, "--f", "1");
            case "overflow" -> aggregate("fedavg", List.of(
                    write(input("big0"), t("w", F32, shape(1), 1e6f)),
                    write(input("big1"), t("w", F16, shape(1), 60000))), "--out-dtype", "f16");
            case "usage" -> aggregate("krum", inputs, "--f", "abc");
            case "cuda" -> run(withBackend(command("fedavg", out, inputs), "cuda"));
            default -> throw new AssertionError(failure);
        };

        assertTrue(result.code() != 0, result::toString);
        assertEquals(1, result.errLines().size(), result::toString);
        assertArrayEquals(previous, Files.readAllBytes(out), "OUT is unchanged");
        assertEquals(List.of(fileName(out)), listNames(out.getParent()), "nothing but OUT in its directory");
    }
}
