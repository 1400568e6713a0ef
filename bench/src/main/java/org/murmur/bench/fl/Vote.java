package org.murmur.bench.fl;

/**
 * A voter's verdict on a candidate, as it reveals it.
 *
 * @param score  +1 to accept, -1 to reject
 * @param metric the candidate's accuracy on the voter's test split
 */
public record Vote(int score, double metric) {
    public Vote {
        if (score != 1 && score != -1) {
            throw new IllegalArgumentException("score must be +1 or -1, was " + score);
        }
    }
}
