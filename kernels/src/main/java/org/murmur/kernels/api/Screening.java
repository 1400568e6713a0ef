package org.murmur.kernels.api;

/**
 * How each update of a batch relates to a candidate (their aggregate): its L2 norm, its cosine
 * similarity to the candidate, and its L2 distance from it, all accumulated in float64. A poisoned
 * update typically stands out by a large norm or distance, or a low or negative cosine. The cosine
 * of a zero vector with anything is 0. Immutable.
 *
 * @param norms     ||x_i||, one per update in batch order
 * @param cosines   <x_i, c> / (||x_i|| ||c||), in [-1, 1]
 * @param distances ||x_i - c||
 */
public record Screening(double[] norms, double[] cosines, double[] distances) {
    public Screening {
        norms = norms.clone();
        cosines = cosines.clone();
        distances = distances.clone();
        if (cosines.length != norms.length || distances.length != norms.length) {
            throw new IllegalArgumentException("one norm, cosine and distance per update");
        }
    }

    /**
     * The screening of updates with squared norms {@code squaredNorms}, dot products {@code dots}
     * with a candidate of squared norm {@code candidateSquaredNorm}, and squared distances
     * {@code squaredDistances} from it.
     */
    public static Screening of(double[] squaredNorms, double[] dots, double candidateSquaredNorm,
                               double[] squaredDistances) {
        int n = squaredNorms.length;
        double[] norms = new double[n];
        double[] cosines = new double[n];
        double[] distances = new double[n];
        double candidateNorm = Math.sqrt(candidateSquaredNorm);
        for (int i = 0; i < n; i++) {
            norms[i] = Math.sqrt(squaredNorms[i]);
            distances[i] = Math.sqrt(squaredDistances[i]);
            double scale = norms[i] * candidateNorm;
            cosines[i] = scale == 0 ? 0 : Math.max(-1, Math.min(1, dots[i] / scale));
        }
        return new Screening(norms, cosines, distances);
    }

    @Override
    public double[] norms() {
        return norms.clone();
    }

    @Override
    public double[] cosines() {
        return cosines.clone();
    }

    @Override
    public double[] distances() {
        return distances.clone();
    }
}
