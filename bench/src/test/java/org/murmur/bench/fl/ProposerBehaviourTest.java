package org.murmur.bench.fl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class ProposerBehaviourTest {
    private static final List<String> NAMES = List.of(Mlp.FC1_WEIGHT, Mlp.FC1_BIAS, Mlp.FC2_WEIGHT, Mlp.FC2_BIAS);
    private static final Dataset DATA = Synthetic.blobs(2_000, 40, 10, 5);
    private static final Shard SHARD = Shard.split(DATA, Partitioner.identity(DATA.size()), 0.8, 1);
    private static final Mlp GLOBAL = Mlp.init(40, 32, 10, 2);
    private static final Sgd SGD = new Sgd(0.05f, 32, 3);
    private static final Proposal PROPOSAL = new Proposal(0, GLOBAL, SHARD.train(), SGD, 77);

    @Test
    void honestProposersTrainOnTheirData() {
        Mlp sent = ProposerBehaviour.HONEST.propose(PROPOSAL);
        assertSameBits(SGD.train(GLOBAL, SHARD.train(), 77), sent);
        assertTrue(sent.evaluate(SHARD.test()).accuracy() > 0.9, "honest accuracy " + sent.evaluate(SHARD.test()));
    }

    @Test
    void labelFlippingWrecksAccuracy() {
        double honest = ProposerBehaviour.HONEST.propose(PROPOSAL).evaluate(SHARD.test()).accuracy();
        double flipped = new ProposerBehaviour.LabelFlip().propose(PROPOSAL).evaluate(SHARD.test()).accuracy();
        assertTrue(flipped < 0.1 && honest > 0.9, "honest " + honest + ", label-flipped " + flipped);
    }

    @Test
    void signFlippingSendsTheUpdateReversedAndScaled() {
        Mlp local = PROPOSAL.trainHonestly();
        for (float k : new float[] {1, 2.5f}) {
            Mlp sent = new ProposerBehaviour.SignFlip(k).propose(PROPOSAL);
            assertDelta(local, -k, sent);
        }
    }

    @Test
    void scalingSendsTheUpdateTimesTheFactor() {
        Mlp local = PROPOSAL.trainHonestly();
        for (float factor : new float[] {1, 10, -3}) {
            assertDelta(local, factor, new ProposerBehaviour.Scale(factor).propose(PROPOSAL));
        }
    }

    @Test
    void gaussianNoiseIsAddedToTheGlobalModelWithoutTraining() {
        Mlp sent = new ProposerBehaviour.GaussianNoise(0.1).propose(PROPOSAL);
        double sum = 0;
        double squares = 0;
        int count = 0;
        for (String name : NAMES) {
            float[] global = GLOBAL.tensor(name);
            float[] noisy = sent.tensor(name);
            for (int i = 0; i < global.length; i++) {
                double noise = noisy[i] - global[i];
                sum += noise;
                squares += noise * noise;
                count++;
            }
        }
        assertEquals(0, sum / count, 0.01);
        assertEquals(0.1, Math.sqrt(squares / count), 0.005);
        assertSameBits(sent, new ProposerBehaviour.GaussianNoise(0.1).propose(PROPOSAL));
        assertSameBits(GLOBAL, new ProposerBehaviour.GaussianNoise(0).propose(PROPOSAL));
    }

    @Test
    void colludersAllSendTheFirstColludersAttackEachRound() {
        ProposerBehaviour collude = new ProposerBehaviour.Collude(new ProposerBehaviour.SignFlip(1), new CollusionRing());
        Shard other = Shard.split(DATA, Partitioner.identity(DATA.size()), 0.5, 9);
        Proposal first = new Proposal(3, GLOBAL, SHARD.train(), SGD, 1);
        Proposal second = new Proposal(3, GLOBAL, other.train(), SGD, 2);

        Mlp sent = collude.propose(first);
        assertSame(sent, collude.propose(second));
        assertSameBits(new ProposerBehaviour.SignFlip(1).propose(first), sent);

        Mlp nextRound = collude.propose(new Proposal(4, GLOBAL, other.train(), SGD, 2));
        assertNotSame(sent, nextRound);
        assertSameBits(new ProposerBehaviour.SignFlip(1).propose(second), nextRound);
    }

    @Test
    void refusesNonFiniteParameters() {
        assertThrows(IllegalArgumentException.class, () -> new ProposerBehaviour.SignFlip(Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> new ProposerBehaviour.Scale(Float.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> new ProposerBehaviour.GaussianNoise(-1));
    }

    /** {@code sent - global} equals {@code step * (local - global)}, up to float rounding. */
    private static void assertDelta(Mlp local, float step, Mlp sent) {
        for (String name : NAMES) {
            float[] global = GLOBAL.tensor(name);
            float[] trained = local.tensor(name);
            float[] actual = sent.tensor(name);
            for (int i = 0; i < global.length; i++) {
                float expected = step * (trained[i] - global[i]);
                assertEquals(expected, actual[i] - global[i], 1e-6f + 1e-5f * Math.abs(expected), name + "[" + i + "]");
            }
        }
    }

    private static void assertSameBits(Mlp expected, Mlp actual) {
        for (String name : NAMES) {
            assertArrayEquals(expected.tensor(name), actual.tensor(name), name);
        }
    }
}
