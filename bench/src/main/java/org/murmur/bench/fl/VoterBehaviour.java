package org.murmur.bench.fl;

/**
 * How a voter scores a candidate. The honest rule is the spec's: +1 when the candidate's accuracy
 * on the voter's test split is at least the reference (the previous global model's accuracy on
 * the same split, or the task's baseline metric in round 0), else -1. An inverted voter gives
 * the opposite score; a rubber stamp accepts every candidate, which is plain FedAvg without the
 * voting mechanism. Each reports the metric it truly measured.
 */
public enum VoterBehaviour {
    HONEST {
        @Override
        public int score(double candidateMetric, double referenceMetric) {
            return candidateMetric >= referenceMetric ? 1 : -1;
        }
    },
    INVERTED {
        @Override
        public int score(double candidateMetric, double referenceMetric) {
            return -HONEST.score(candidateMetric, referenceMetric);
        }
    },
    RUBBER_STAMP {
        @Override
        public int score(double candidateMetric, double referenceMetric) {
            return 1;
        }
    };

    /** The score for a candidate metric against the reference metric (higher is better). */
    public abstract int score(double candidateMetric, double referenceMetric);

    /** Evaluates {@code candidate} on {@code test} and scores it against {@code referenceAccuracy}. */
    public Vote vote(Mlp candidate, double referenceAccuracy, Dataset test) {
        double metric = candidate.evaluate(test).accuracy();
        return new Vote(score(metric, referenceAccuracy), metric);
    }
}
