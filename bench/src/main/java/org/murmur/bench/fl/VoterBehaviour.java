package org.murmur.bench.fl;

/**
 * How a voter scores a candidate. The honest rule is the spec's: +1 when the candidate's accuracy
 * on the voter's test split is at least the reference (the previous global model's accuracy on
 * the same split, or the task's baseline metric in round 0), else -1. An inverted voter gives
 * the opposite score, while reporting the metric it truly measured.
 */
public enum VoterBehaviour {
    HONEST(1),
    INVERTED(-1);

    private final int sign;

    VoterBehaviour(int sign) {
        this.sign = sign;
    }

    /** The score for a candidate metric against the reference metric (higher is better). */
    public int score(double candidateMetric, double referenceMetric) {
        return sign * (candidateMetric >= referenceMetric ? 1 : -1);
    }

    /** Evaluates {@code candidate} on {@code test} and scores it against {@code referenceAccuracy}. */
    public Vote vote(Mlp candidate, double referenceAccuracy, Dataset test) {
        double metric = candidate.evaluate(test).accuracy();
        return new Vote(score(metric, referenceAccuracy), metric);
    }
}
