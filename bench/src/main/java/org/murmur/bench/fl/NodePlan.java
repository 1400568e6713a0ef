package org.murmur.bench.fl;

import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Who is malicious among {@code nodes} simulated nodes, and how each behaves in either role: a
 * seeded draw of {@code round(fraction * nodes)} malicious nodes, which propose with the attack and
 * vote with the lying behaviour; all others are honest in both roles. Colluding attackers share
 * the attack object, hence its ring. Immutable.
 */
public final class NodePlan {
    private final boolean[] malicious;
    private final ProposerBehaviour attack;
    private final VoterBehaviour lyingVoter;

    private NodePlan(boolean[] malicious, ProposerBehaviour attack, VoterBehaviour lyingVoter) {
        this.malicious = malicious;
        this.attack = attack;
        this.lyingVoter = lyingVoter;
    }

    /**
     * @param maliciousFraction in [0, 1]
     * @param attack            what malicious proposers do ({@link ProposerBehaviour#HONEST} for voter-only attacks)
     * @param lyingVoter        how malicious voters vote ({@link VoterBehaviour#HONEST} for proposer-only attacks)
     */
    public static NodePlan mixed(int nodes, double maliciousFraction, ProposerBehaviour attack,
                                 VoterBehaviour lyingVoter, long seed) {
        Objects.requireNonNull(attack, "attack");
        Objects.requireNonNull(lyingVoter, "lyingVoter");
        if (nodes < 1) {
            throw new IllegalArgumentException("nodes must be at least 1, was " + nodes);
        }
        if (!(maliciousFraction >= 0 && maliciousFraction <= 1)) {
            throw new IllegalArgumentException("maliciousFraction must be in [0, 1], was " + maliciousFraction);
        }
        int count = (int) Math.round(maliciousFraction * nodes);
        int[] order = Partitioner.shuffled(Partitioner.identity(nodes), new SplittableRandom(seed));
        boolean[] malicious = new boolean[nodes];
        for (int i = 0; i < count; i++) {
            malicious[order[i]] = true;
        }
        return new NodePlan(malicious, attack, lyingVoter);
    }

    public int nodes() {
        return malicious.length;
    }

    public boolean isMalicious(int node) {
        return malicious[Objects.checkIndex(node, malicious.length)];
    }

    /** The malicious nodes' indices, ascending. */
    public int[] maliciousNodes() {
        return IntStream.range(0, malicious.length).filter(i -> malicious[i]).toArray();
    }

    public ProposerBehaviour proposer(int node) {
        return isMalicious(node) ? attack : ProposerBehaviour.HONEST;
    }

    public VoterBehaviour voter(int node) {
        return isMalicious(node) ? lyingVoter : VoterBehaviour.HONEST;
    }

    @Override
    public String toString() {
        return "NodePlan[nodes=" + nodes() + ", malicious=" + Arrays.toString(maliciousNodes()) + ", attack=" + attack
                + ", lyingVoter=" + lyingVoter + "]";
    }
}
