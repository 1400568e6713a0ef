package org.murmur.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.UpdateBatch;
import org.murmur.kernels.testing.Batches.Dtypes;
import org.murmur.kernels.testing.Batches.Layout;
import org.murmur.kernels.testing.Batches;
import org.murmur.kernels.testing.RandomUpdates;
import org.murmur.kernels.testing.SeedReporter;
import org.murmur.kernels.testing.SeededRandom;

/**
 * The kernels' shared math (murmur_math.cuh), compiled by nvcc into a host program
 * (src/test/cuda/murmur_math_check.cu), against the Java implementation: the F16 and BF16 decode
 * of all 65,536 patterns, the order-preserving key, the compare-exchange, the sorting networks,
 * both rank-window means, the float64 weighted mean and squared distance bit for bit, and
 * load_element over tiles staged by {@link TileStager}. Runs in every build where nvcc was on the
 * PATH; skipped, saying so, elsewhere. What it cannot show is that the device rounds as the host
 * does: the CUDA contract suites show that where a GPU is.
 */
@ExtendWith(SeedReporter.class)
class CudaHostMathTest {
    private static final String PROPERTY = "murmur.cuda.hostCheck";
    private static final Path PROGRAM = Path.of(System.getProperty(PROPERTY, "target/cuda/murmur_math_check"));

    @BeforeEach
    void requireTheHostCheck() {
        Assumptions.assumeTrue(Files.isExecutable(PROGRAM),
                () -> "the host check of the CUDA math was not built (nvcc was not on the PATH): no " + PROGRAM);
    }

    /** Sends the requests to the host check, one a line, and returns its answers, one per request. */
    private static List<String> ask(List<String> requests) {
        try {
            Path input = Files.createTempFile("murmur-math-check", ".txt");
            try {
                Files.write(input, requests, StandardCharsets.US_ASCII);
                Process process = new ProcessBuilder(PROGRAM.toString()).redirectInput(input.toFile())
                        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
                String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertEquals(0, process.waitFor(), "the host check's exit status");
                List<String> answers = out.lines().toList();
                assertEquals(requests.size(), answers.size(), "one answer per request");
                return answers;
            } finally {
                Files.deleteIfExists(input);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String hex(float v) {
        return Integer.toHexString(Float.floatToRawIntBits(v));
    }

    private static String hex(double v) {
        return Long.toHexString(Double.doubleToRawLongBits(v));
    }

    private static float floatOf(String hex) {
        return Float.intBitsToFloat(Integer.parseUnsignedInt(hex, 16));
    }

    private static void assertSameFloat(float expected, float actual, String what) {
        if (Float.isNaN(expected)) {
            assertTrue(Float.isNaN(actual), () -> what + ": expected NaN, got " + actual);
        } else {
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual),
                    () -> what + ": expected " + expected + ", got " + actual);
        }
    }

    @Test
    void f16AndBf16DecodeLikeElementTypeForEveryPattern() {
        List<String> requests = new ArrayList<>();
        for (int h = 0; h < 0x10000; h++) {
            requests.add("f16 " + Integer.toHexString(h));
            requests.add("bf16 " + Integer.toHexString(h));
        }
        List<String> answers = ask(requests);
        for (int h = 0; h < 0x10000; h++) {
            String pattern = Integer.toHexString(h);
            assertSameFloat(ElementType.f16ToFloat((short) h), floatOf(answers.get(2 * h)), "f16 " + pattern);
            assertSameFloat(ElementType.bf16ToFloat((short) h), floatOf(answers.get(2 * h + 1)), "bf16 " + pattern);
        }
    }

    @Test
    void keysOrderFloatsLikeFloatCompareAndInvert() {
        SeededRandom random = SeededRandom.forCase("sortable keys");
        List<Float> floats = new ArrayList<>();
        for (int h = 0; h < 0x10000; h++) {
            floats.add(ElementType.bf16ToFloat((short) h));
        }
        for (int i = 0; i < 20_000; i++) {
            floats.add(Float.intBitsToFloat((int) random.nextLong()));
        }
        floats.addAll(List.of(0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY));
        floats.removeIf(f -> f.isNaN());
        List<String> answers = ask(floats.stream().map(f -> "key " + hex(f)).toList());
        Integer[] order = IntStream.range(0, floats.size()).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparing(floats::get));
        int[] keys = new int[floats.size()];
        for (int i = 0; i < floats.size(); i++) {
            String[] answer = answers.get(i).split(" ");
            keys[i] = Integer.parseUnsignedInt(answer[0], 16);
            assertSameFloat(floats.get(i), floatOf(answer[1]), "value_of_key(key_of(" + floats.get(i) + ")) " + random.where());
        }
        for (int k = 1; k < order.length; k++) {
            float below = floats.get(order[k - 1]);
            float above = floats.get(order[k]);
            int comparison = Integer.compare(keys[order[k - 1]], keys[order[k]]);
            assertEquals(Integer.signum(Float.compare(below, above)), comparison,
                    () -> "keys of " + below + " and " + above + " compare as the floats do " + random.where());
        }
    }

    @Test
    void compareExchangePutsTheSmallerKeyFirst() {
        SeededRandom random = SeededRandom.forCase("compare-exchange");
        List<int[]> pairs = new ArrayList<>(List.of(new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE},
                new int[] {Integer.MAX_VALUE, Integer.MIN_VALUE}, new int[] {-1, 0}, new int[] {5, 5}));
        for (int i = 0; i < 1000; i++) {
            pairs.add(new int[] {(int) random.nextLong(), (int) random.nextLong()});
        }
        List<String> answers = ask(pairs.stream().map(p -> "exchange " + Integer.toHexString(p[0]) + " " + Integer.toHexString(p[1])).toList());
        for (int i = 0; i < pairs.size(); i++) {
            int[] p = pairs.get(i);
            String expected = Integer.toHexString(Math.min(p[0], p[1])) + " " + Integer.toHexString(Math.max(p[0], p[1]));
            assertEquals(pad(expected), answers.get(i), "exchange of " + p[0] + " and " + p[1]);
        }
    }

    /** Eight hexadecimal digits per number, as the host check prints them. */
    private static String pad(String hexNumbers) {
        return Arrays.stream(hexNumbers.split(" ")).map(h -> "0".repeat(8 - h.length()) + h).reduce((a, b) -> a + " " + b).orElse("");
    }

    @Test
    void bitonicNetworksSortEveryCountUpTo64() {
        SeededRandom random = SeededRandom.forCase("bitonic networks");
        List<int[]> cases = new ArrayList<>();
        for (int n = 1; n <= 64; n++) {
            for (int trial = 0; trial < 4; trial++) {
                int[] keys = new int[n];
                for (int i = 0; i < n; i++) {
                    // Few distinct values in odd trials, so that the networks meet ties; the padding key too.
                    keys[i] = trial % 2 == 1 ? random.nextInt(4) - 2 : (int) random.nextLong();
                }
                if (trial == 2) {
                    keys[random.nextInt(n)] = Integer.MAX_VALUE;
                    keys[random.nextInt(n)] = Integer.MIN_VALUE;
                }
                cases.add(keys);
            }
        }
        List<String> answers = ask(cases.stream().map(k -> "sort " + String.join(" ",
                Arrays.stream(k).mapToObj(Integer::toHexString).toList())).toList());
        for (int c = 0; c < cases.size(); c++) {
            int[] sorted = cases.get(c).clone();
            Arrays.sort(sorted);
            int[] actual = Arrays.stream(answers.get(c).split(" ")).mapToInt(h -> Integer.parseUnsignedInt(h, 16)).toArray();
            int[] input = cases.get(c);
            assertEquals(Arrays.toString(sorted), Arrays.toString(actual), () -> "sort of " + Arrays.toString(input) + " " + random.where());
        }
    }

    @Test
    void rankWindowMeansMatchTheirDefinitions() {
        SeededRandom random = SeededRandom.forCase("rank windows");
        List<float[]> values = new ArrayList<>();
        List<int[]> windows = new ArrayList<>();
        for (int n : new int[] {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 129}) {
            for (int trial = 0; trial < 6; trial++) {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    // Ties, signed zeros and wide magnitudes in some trials.
                    v[i] = switch (trial % 3) {
                        case 0 -> (float) random.gaussian();
                        case 1 -> (float) (random.nextInt(3) - 1) * (random.nextBoolean() ? 0f : 1f) * (random.nextBoolean() ? 1 : -1);
                        default -> (float) (random.gaussian() * Math.pow(10, random.nextInt(40) - 20));
                    };
                    if (trial % 3 == 1 && v[i] == 0 && random.nextBoolean()) {
                        v[i] = -0f;
                    }
                }
                int k = random.nextInt((n - 1) / 2 + 1);
                values.add(v);
                windows.add(trial % 2 == 0 ? new int[] {(n - 1) / 2, n / 2 + 1} : new int[] {k, n - k});
            }
        }
        List<String> requests = new ArrayList<>();
        for (int c = 0; c < values.size(); c++) {
            float[] v = values.get(c);
            StringBuilder request = new StringBuilder("rank " + Integer.toHexString(v.length) + " "
                    + Integer.toHexString(windows.get(c)[0]) + " " + Integer.toHexString(windows.get(c)[1]));
            for (float f : v) {
                request.append(' ').append(hex(f));
            }
            requests.add(request.toString());
        }
        List<String> answers = ask(requests);
        for (int c = 0; c < values.size(); c++) {
            float[] v = values.get(c);
            int lo = windows.get(c)[0];
            int hi = windows.get(c)[1];
            String[] answer = answers.get(c).split(" ");
            String what = "ranks [" + lo + ", " + hi + ") of " + Arrays.toString(v) + " " + random.where();
            if (v.length <= CudaKernels.LARGEST_NETWORK) {
                assertSameFloat(windowInRankOrder(v, lo, hi), floatOf(answer[0]), "network, " + what);
            } else {
                assertEquals("-", answer[0], "no network above " + CudaKernels.LARGEST_NETWORK + " rows");
            }
            assertSameFloat(windowInRowOrder(v, lo, hi), floatOf(answer[1]), "radix, " + what);
            assertEquals("1", answer[2], "finite, " + what);
        }
        assertEquals("0", ask(List.of("rank 3 1 2 3f800000 7fc00000 40000000")).get(0).split(" ")[2], "a NaN is reported");
    }

    /** The stable order of the values: by Float.compare (so -0.0 before 0.0), ties by index. */
    private static Integer[] ranked(float[] v) {
        Integer[] order = IntStream.range(0, v.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, (a, b) -> Float.compare(v[a], v[b]));
        return order;
    }

    /** The network's mean: the window's values summed in rank order, as the CPU backend sums rows. */
    private static float windowInRankOrder(float[] v, int lo, int hi) {
        Integer[] order = ranked(v);
        double acc = 0;
        for (int rank = lo; rank < hi; rank++) {
            acc += 1.0 * v[order[rank]];
        }
        return (float) (acc / (hi - lo));
    }

    /** The radix path's mean: the values of the window's ranks summed in row order. */
    private static float windowInRowOrder(float[] v, int lo, int hi) {
        Integer[] order = ranked(v);
        boolean[] inside = new boolean[v.length];
        for (int rank = lo; rank < hi; rank++) {
            inside[order[rank]] = true;
        }
        double acc = 0;
        for (int r = 0; r < v.length; r++) {
            if (inside[r]) {
                acc += 1.0 * v[r];
            }
        }
        return (float) (acc / (hi - lo));
    }

    @Test
    void weightedMeansAndSquaredDistancesRoundLikeJava() {
        SeededRandom random = SeededRandom.forCase("float64 sums");
        List<String> requests = new ArrayList<>();
        List<Float> means = new ArrayList<>();
        List<Double> distances = new ArrayList<>();
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + random.nextInt(70);
            double[] coeffs = new double[n];
            float[] v = new float[n];
            float[] w = new float[n];
            double total = 0;
            for (int i = 0; i < n; i++) {
                coeffs[i] = trial % 4 == 0 ? 1.0 : random.uniform(0, 3);
                total += coeffs[i];
                v[i] = (float) (random.gaussian() * Math.pow(2, random.nextInt(60) - 30));
                w[i] = (float) (random.gaussian() * Math.pow(2, random.nextInt(60) - 30));
            }
            StringBuilder weighted = new StringBuilder("weighted " + Integer.toHexString(n));
            StringBuilder distance = new StringBuilder("distance " + Integer.toHexString(n));
            double acc = 0;
            double squares = 0;
            for (int i = 0; i < n; i++) {
                weighted.append(' ').append(hex(coeffs[i]));
                acc += coeffs[i] * v[i];
                double d = (double) v[i] - (double) w[i];
                squares += d * d;
            }
            weighted.append(' ').append(hex(total));
            for (int i = 0; i < n; i++) {
                weighted.append(' ').append(hex(v[i]));
                distance.append(' ').append(hex(v[i]));
            }
            for (int i = 0; i < n; i++) {
                distance.append(' ').append(hex(w[i]));
            }
            requests.add(weighted.toString());
            requests.add(distance.toString());
            means.add((float) (acc / total));
            distances.add(squares);
        }
        List<String> answers = ask(requests);
        for (int t = 0; t < means.size(); t++) {
            String[] mean = answers.get(2 * t).split(" ");
            assertSameFloat(means.get(t), floatOf(mean[0]), "weighted mean " + t + " " + random.where());
            assertEquals("1", mean[1]);
            assertEquals(Double.doubleToRawLongBits(distances.get(t)), Long.parseUnsignedLong(answers.get(2 * t + 1), 16),
                    "squared distance " + t + " " + random.where());
        }
    }

    @Test
    void loadElementReadsStagedTilesAsTheBatchDecodes() {
        SeededRandom random = SeededRandom.forCase("load_element on staged tiles");
        Layout layout = Layout.multi(150, random);
        UpdateBatch batch = Batches.builder(RandomUpdates.draw(random, 4, 150, 1), layout).dtypes(Dtypes.mixed())
                .chunkElements(9).build().batch();
        int[] rows = {2, 0, 3};
        TileStager stager = new TileStager(batch, rows);
        List<String> requests = new ArrayList<>();
        List<float[][]> expected = new ArrayList<>();
        for (int width : new int[] {1, 13, 64, 150}) {
            ByteBuffer slot = ByteBuffer.allocate((int) TileStager.tileBytes(rows.length, width));
            for (long start = 0; start < batch.dimension(); start += width) {
                int length = (int) Math.min(width, batch.dimension() - start);
                int bytes = stager.stage(start, length, slot);
                requests.add("tile " + Integer.toHexString(rows.length) + " " + Integer.toHexString(length) + " "
                        + HexFormat.of().formatHex(slot.array(), 0, bytes));
                float[][] decoded = new float[rows.length][length];
                for (int r = 0; r < rows.length; r++) {
                    batch.decode(rows[r], start, length, decoded[r], 0);
                }
                expected.add(decoded);
            }
        }
        List<String> answers = ask(requests);
        for (int t = 0; t < expected.size(); t++) {
            String[] values = answers.get(t).split(" ");
            float[][] tile = expected.get(t);
            int width = tile[0].length;
            for (int r = 0; r < tile.length; r++) {
                for (int x = 0; x < width; x++) {
                    assertSameFloat(tile[r][x], floatOf(values[r * width + x]), "tile " + t + " row " + r + " x " + x + " " + random.where());
                }
            }
        }
    }
}
