package org.murmur.bench.fl;

import java.util.SplittableRandom;

/** Gamma(shape, 1) and symmetric Dirichlet draws, reproducible from the generator's state. */
final class Gamma {
    private Gamma() {
    }

    /** Marsaglia and Tsang's method (2000), with the u^(1/shape) boost for shapes below 1. */
    static double sample(double shape, SplittableRandom random) {
        if (shape < 1) {
            double boost = Math.pow(random.nextDouble(), 1 / shape);
            return sample(shape + 1, random) * boost;
        }
        double d = shape - 1.0 / 3;
        double c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x = random.nextGaussian();
            double v = 1 + c * x;
            if (v <= 0) {
                continue;
            }
            v = v * v * v;
            double u = random.nextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
                return d * v;
            }
        }
    }

    /**
     * A draw from Dirichlet(alpha, ..., alpha) over {@code k} categories. When every gamma draw
     * underflows to 0 (alpha far below 1), all the mass goes to one category drawn uniformly,
     * which is the limit of the distribution.
     */
    static double[] dirichlet(double alpha, int k, SplittableRandom random) {
        double[] p = new double[k];
        double sum = 0;
        for (int i = 0; i < k; i++) {
            p[i] = sample(alpha, random);
            sum += p[i];
        }
        if (sum == 0) {
            p[random.nextInt(k)] = 1;
            return p;
        }
        for (int i = 0; i < k; i++) {
            p[i] /= sum;
        }
        return p;
    }
}
