package org.murmur.bench.fl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

class NodePlanTest {
    private static final ProposerBehaviour FLIP = new ProposerBehaviour.LabelFlip();

    @Test
    void drawsTheMaliciousShareOfNodes() {
        for (double eta : new double[] {0, 0.1, 0.2, 0.3, 0.4, 1}) {
            NodePlan plan = NodePlan.mixed(50, eta, FLIP, VoterBehaviour.INVERTED, 6);
            assertEquals(Math.round(50 * eta), plan.maliciousNodes().length, "eta " + eta);
            for (int node = 0; node < 50; node++) {
                boolean malicious = plan.isMalicious(node);
                assertEquals(malicious, Arrays.binarySearch(plan.maliciousNodes(), node) >= 0);
                assertSame(malicious ? FLIP : ProposerBehaviour.HONEST, plan.proposer(node));
                assertSame(malicious ? VoterBehaviour.INVERTED : VoterBehaviour.HONEST, plan.voter(node));
            }
        }
    }

    @Test
    void theDrawIsSeeded() {
        int[] drawn = NodePlan.mixed(50, 0.2, FLIP, VoterBehaviour.INVERTED, 6).maliciousNodes();
        assertArrayEquals(drawn, NodePlan.mixed(50, 0.2, FLIP, VoterBehaviour.HONEST, 6).maliciousNodes());
        assertFalse(Arrays.equals(drawn, NodePlan.mixed(50, 0.2, FLIP, VoterBehaviour.INVERTED, 7).maliciousNodes()));
    }

    @Test
    void refusesBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> NodePlan.mixed(0, 0.1, FLIP, VoterBehaviour.INVERTED, 1));
        assertThrows(IllegalArgumentException.class, () -> NodePlan.mixed(10, 1.1, FLIP, VoterBehaviour.INVERTED, 1));
        assertThrows(IllegalArgumentException.class, () -> NodePlan.mixed(10, Double.NaN, FLIP, VoterBehaviour.INVERTED, 1));
        assertThrows(IndexOutOfBoundsException.class,
                () -> NodePlan.mixed(10, 0.1, FLIP, VoterBehaviour.INVERTED, 1).proposer(10));
    }
}
