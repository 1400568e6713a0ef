package org.murmur.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.testing.Batches;
import org.murmur.kernels.testing.Batches.Built;
import org.murmur.kernels.testing.Batches.Dtypes;
import org.murmur.kernels.testing.Batches.Layout;
import org.murmur.kernels.testing.RandomUpdates;
import org.murmur.kernels.testing.ReferenceRules;
import org.murmur.kernels.testing.SeededRandom;
import org.murmur.kernels.testing.Tolerances;

/**
 * Identities between the rules that follow from their definitions, each checked on seeded random
 * batches (the trial number picks n, d and the element types): trimmed_mean(0), multikrum(f, n),
 * bulyan(0), and the rules with nothing to clip are the mean; krum is multikrum(f, 1); the
 * largest trim of an odd count is the median; the median ignores the order of the updates.
 */
public abstract class RuleIdentityContract extends AggregationContract {

    private record Trial(SeededRandom random, Built built, int n, String where) {
    }

    private Trial trial(String property, int trial, RuleSpec tieCheck, int minimumN) {
        SeededRandom random = SeededRandom.forCase(property + " trial " + trial);
        int n = minimumN + random.nextInt(12) + (trial == 3 ? 25 : 0);
        int d = new int[] {1, 33, 257, 1003}[trial % 4];
        Dtypes types = trial % 2 == 0 ? Dtypes.all(ElementType.F32) : Dtypes.mixed();
        Layout layout = Layout.multi(d, random);
        RuleSpec rule = tieCheck == null ? new RuleSpec.Median() : tieCheck;
        double[][] x = RandomUpdates.tieFree(random, rule, n, layout, types, n / 5);
        Built built = Batches.builder(x, layout).dtypes(types).chunkElements(trial == 2 ? 6 : 0).build();
        return new Trial(random, built, n, "n=" + n + " d=" + d + " " + random.where());
    }

    private void assertIsTheMean(RuleSpec rule, Trial t) {
        double[] mean = ReferenceRules.mean(t.built().values());
        Tolerances.assertMatches(rule, "== mean " + t.where(), mean, run(rule, t.built().batch()).out());
    }

    @ParameterizedTest(name = "trial {0}")
    @ValueSource(ints = {0, 1, 2, 3})
    void trimmedMeanOfKZeroIsTheMean(int trial) {
        Trial t = trial("trimmed_mean(0)", trial, null, 1);
        assertIsTheMean(new RuleSpec.TrimmedMean(0), t);
        float[] fedavg = run(new RuleSpec.FedAvg(null), t.built().batch()).out();
        Tolerances.assertClose(new RuleSpec.TrimmedMean(0), "vs fedavg " + t.where(), fedavg,
                run(new RuleSpec.TrimmedMean(0), t.built().batch()).out());
    }

    @ParameterizedTest(name = "trial {0}")
    @ValueSource(ints = {0, 1, 2, 3})
    void multikrumOfMEqualsNIsTheMean(int trial) {
        SeededRandom pick = SeededRandom.forCase("multikrum(f, n) f trial " + trial);
        int f = pick.nextInt(3);
        Trial t = trial("multikrum(f, n)", trial, null, 2 * f + 3);
        RuleSpec rule = new RuleSpec.MultiKrum(f, t.n());
        assertIsTheMean(rule, t);
        int[] selected = run(rule, t.built().batch()).report().selected();
        Arrays.sort(selected);
        assertArrayEquals(IntStream.range(0, t.n()).toArray(), selected, () -> "multikrum(f, n) selects all " + t.where());
    }

    @ParameterizedTest(name = "trial {0}")
    @ValueSource(ints = {0, 1, 2, 3})
    void bulyanOfFZeroIsTheMean(int trial) {
        Trial t = trial("bulyan(0)", trial, new RuleSpec.Bulyan(0), 3);
        assertIsTheMean(new RuleSpec.Bulyan(0), t);
    }

    @ParameterizedTest(name = "trial {0}")
    @ValueSource(ints = {0, 1, 2, 3})
    void krumIsMultikrumOfOne(int trial) {
        SeededRandom pick = SeededRandom.forCase("krum == multikrum(f, 1) f trial " + trial);
        int f = pick.nextInt(3);
        Trial t = trial("krum == multikrum(f, 1)", trial, new RuleSpec.MultiKrum(f, 2), 2 * f + 3);
        Run krum = run(new RuleSpec.Krum(f), t.built().batch());
        Run multi = run(new RuleSpec.MultiKrum(f, 1), t.built().batch());
        assertArrayEquals(krum.report().selected(), multi.report().selected(), () -> "selection " + t.where());
        Tolerances.assertClose(new RuleSpec.Krum(f), "multikrum(f, 1) vs krum(f) " + t.where(), krum.out(), multi.out());
        float[] chosen = floats(t.built().values()[krum.report().selected()[0]]);
        Tolerances.assertBitIdentical("krum returns the chosen update itself " + t.where(), chosen, krum.out());
    }

    @ParameterizedTest(name = "trial {0}")
    @ValueSource(ints = {0, 1, 2, 3})
    void largestTrimOfAnOddCountIsTheMedian(int trial) {
        Trial t = trial("trimmed_mean((n-1)/2)", trial, null, 1);
        int n = t.n() % 2 == 1 ? t.n() : t.n() - 1;
        Built odd = Batches.builder(Arrays.copyOf(t.built().values(), n), t.built().layout()).build();
        float[] median = run(new RuleSpec.Median(), odd.batch()).out();
        float[] trimmed = run(new RuleSpec.TrimmedMean((n - 1) / 2), odd.batch()).out();
        Tolerances.assertBitIdentical("trimmed_mean((n-1)/2) vs median, n=" + n + " " + t.where(), median, trimmed);
    }

    @ParameterizedTest(name = "trial {0}")
    @ValueSource(ints = {0, 1, 2, 3})
    void medianOfTwoAndGeomedianOfTwoAreTheMean(int trial) {
        SeededRandom random = SeededRandom.forCase("n=2 trial " + trial);
        int d = new int[] {1, 33, 257, 1003}[trial];
        Layout layout = Layout.multi(d, random);
        Built built = Batches.builder(RandomUpdates.draw(random, 2, d, 0), layout).dtypes(Dtypes.mixed()).build();
        Trial t = new Trial(random, built, 2, "d=" + d + " " + random.where());
        assertIsTheMean(new RuleSpec.Median(), t);
        assertIsTheMean(new RuleSpec.GeoMedian(), t);
    }

    @ParameterizedTest(name = "trial {0}")
    @ValueSource(ints = {0, 1, 2, 3})
    void nothingToClipIsTheMean(int trial) {
        Trial t = trial("no clipping", trial, null, 1);
        double huge = 1e6 * Math.sqrt(t.built().layout().dimension());
        assertIsTheMean(new RuleSpec.CenteredClip(huge, 3, null), t);
        assertIsTheMean(new RuleSpec.NormClipMean(huge), t);
        double[] equal = new double[t.n()];
        Arrays.fill(equal, 2.5);
        assertIsTheMean(new RuleSpec.FedAvg(equal), t);
    }

    @ParameterizedTest(name = "trial {0}")
    @ValueSource(ints = {0, 1, 2, 3})
    void medianIgnoresTheOrderOfTheUpdates(int trial) {
        Trial t = trial("median permutation", trial, null, 2);
        double[][] values = t.built().values();
        double[][] shuffled = values.clone();
        for (int i = shuffled.length - 1; i > 0; i--) {
            int j = t.random().nextInt(i + 1);
            double[] tmp = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = tmp;
        }
        Built permuted = Batches.builder(shuffled, t.built().layout()).build();
        Tolerances.assertBitIdentical("median of permuted updates " + t.where(),
                run(new RuleSpec.Median(), t.built().batch()).out(), run(new RuleSpec.Median(), permuted.batch()).out());
    }
}
