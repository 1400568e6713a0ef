package org.murmur.server.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.murmur.server.cli.AggregateFixtures.BF16;
import static org.murmur.server.cli.AggregateFixtures.F16;
import static org.murmur.server.cli.AggregateFixtures.F32;
import static org.murmur.server.cli.AggregateFixtures.assertClose;
import static org.murmur.server.cli.AggregateFixtures.assertLayout;
import static org.murmur.server.cli.AggregateFixtures.assertRelativeL2;
import static org.murmur.server.cli.AggregateFixtures.assertSucceeded;
import static org.murmur.server.cli.AggregateFixtures.command;
import static org.murmur.server.cli.AggregateFixtures.run;
import static org.murmur.server.cli.AggregateFixtures.scalar1;
import static org.murmur.server.cli.AggregateFixtures.shape;
import static org.murmur.server.cli.AggregateFixtures.t;
import static org.murmur.server.cli.AggregateFixtures.write;
import static org.murmur.server.cli.AggregateFixtures.writeShuffled;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.murmur.kernels.api.ElementType;
import org.murmur.server.cli.AggregateFixtures.OutTensor;
import org.murmur.server.cli.AggregateFixtures.Result;

/**
 * End to end: {@code murmur aggregate} over real files, each rule against hand-computed values
 * (spec/aggregation-rules.md, "The offline command" and the rule definitions).
 */
class AggregateCommandTest {
    private static final String WEIGHTS = "\u91cd\u307f.\u00e9"; // "重み.é": a non-ASCII, multi-byte name

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

    /** One-coordinate-per-tensor updates: tensor "a" of shape [1] and the 0-d tensor "z". */
    private List<Path> points(double[][] coordinates) throws IOException {
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < coordinates.length; i++) {
            files.add(write(input("u" + i),
                    scalar1("a", (float) coordinates[i][0]),
                    t("z", shape(), (float) coordinates[i][1])));
        }
        return files;
    }

    private Map<String, OutTensor> aggregate(String rule, List<Path> inputs, String... extra) throws IOException {
        Result result = run(command(rule, out, inputs, extra));
        Map<String, OutTensor> output = assertSucceeded(result, out, rule);
        return output;
    }

    // ---------------------------------------------------------------- fedavg

    @Test
    void fedavgReadsByNameWhateverKeyOrderDataOrderDtypeAndName() throws IOException {
        // u0: written byte by byte, keys w, b, s, 重み.é but data laid out in the reverse order,
        // a __metadata__ entry between the keys and a padded header.
        Path u0 = writeShuffled(input("u0"), List.of(
                t("w", shape(2, 2), 1, 2, 3, 4),
                t("b", shape(2), 10, 20),
                t("s", shape(), 1),
                t(WEIGHTS, shape(3), 0.5f, -1, 2)), new int[] {3, 2, 1, 0}, 13);
        // u1: all F16, keys and data in yet another order.
        Path u1 = write(input("u1"),
                t(WEIGHTS, F16, shape(3), 1.5f, -3, 4),
                t("s", F16, shape(), 2),
                t("b", F16, shape(2), 30, 40),
                t("w", F16, shape(2, 2), 3, 4, 5, 6));
        // u2: a different dtype from tensor to tensor.
        Path u2 = write(input("u2"),
                t("b", F16, shape(2), -10, 0),
                t(WEIGHTS, BF16, shape(3), 1, -2, 0),
                t("w", BF16, shape(2, 2), 5, 0, -2, 8),
                t("s", F32, shape(), 6));

        Map<String, OutTensor> output = aggregate("fedavg", List.of(u0, u1, u2));

        assertLayout(output, F32, "w", shape(2, 2), "b", shape(2), "s", shape(), WEIGHTS, shape(3));
        assertClose(output, "w", 3, 2, 2, 6);
        assertClose(output, "b", 10, 20);
        assertClose(output, "s", 3);
        assertClose(output, WEIGHTS, 1, -2, 2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1,3", "0.5,1.5", "1e-08,3e-08", "10,30"})
    void fedavgWeightsInInputOrder(String weights) throws IOException {
        Path u0 = write(input("u0"), t("w", shape(2), 0, 4), t("s", shape(), 2));
        Path u1 = write(input("u1"), t("s", shape(), 6), t("w", shape(2), 4, 8));

        Map<String, OutTensor> output = aggregate("fedavg", List.of(u0, u1), "--weights", weights);

        assertLayout(output, F32, "w", shape(2), "s", shape());
        assertClose(output, "w", 3, 7);
        assertClose(output, "s", 5);
    }

    @Test
    void fedavgWithAZeroWeightIgnoresThatUpdate() throws IOException {
        Path u0 = write(input("u0"), t("w", shape(2), 1, 2));
        Path u1 = write(input("u1"), t("w", shape(2), 100, -100));

        Map<String, OutTensor> output = aggregate("fedavg", List.of(u0, u1), "--weights", "1,0");

        assertClose(output, "w", 1, 2);
    }

    @Test
    void aSingleUpdateIsReturnedAsItIs() throws IOException {
        Path u0 = write(input("u0"), t("w", BF16, shape(3), 1.5f, -2, 0.25f), t("s", F16, shape(), 7));

        Map<String, OutTensor> output = aggregate("median", List.of(u0));

        assertLayout(output, F32, "w", shape(3), "s", shape());
        assertClose(output, "w", 1.5, -2, 0.25);
        assertClose(output, "s", 7);
    }

    // ---------------------------------------------------------------- coordinate-wise robust rules

    private static final float[][] FIVE = {
            {1, 5, -1},
            {3, 2, -7},
            {2, 9, 4},
            {10, 0, 0},
            {4, 1, 100}};

    private List<Path> rows(int n) throws IOException {
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            // The 0-d tensor "s" repeats the first coordinate.
            files.add(write(input("u" + i), t("s", shape(), FIVE[i][0]), t("v", shape(3), FIVE[i])));
        }
        return files;
    }

    @Test
    void medianOfAnOddCount() throws IOException {
        Map<String, OutTensor> output = aggregate("median", rows(3));

        assertLayout(output, F32, "s", shape(), "v", shape(3));
        assertClose(output, "v", 2, 5, -1);
        assertClose(output, "s", 2);
    }

    @Test
    void medianOfAnEvenCountIsTheMeanOfTheTwoMiddleValues() throws IOException {
        Map<String, OutTensor> output = aggregate("median", rows(4));

        assertLayout(output, F32, "s", shape(), "v", shape(3));
        assertClose(output, "v", 2.5, 3.5, -0.5);
        assertClose(output, "s", 2.5);
    }

    @Test
    void trimmedMeanDropsTheKLargestAndKSmallest() throws IOException {
        Map<String, OutTensor> output = aggregate("trimmed_mean", rows(5), "--k", "1");

        assertLayout(output, F32, "s", shape(), "v", shape(3));
        // Sorted columns: 1 2 3 4 10 | 0 1 2 5 9 | -7 -1 0 4 100.
        assertClose(output, "v", 3, 8.0 / 3, 1);
        assertClose(output, "s", 3);
    }

    @Test
    void trimmedMeanWithKZeroIsTheMean() throws IOException {
        Map<String, OutTensor> output = aggregate("trimmed_mean", rows(2), "--k", "0");

        assertClose(output, "v", 2, 3.5, -4);
    }

    // ---------------------------------------------------------------- the Krum family

    @Test
    void krumWithFZeroAndThreeUpdatesBreaksTheTieByLowerIndex() throws IOException {
        // x1 and x2 are the closest pair: both score 1, and x1 (the lower index) must win.
        Map<String, OutTensor> output = aggregate("krum", points(new double[][] {{0, 0}, {10, 1}, {11, 1}}), "--f", "0");

        assertLayout(output, F32, "a", shape(1), "z", shape());
        assertClose(output, "a", 10);
        assertClose(output, "z", 1);
    }

    @Test
    void krumTieGoesToTheLowerIndexWhateverTheValues() throws IOException {
        // The same points with the closest pair swapped: now (11, 1) holds the lower index.
        Map<String, OutTensor> output = aggregate("krum", points(new double[][] {{0, 0}, {11, 1}, {10, 1}}), "--f", "0");

        assertClose(output, "a", 11);
        assertClose(output, "z", 1);
    }

    @Test
    void multikrumAveragesTheMLowestScores() throws IOException {
        // f = 1: each score sums the n-f-2 = 2 smallest squared distances on a line (z is constant):
        // x0=0: 1+9=10, x1=1: 1+4=5, x2=3: 4+9=13, x3=7: 16+36=52, x4=20: 169+289=458.
        Map<String, OutTensor> output = aggregate("multikrum",
                points(new double[][] {{0, 5}, {1, 5}, {3, 5}, {7, 5}, {20, 5}}), "--f", "1", "--m", "2");

        assertLayout(output, F32, "a", shape(1), "z", shape());
        assertClose(output, "a", 0.5);
        assertClose(output, "z", 5);
    }

    @Test
    void multikrumWithMEqualToNIsTheMean() throws IOException {
        Map<String, OutTensor> output = aggregate("multikrum",
                points(new double[][] {{0, 5}, {1, 5}, {3, 5}, {7, 5}, {20, 5}}), "--f", "1", "--m", "5");

        assertClose(output, "a", 31.0 / 5);
    }

    @Test
    void bulyanWithFZeroAndThreeUpdatesIsTheMean() throws IOException {
        // theta = n - 2f = 3 selected, beta = theta - 2f = 3 averaged per coordinate: all of them.
        Map<String, OutTensor> output = aggregate("bulyan", points(new double[][] {{1, 2}, {4, -2}, {7, 6}}), "--f", "0");

        assertLayout(output, F32, "a", shape(1), "z", shape());
        assertClose(output, "a", 4);
        assertClose(output, "z", 2);
    }

    private List<Path> parabola() throws IOException {
        double[][] coordinates = new double[7][];
        for (int i = 0; i < 7; i++) {
            coordinates[i] = new double[] {i, i * i};
        }
        return points(coordinates);
    }

    @Test
    void bulyanWithFOneRecomputesScoresOnTheShrinkingSet() throws IOException {
        // x_i = (i, i^2), f = 1, theta = 5, beta = 3. Krum on the remaining set, neighbours
        // max(0, r-f-2): r=7 (4): x2 wins with 204; r=6 (3): x3 with 208; r=5 (2): x5 with 204;
        // r=4 (1): x0 and x1 tie at 2, x0 wins; r=3 (0): all 0, x1 (lowest index) wins.
        // Selection {2, 3, 5, 0, 1}: a = 2,3,5,0,1 (median 2, closest three 2,1,3: mean 2);
        // z = 4,9,25,0,1 (median 4, closest three 4,1,0: mean 5/3).
        Result result = run(command("bulyan", out, parabola(), "--f", "1"));
        Map<String, OutTensor> output = assertSucceeded(result, out, "bulyan");

        assertLayout(output, F32, "a", shape(1), "z", shape());
        assertClose(output, "a", 2);
        assertClose(output, "z", 5.0 / 3);
        assertTrue(result.outLines().get(0).contains("selected [2, 3, 5, 0, 1]"), result::toString);
    }

    @Test
    void krumWithFOneOnSevenUpdates() throws IOException {
        // Scores (4 neighbours): x2 204, x3 234, x1 314, x0 384, x4 514, x5 914, x6 2304.
        Map<String, OutTensor> output = aggregate("krum", parabola(), "--f", "1");
        assertClose(output, "a", 2);
        assertClose(output, "z", 4);

        Files.delete(out);
        output = aggregate("multikrum", parabola(), "--f", "1", "--m", "3");
        assertClose(output, "a", 2);
        assertClose(output, "z", 14.0 / 3);
    }

    // ---------------------------------------------------------------- iterative rules

    private List<Path> obtuseTriangle() throws IOException {
        // The angle at (5, 5) is about 174 degrees (> 120), so the geometric median is that vertex.
        return points(new double[][] {{15, 5}, {5, 5}, {-5, 6}});
    }

    @Test
    void geomedianWithDefaultsFindsTheObtuseVertex() throws IOException {
        Map<String, OutTensor> output = aggregate("geomedian", obtuseTriangle());

        assertLayout(output, F32, "a", shape(1), "z", shape());
        assertRelativeL2(output, Map.of("a", new double[] {5}, "z", new double[] {5}));
    }

    @Test
    void geomedianReadsRealParametersInEveryForm() throws IOException {
        Map<String, OutTensor> output = aggregate("geomedian", obtuseTriangle(),
                "--maxiter", "1000", "--eps", "1e-08", "--tol", "0.0000001");

        assertRelativeL2(output, Map.of("a", new double[] {5}, "z", new double[] {5}));
    }

    @Test
    void geomedianWithMaxiterZeroIsTheMean() throws IOException {
        Map<String, OutTensor> output = aggregate("geomedian", obtuseTriangle(), "--maxiter", "0");

        assertRelativeL2(output, Map.of("a", new double[] {5}, "z", new double[] {16.0 / 3}));
    }

    private List<Path> clipPoints() throws IOException {
        // "a" varies along a line, "z" is the same everywhere, so every distance is |a_i - v_a|.
        return points(new double[][] {{0, 3}, {1, 3}, {11, 3}});
    }

    @Test
    void centeredClipAroundTheMean() throws IOException {
        // v = 4; diffs -4 -3 7 clip to -2 -2 2: v = 10/3; diffs clip to -2 -2 2: v = 8/3;
        // diffs -8/3 -5/3 25/3 clip to -2 -5/3 2: v = 8/3 - 5/9 = 19/9.
        Map<String, OutTensor> output = aggregate("centered_clip", clipPoints(), "--tau", "2");

        assertLayout(output, F32, "a", shape(1), "z", shape());
        assertRelativeL2(output, Map.of("a", new double[] {19.0 / 9}, "z", new double[] {3}));
    }

    @Test
    void centeredClipWithOneIteration() throws IOException {
        Map<String, OutTensor> output = aggregate("centered_clip", clipPoints(), "--tau", "2.0", "--iters", "1");

        assertRelativeL2(output, Map.of("a", new double[] {10.0 / 3}, "z", new double[] {3}));
    }

    @Test
    void centeredClipAroundACenterFile() throws IOException {
        // The center file: same names and shapes, other key order and dtypes.
        Path center = write(in.resolve("center.safetensors"), t("z", BF16, shape(), 3), t("a", F16, shape(1), 5));
        // v = 5; three times, every diff clips to -2 -2 2: v = 13/3, 11/3, 3.
        Map<String, OutTensor> output = aggregate("centered_clip", clipPoints(), "--tau", "2", "--center", center.toString());

        assertLayout(output, F32, "a", shape(1), "z", shape());
        assertRelativeL2(output, Map.of("a", new double[] {3}, "z", new double[] {3}));

        Files.delete(out);
        output = aggregate("centered_clip", clipPoints(), "--tau", "2", "--iters", "1", "--center", center.toString());
        assertRelativeL2(output, Map.of("a", new double[] {13.0 / 3}, "z", new double[] {3}));
    }

    @Test
    void centeredClipWithALargeTauIsTheMean() throws IOException {
        Map<String, OutTensor> output = aggregate("centered_clip", clipPoints(), "--tau", "1e6");

        assertRelativeL2(output, Map.of("a", new double[] {4}, "z", new double[] {3}));
    }

    @Test
    void normClipMeanClipsTheWholeUpdateNotEachTensor() throws IOException {
        // ||(3,4)|| = 5 stays, ||(30,40)|| = 50 scales by 10/50 to (6,8), the zero update stays:
        // mean (3, 4). Clipping per tensor would give (10+3)/3 and (10+4)/3 instead.
        List<Path> inputs = points(new double[][] {{3, 4}, {30, 40}, {0, 0}});
        Map<String, OutTensor> output = aggregate("norm_clip_mean", inputs, "--c", "10");

        assertLayout(output, F32, "a", shape(1), "z", shape());
        assertClose(output, "a", 3);
        assertClose(output, "z", 4);
    }

    @Test
    void normClipMeanWithAFractionalBound() throws IOException {
        // c = 0.5: (3,4) scales to (0.3,0.4), (30,40) to (0.3,0.4), zero stays: mean (0.2, 0.8/3).
        List<Path> inputs = points(new double[][] {{3, 4}, {30, 40}, {0, 0}});
        Map<String, OutTensor> output = aggregate("norm_clip_mean", inputs, "--c", "0.5");

        assertClose(output, "a", 0.2);
        assertClose(output, "z", 0.8 / 3);
    }

    // ---------------------------------------------------------------- output dtypes and OUT

    private List<Path> halfPrecisionInputs() throws IOException {
        return List.of(
                write(input("u0"), t("w", shape(2, 2), 1, 1.5f, -2, 1e-3f), t("s", shape(), 100)),
                write(input("u1"), t("w", shape(2, 2), 1.2f, 2.25f, -4, 3e-3f), t("s", shape(), 300)));
    }

    private static float[] meanOfHalfInputs() {
        float[] a = {1, 1.5f, -2, 1e-3f};
        float[] b = {1.2f, 2.25f, -4, 3e-3f};
        float[] mean = new float[4];
        for (int i = 0; i < 4; i++) {
            mean[i] = (float) (((double) a[i] + b[i]) / 2);
        }
        return mean;
    }

    @Test
    void outDtypeF16() throws IOException {
        Map<String, OutTensor> output = aggregate("fedavg", halfPrecisionInputs(), "--out-dtype", "f16");

        assertLayout(output, F16, "w", shape(2, 2), "s", shape());
        float[] mean = meanOfHalfInputs();
        for (int i = 0; i < mean.length; i++) {
            float expected = ElementType.f16ToFloat(ElementType.floatToF16(mean[i]));
            assertEquals(expected, output.get("w").values()[i], "w[" + i + "] as F16");
        }
        assertEquals(200f, output.get("s").values()[0]);
    }

    @Test
    void outDtypeBf16() throws IOException {
        Map<String, OutTensor> output = aggregate("fedavg", halfPrecisionInputs(), "--out-dtype", "bf16");

        assertLayout(output, BF16, "w", shape(2, 2), "s", shape());
        float[] mean = meanOfHalfInputs();
        for (int i = 0; i < mean.length; i++) {
            float expected = ElementType.bf16ToFloat(ElementType.floatToBf16(mean[i]));
            assertEquals(expected, output.get("w").values()[i], "w[" + i + "] as BF16");
        }
        assertEquals(200f, output.get("s").values()[0]);
    }

    @Test
    void outDtypeF32IsTheDefaultAndCanBeNamed() throws IOException {
        Map<String, OutTensor> output = aggregate("fedavg", halfPrecisionInputs(), "--out-dtype", "f32");

        assertLayout(output, F32, "w", shape(2, 2), "s", shape());
        float[] mean = meanOfHalfInputs();
        double[] expected = new double[mean.length];
        for (int i = 0; i < mean.length; i++) {
            expected[i] = mean[i];
        }
        assertClose(output, "w", expected);
    }

    @Test
    void anExistingOutIsReplacedBySuccess() throws IOException {
        Files.writeString(out, "an older model");

        Map<String, OutTensor> output = aggregate("fedavg", halfPrecisionInputs());

        assertClose(output, "s", 200);
    }

    @Test
    void theSummaryLineNamesRuleCountsAndSelection() throws IOException {
        Result result = run(command("krum", out, points(new double[][] {{0, 0}, {10, 1}, {11, 1}}), "--f", "0"));

        assertSucceeded(result, out, "krum");
        String line = result.outLines().get(0);
        assertTrue(line.startsWith("krum of 3 updates (2 tensors, 2 coordinates) on cpu"), line);
        assertTrue(line.contains("selected [1]"), line);
    }

    @Test
    void theDefaultBackendWorksHere() throws IOException {
        List<String> args = new ArrayList<>(command("median", out, rows(3)));
        int backend = args.indexOf("--backend");
        args.remove(backend + 1);
        args.remove(backend);

        Map<String, OutTensor> output = assertSucceeded(run(args), out, "median");

        assertClose(output, "v", 2, 5, -1);
    }
}
