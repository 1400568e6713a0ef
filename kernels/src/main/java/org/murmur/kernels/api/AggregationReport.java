package org.murmur.kernels.api;

/**
 * What a rule decided besides the aggregate itself, for screening and the ledger: the indices of
 * the updates the Krum family selected (in selection order; empty for other rules), every update's
 * Krum score on the full set where one was computed, and the iterations an iterative rule ran.
 */
public record AggregationReport(int[] selected, double[] krumScores, int iterations) {
    public AggregationReport {
        selected = selected.clone();
        krumScores = krumScores.clone();
    }

    public static AggregationReport plain() {
        return new AggregationReport(new int[0], new double[0], 0);
    }

    @Override
    public int[] selected() {
        return selected.clone();
    }

    @Override
    public double[] krumScores() {
        return krumScores.clone();
    }
}
