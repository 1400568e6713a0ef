package org.murmur.kernels.testing;

import org.murmur.kernels.api.RuleSpec;

/**
 * Random updates in the shape federated rounds have: honest updates scattered around a common
 * point, each with its own spread, and a few outliers far away, at random indices. {@link
 * #tieFree} draws until the rule's choices are clear after rounding to the batch's element types
 * (see {@link ReferenceRules#nearTie}); Bulyan's per-coordinate ties are repaired by redrawing only
 * the tied coordinates.
 */
public final class RandomUpdates {
    private static final int ATTEMPTS = 400;

    private final SeededRandom random;
    private final int n;
    private final int d;
    private final double[] center;
    private final double[] spread;
    private final boolean[] outlier;
    private final double[][] values;

    private RandomUpdates(SeededRandom random, int n, int d, int outliers) {
        this.random = random;
        this.n = n;
        this.d = d;
        this.center = new double[d];
        this.spread = new double[n];
        this.outlier = new boolean[n];
        this.values = new double[n][d];
        for (int placed = 0; placed < Math.min(outliers, n); ) {
            int i = random.nextInt(n);
            if (!outlier[i]) {
                outlier[i] = true;
                placed++;
            }
        }
        for (int i = 0; i < n; i++) {
            spread[i] = random.uniform(0.3, 1.5);
        }
        for (int j = 0; j < d; j++) {
            drawColumn(j);
        }
    }

    /** n updates of d coordinates, {@code outliers} of them far from the rest. */
    public static double[][] draw(SeededRandom random, int n, int d, int outliers) {
        return new RandomUpdates(random, n, d, outliers).values;
    }

    /**
     * n updates of d coordinates, rounded to what {@code layout} and {@code dtypes} hold, on which
     * {@code rule} has no near tie. The returned values are exactly representable.
     */
    public static double[][] tieFree(SeededRandom random, RuleSpec rule, int n, Batches.Layout layout,
                                     Batches.Dtypes dtypes, int outliers) {
        int d = layout.dimension();
        RandomUpdates draw = new RandomUpdates(random, n, d, outliers);
        String why = null;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double[][] exact = Batches.representable(draw.values, layout, dtypes);
            if (rule instanceof RuleSpec.Bulyan b) {
                why = ReferenceRules.bulyanStepNearTie(exact, b.f());
                if (why == null) {
                    int[] tied = ReferenceRules.bulyanTiedCoordinates(exact, b.f());
                    if (tied.length == 0) {
                        return exact;
                    }
                    why = "bulyan: coordinate " + tied[0] + " ties at the beta cut";
                    if (tied.length < d) {
                        for (int j : tied) {
                            draw.drawColumn(j);
                        }
                        continue;
                    }
                }
            } else {
                why = ReferenceRules.nearTie(rule, exact);
                if (why == null) {
                    return exact;
                }
            }
            draw = new RandomUpdates(random, n, d, outliers);
        }
        throw new IllegalStateException("no tie-free input for " + rule + " with n = " + n + ", d = " + d
                + " after " + ATTEMPTS + " draws; last: " + why + " " + random.where());
    }

    private void drawColumn(int j) {
        center[j] = 2 * random.gaussian();
        for (int i = 0; i < n; i++) {
            values[i][j] = outlier[i]
                    ? center[j] + 8 + 4 * random.gaussian()
                    : center[j] + spread[i] * random.gaussian();
        }
    }
}
