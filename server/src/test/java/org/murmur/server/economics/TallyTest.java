package org.murmur.server.economics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.murmur.proto.v1.RoundResult;

/**
 * fl-alliance.md step 7: V = sum of w_v * s_v over revealed votes, w_v the snapshotted stake (or 1);
 * accepted iff V >= 0 and at least min_votes revealed; fewer revealed votes make the round void.
 */
class TallyTest {
    private static final List<String> VOTERS = List.of("v1", "v2", "v3", "v4");
    private static final Map<String, BigInteger> SNAPSHOT = Map.of("v1", big(100), "v2", big(30), "v3", big(50),
            "v4", big(7), "p1", big(1000));

    @Test
    void stakeWeightedVotesAreSummedByStake() {
        Tally t = Tally.of(VOTERS, Map.of("v1", -1, "v2", 1, "v3", 1, "v4", 1), SNAPSHOT, true, 1);
        assertEquals(big(-100 + 30 + 50 + 7), t.value());
        assertEquals(RoundResult.ROUND_RESULT_REJECTED, t.result(), "one heavy voter outweighs three light ones");
        assertEquals(4, t.revealed());
    }

    @Test
    void countedVotesWeighEveryVoterOne() {
        Tally t = Tally.of(VOTERS, Map.of("v1", -1, "v2", 1, "v3", 1, "v4", 1), SNAPSHOT, false, 1);
        assertEquals(big(2), t.value());
        assertEquals(RoundResult.ROUND_RESULT_ACCEPTED, t.result());
    }

    @Test
    void aTieIsAccepted() {
        // V = 0 is "non-negative": accepted, weighted and counted.
        Tally weighted = Tally.of(VOTERS, Map.of("v2", 1, "v3", -1, "v4", -1), Map.of("v2", big(57), "v3", big(50),
                "v4", big(7)), true, 1);
        assertEquals(BigInteger.ZERO, weighted.value());
        assertEquals(RoundResult.ROUND_RESULT_ACCEPTED, weighted.result());
        Tally counted = Tally.of(VOTERS, Map.of("v1", 1, "v2", -1), SNAPSHOT, false, 1);
        assertEquals(BigInteger.ZERO, counted.value());
        assertEquals(RoundResult.ROUND_RESULT_ACCEPTED, counted.result());
    }

    @Test
    void onlyRevealedVotesCount() {
        Tally t = Tally.of(VOTERS, Map.of("v3", -1), SNAPSHOT, true, 1);
        assertEquals(big(-50), t.value());
        assertEquals(1, t.revealed());
        assertEquals(RoundResult.ROUND_RESULT_REJECTED, t.result());
    }

    @Test
    void votesOfNodesThatAreNotVotersAreIgnored() {
        Tally t = Tally.of(VOTERS, Map.of("v4", 1, "p1", -1), SNAPSHOT, true, 1);
        assertEquals(big(7), t.value());
        assertEquals(1, t.revealed());
        assertEquals(RoundResult.ROUND_RESULT_ACCEPTED, t.result());
    }

    @Test
    void belowTheQuorumTheRoundIsVoidWhateverTheVotesSay() {
        Tally t = Tally.of(VOTERS, Map.of("v1", 1, "v2", 1), SNAPSHOT, true, 3);
        assertEquals(RoundResult.ROUND_RESULT_VOID, t.result());
        assertEquals(2, t.revealed());
        assertEquals(big(130), t.value());
        assertEquals(RoundResult.ROUND_RESULT_VOID, Tally.of(VOTERS, Map.of(), SNAPSHOT, true, 1).result(),
                "no vote at all misses the default quorum of 1");
        assertEquals(RoundResult.ROUND_RESULT_VOID, Tally.of(List.of(), Map.of(), SNAPSHOT, true, 1).result(),
                "no voters at all");
        Tally exactly = Tally.of(VOTERS, Map.of("v1", -1, "v2", 1, "v3", 1), SNAPSHOT, true, 3);
        assertEquals(RoundResult.ROUND_RESULT_REJECTED, exactly.result(), "exactly min_votes is a quorum");
    }

    private static BigInteger big(long v) {
        return BigInteger.valueOf(v);
    }
}
