package org.murmur.bench.fl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class GammaTest {

    @Test
    void gammaDrawsHaveTheRightMeanAndVariance() {
        for (double shape : new double[] {0.1, 0.5, 1, 2.5, 10}) {
            SplittableRandom random = new SplittableRandom(11);
            int n = 200_000;
            double sum = 0;
            double squares = 0;
            for (int i = 0; i < n; i++) {
                double x = Gamma.sample(shape, random);
                assertTrue(x >= 0);
                sum += x;
                squares += x * x;
            }
            double mean = sum / n;
            double variance = squares / n - mean * mean;
            // Gamma(shape, 1) has mean and variance both equal to shape.
            assertEquals(shape, mean, 0.02 * Math.max(1, shape), "mean for shape " + shape);
            assertEquals(shape, variance, 0.05 * Math.max(1, shape), "variance for shape " + shape);
        }
    }

    @Test
    void dirichletDrawsSumToOne() {
        SplittableRandom random = new SplittableRandom(3);
        for (double alpha : new double[] {0.001, 0.1, 1, 50}) {
            double[] p = Gamma.dirichlet(alpha, 50, random);
            double sum = 0;
            for (double share : p) {
                assertTrue(share >= 0);
                sum += share;
            }
            assertEquals(1, sum, 1e-9, "alpha " + alpha);
        }
    }
}
