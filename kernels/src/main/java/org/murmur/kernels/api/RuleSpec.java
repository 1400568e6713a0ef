package org.murmur.kernels.api;

import java.util.Arrays;

/**
 * An aggregation rule with its parameters, exactly as spec/aggregation-rules.md defines them.
 * Constructing a spec checks the parameters that do not depend on the batch; {@link
 * #requireFits(int)} checks the requirements on n. Both throw {@link InvalidInputException} naming
 * the parameter.
 */
public sealed interface RuleSpec {

    /** The rule's name as the command line and the protocol spell it. */
    String name();

    /**
     * True when every output coordinate depends only on the same coordinate of the inputs, so a
     * result is bit-identical whatever the tile size and thread count.
     */
    boolean coordinateWise();

    /** Fails unless a batch of {@code n} updates meets this rule's requirements. */
    void requireFits(int n);

    /** {@code sum(w_i x_i) / sum(w_i)}; null weights mean all 1. */
    record FedAvg(double[] weights) implements RuleSpec {
        public FedAvg {
            if (weights != null) {
                weights = weights.clone();
                double sum = 0;
                for (int i = 0; i < weights.length; i++) {
                    if (!Double.isFinite(weights[i]) || weights[i] < 0) {
                        throw new InvalidInputException("--weights: weight " + (i + 1) + " is " + weights[i]
                                + "; weights must be finite and >= 0");
                    }
                    sum += weights[i];
                }
                if (!(sum > 0)) {
                    throw new InvalidInputException("--weights: the weights sum to " + sum + "; the sum must be positive");
                }
            }
        }

        @Override
        public String name() {
            return "fedavg";
        }

        @Override
        public boolean coordinateWise() {
            return true;
        }

        @Override
        public void requireFits(int n) {
            if (weights != null && weights.length != n) {
                throw new InvalidInputException("--weights: " + weights.length + " weights given for " + n + " updates");
            }
        }

        /** The weight of update i (1 when no weights were given). */
        public double weight(int i) {
            return weights == null ? 1.0 : weights[i];
        }

        @Override
        public double[] weights() {
            return weights == null ? null : weights.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FedAvg other && Arrays.equals(weights, other.weights);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(weights);
        }

        @Override
        public String toString() {
            return "FedAvg[weights=" + (weights == null ? "all 1" : Arrays.toString(weights)) + "]";
        }
    }

    /** The coordinate-wise median, mean of the two middle values for even n. */
    record Median() implements RuleSpec {
        @Override
        public String name() {
            return "median";
        }

        @Override
        public boolean coordinateWise() {
            return true;
        }

        @Override
        public void requireFits(int n) {
        }
    }

    /** Coordinate-wise mean after dropping the k largest and k smallest values; needs n > 2k. */
    record TrimmedMean(int k) implements RuleSpec {
        public TrimmedMean {
            requireAtLeast("--k", k, 0);
        }

        @Override
        public String name() {
            return "trimmed_mean";
        }

        @Override
        public boolean coordinateWise() {
            return true;
        }

        @Override
        public void requireFits(int n) {
            if (n <= 2L * k) {
                throw new InvalidInputException("trimmed_mean needs n > 2k: n = " + n + ", --k " + k);
            }
        }
    }

    /** The update with the lowest Krum score; needs n >= 2f+3. */
    record Krum(int f) implements RuleSpec {
        public Krum {
            requireAtLeast("--f", f, 0);
        }

        @Override
        public String name() {
            return "krum";
        }

        @Override
        public boolean coordinateWise() {
            return false;
        }

        @Override
        public void requireFits(int n) {
            requireKrumFits("krum", n, f);
        }
    }

    /** The mean of the m updates with the lowest Krum scores; needs n >= 2f+3 and 1 <= m <= n. */
    record MultiKrum(int f, int m) implements RuleSpec {
        public MultiKrum {
            requireAtLeast("--f", f, 0);
            requireAtLeast("--m", m, 1);
        }

        @Override
        public String name() {
            return "multikrum";
        }

        @Override
        public boolean coordinateWise() {
            return false;
        }

        @Override
        public void requireFits(int n) {
            requireKrumFits("multikrum", n, f);
            if (m > n) {
                throw new InvalidInputException("multikrum needs m <= n: n = " + n + ", --m " + m);
            }
        }
    }

    /** Krum selection of n-2f updates, then a trimmed mean around the median; needs n >= 4f+3. */
    record Bulyan(int f) implements RuleSpec {
        public Bulyan {
            requireAtLeast("--f", f, 0);
        }

        @Override
        public String name() {
            return "bulyan";
        }

        @Override
        public boolean coordinateWise() {
            return false;
        }

        @Override
        public void requireFits(int n) {
            if (n < 4L * f + 3) {
                throw new InvalidInputException("bulyan needs n >= 4f+3: n = " + n + ", --f " + f);
            }
        }
    }

    /** The Weiszfeld iteration from the mean. */
    record GeoMedian(int maxIter, double eps, double tol) implements RuleSpec {
        public static final int DEFAULT_MAX_ITER = 100;
        public static final double DEFAULT_EPS = 1e-8;
        public static final double DEFAULT_TOL = 1e-7;

        public GeoMedian {
            requireAtLeast("--maxiter", maxIter, 0);
            requirePositive("--eps", eps);
            requireFiniteAtLeastZero("--tol", tol);
        }

        public GeoMedian() {
            this(DEFAULT_MAX_ITER, DEFAULT_EPS, DEFAULT_TOL);
        }

        @Override
        public String name() {
            return "geomedian";
        }

        @Override
        public boolean coordinateWise() {
            return false;
        }

        @Override
        public void requireFits(int n) {
        }
    }

    /**
     * Centered clipping around {@code center} (the previous global model) or, when it is null, the
     * mean of the updates.
     */
    record CenteredClip(double tau, int iters, Update center) implements RuleSpec {
        public static final int DEFAULT_ITERS = 3;

        public CenteredClip {
            requirePositive("--tau", tau);
            requireAtLeast("--iters", iters, 0);
        }

        @Override
        public String name() {
            return "centered_clip";
        }

        @Override
        public boolean coordinateWise() {
            return false;
        }

        @Override
        public void requireFits(int n) {
        }
    }

    /** The mean of the updates, each scaled to an L2 norm of at most c. */
    record NormClipMean(double c) implements RuleSpec {
        public NormClipMean {
            requirePositive("--c", c);
        }

        @Override
        public String name() {
            return "norm_clip_mean";
        }

        @Override
        public boolean coordinateWise() {
            return false;
        }

        @Override
        public void requireFits(int n) {
        }
    }

    private static void requireKrumFits(String rule, int n, int f) {
        if (n < 2L * f + 3) {
            throw new InvalidInputException(rule + " needs n >= 2f+3: n = " + n + ", --f " + f);
        }
    }

    private static void requireAtLeast(String parameter, int value, int minimum) {
        if (value < minimum) {
            throw new InvalidInputException(parameter + " must be >= " + minimum + ", got " + value);
        }
    }

    private static void requirePositive(String parameter, double value) {
        if (!(value > 0) || !Double.isFinite(value)) {
            throw new InvalidInputException(parameter + " must be a finite number > 0, got " + value);
        }
    }

    private static void requireFiniteAtLeastZero(String parameter, double value) {
        if (!(value >= 0) || !Double.isFinite(value)) {
            throw new InvalidInputException(parameter + " must be a finite number >= 0, got " + value);
        }
    }
}
