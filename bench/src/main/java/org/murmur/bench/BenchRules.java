package org.murmur.bench;

import org.murmur.kernels.api.RuleSpec;

/**
 * The parameters each rule runs with in the benchmark, as functions of n and d. The NumPy peer
 * ({@code bench/peers/numpy_rules.py}, function {@code params}) uses the same formulas; the table
 * script compares both outputs, so a drift between the two shows up as a failed check.
 *
 * <ul>
 *   <li>fedavg: weights 1, 2, ..., n (sample counts);
 *   <li>trimmed_mean: k = n/10;
 *   <li>krum: f = n/10; multikrum: f = n/10, m = n - f;
 *   <li>bulyan: f = min((n-3)/4, n/10);
 *   <li>geomedian: maxiter 10, eps 1e-8, tol 0, so exactly 10 Weiszfeld steps;
 *   <li>centered_clip: tau = sqrt(d), iters 3, center the mean;
 *   <li>norm_clip_mean: c = sqrt(d), about the median norm of the standard normal updates.
 * </ul>
 */
public final class BenchRules {
    /** Every rule, in the order of the table. */
    public static final String[] NAMES = {
        "fedavg", "median", "trimmed_mean", "krum", "multikrum", "bulyan", "geomedian", "centered_clip", "norm_clip_mean",
    };

    public static final int GEOMEDIAN_ITERATIONS = 10;

    private BenchRules() {
    }

    public static RuleSpec spec(String rule, int n, long d) {
        int f = n / 10;
        double normScale = Math.sqrt((double) d);
        RuleSpec spec = switch (rule) {
            case "fedavg" -> {
                double[] weights = new double[n];
                for (int i = 0; i < n; i++) {
                    weights[i] = i + 1;
                }
                yield new RuleSpec.FedAvg(weights);
            }
            case "median" -> new RuleSpec.Median();
            case "trimmed_mean" -> new RuleSpec.TrimmedMean(n / 10);
            case "krum" -> new RuleSpec.Krum(f);
            case "multikrum" -> new RuleSpec.MultiKrum(f, n - f);
            case "bulyan" -> new RuleSpec.Bulyan(Math.min((n - 3) / 4, n / 10));
            case "geomedian" -> new RuleSpec.GeoMedian(GEOMEDIAN_ITERATIONS, RuleSpec.GeoMedian.DEFAULT_EPS, 0.0);
            case "centered_clip" -> new RuleSpec.CenteredClip(normScale, RuleSpec.CenteredClip.DEFAULT_ITERS, null);
            case "norm_clip_mean" -> new RuleSpec.NormClipMean(normScale);
            default -> throw new IllegalArgumentException("unknown rule " + rule);
        };
        spec.requireFits(n);
        return spec;
    }
}
