package org.murmur.bench.fl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class VoterBehaviourTest {

    @Test
    void honestVotersAcceptWhatIsAtLeastAsGoodAndInvertedOnesTheOpposite() {
        assertEquals(1, VoterBehaviour.HONEST.score(0.8, 0.7));
        assertEquals(1, VoterBehaviour.HONEST.score(0.7, 0.7));
        assertEquals(-1, VoterBehaviour.HONEST.score(0.69, 0.7));
        assertEquals(-1, VoterBehaviour.INVERTED.score(0.8, 0.7));
        assertEquals(-1, VoterBehaviour.INVERTED.score(0.7, 0.7));
        assertEquals(1, VoterBehaviour.INVERTED.score(0.69, 0.7));
    }

    @Test
    void aRubberStampAcceptsEverything() {
        assertEquals(1, VoterBehaviour.RUBBER_STAMP.score(0.8, 0.7));
        assertEquals(1, VoterBehaviour.RUBBER_STAMP.score(0.0, 0.7));
    }

    @Test
    void votesOnTheCandidatesAccuracyOnTheTestSplit() {
        Dataset data = Synthetic.blobs(1_000, 20, 10, 1);
        Shard shard = Shard.split(data, Partitioner.identity(data.size()), 0.8, 2);
        Mlp previous = Mlp.init(20, 16, 10, 3);
        Mlp candidate = new Sgd(0.05f, 16, 3).train(previous, shard.train(), 4);
        double previousAccuracy = previous.evaluate(shard.test()).accuracy();
        double candidateAccuracy = candidate.evaluate(shard.test()).accuracy();

        assertEquals(new Vote(1, candidateAccuracy), VoterBehaviour.HONEST.vote(candidate, previousAccuracy, shard.test()));
        assertEquals(new Vote(-1, candidateAccuracy), VoterBehaviour.INVERTED.vote(candidate, previousAccuracy, shard.test()));
        assertEquals(new Vote(-1, previousAccuracy), VoterBehaviour.HONEST.vote(previous, candidateAccuracy, shard.test()));
        assertEquals(new Vote(1, previousAccuracy), VoterBehaviour.INVERTED.vote(previous, candidateAccuracy, shard.test()));
    }

    @Test
    void scoresAreOnlyPlusOrMinusOne() {
        assertThrows(IllegalArgumentException.class, () -> new Vote(0, 0.5));
    }
}
