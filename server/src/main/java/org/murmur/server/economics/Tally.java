package org.murmur.server.economics;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.murmur.proto.v1.RoundResult;

/**
 * The tally of a round (fl-alliance.md, step 7): V = sum of w_v * s_v over revealed votes, with
 * w_v the voter's snapshotted stake (or 1 when votes are counted). Accepted iff V >= 0 and at least
 * {@code min_votes} votes were revealed; fewer revealed votes make the round void. Immutable.
 *
 * @param result   ACCEPTED, REJECTED or VOID
 * @param value    V
 * @param revealed how many votes were revealed
 */
public record Tally(RoundResult result, BigInteger value, int revealed) {

    /**
     * Tallies {@code scores} (voter id to +1 or -1, revealed votes only) of {@code voters}.
     *
     * @param snapshot every joined node's stake at the draw
     */
    public static Tally of(List<String> voters, Map<String, Integer> scores, Map<String, BigInteger> snapshot,
                           boolean stakeWeighted, int minVotes) {
        BigInteger v = BigInteger.ZERO;
        int revealed = 0;
        for (String voter : voters) {
            Integer score = scores.get(voter);
            if (score == null) {
                continue;
            }
            revealed++;
            BigInteger weight = stakeWeighted ? snapshot.get(voter) : BigInteger.ONE;
            v = score > 0 ? v.add(weight) : v.subtract(weight);
        }
        if (revealed < minVotes) {
            return new Tally(RoundResult.ROUND_RESULT_VOID, v, revealed);
        }
        return new Tally(v.signum() >= 0 ? RoundResult.ROUND_RESULT_ACCEPTED : RoundResult.ROUND_RESULT_REJECTED,
                v, revealed);
    }
}
