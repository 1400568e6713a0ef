package org.murmur.bench.demo;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.murmur.proto.v1.RoundResult;

/**
 * How one round ended, as its ledger events tell it, with the models' accuracy on the 10,000 test
 * images. Immutable.
 *
 * @param result            accepted, rejected, void or failed
 * @param reason            why the round failed; empty otherwise
 * @param tally             V, the stake-weighted sum of the revealed votes, in token units
 * @param votesFor          revealed +1 votes
 * @param votesAgainst      revealed -1 votes
 * @param proposers         the round's proposers, as drawn
 * @param slashed           tokens slashed from each node in the round's settlement
 * @param removed           nodes removed from the task by that settlement
 * @param candidateAccuracy the candidate's test accuracy; NaN when the round had no candidate
 * @param globalAccuracy    the global model's test accuracy after the round
 */
record RoundOutcome(long round, RoundResult result, String reason, BigInteger tally, int votesFor, int votesAgainst,
                    List<String> proposers, Map<String, BigInteger> slashed, List<String> removed,
                    double candidateAccuracy, double globalAccuracy) {
    RoundOutcome {
        proposers = List.copyOf(proposers);
        slashed = Map.copyOf(slashed);
        removed = List.copyOf(removed);
    }

    /** This outcome with the models' test accuracy filled in. */
    RoundOutcome scored(double candidate, double global) {
        return new RoundOutcome(round, result, reason, tally, votesFor, votesAgainst, proposers, slashed, removed,
                candidate, global);
    }
}
