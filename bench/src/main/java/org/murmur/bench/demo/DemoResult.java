package org.murmur.bench.demo;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.murmur.proto.v1.RoundResult;

/**
 * How a demo run ended: every round's outcome and the tokens of the malicious nodes (attackers
 * and liars) against the honest ones. Immutable.
 *
 * @param start           what the run set up
 * @param rounds          each round's outcome, in order
 * @param seconds         wall time of the whole run
 * @param malicious       malicious nodes
 * @param honest          honest nodes
 * @param slashedMalicious tokens slashed from malicious nodes, in token units
 * @param slashedHonest   tokens slashed from honest nodes
 * @param removedMalicious malicious nodes removed from the task
 * @param removedHonest   honest nodes removed from the task
 * @param depositedMalicious what the malicious nodes staked
 * @param withdrawnMalicious what they withdrew at the end, stake and rewards
 * @param depositedHonest what the honest nodes staked
 * @param withdrawnHonest what they withdrew at the end
 */
record DemoResult(DemoStart start, List<RoundOutcome> rounds, double seconds, long malicious, long honest,
                  BigInteger slashedMalicious, BigInteger slashedHonest, long removedMalicious, long removedHonest,
                  BigInteger depositedMalicious, BigInteger withdrawnMalicious, BigInteger depositedHonest,
                  BigInteger withdrawnHonest) {
    DemoResult {
        rounds = List.copyOf(rounds);
    }

    /** Sums the rounds' slashes and removals and the nodes' withdrawals by whether each node is malicious. */
    static DemoResult of(DemoStart start, List<RoundOutcome> rounds, List<SimulatedNode.Result> nodes,
                         double seconds) {
        Fleet fleet = start.fleet();
        BigInteger[] slashed = {BigInteger.ZERO, BigInteger.ZERO};
        long[] removed = {0, 0};
        for (RoundOutcome round : rounds) {
            for (Map.Entry<String, BigInteger> slash : round.slashed().entrySet()) {
                int side = fleet.malicious(slash.getKey()) ? 0 : 1;
                slashed[side] = slashed[side].add(slash.getValue());
            }
            for (String node : round.removed()) {
                removed[fleet.malicious(node) ? 0 : 1]++;
            }
        }
        BigInteger[] deposited = {BigInteger.ZERO, BigInteger.ZERO};
        BigInteger[] withdrawn = {BigInteger.ZERO, BigInteger.ZERO};
        for (SimulatedNode.Result node : nodes) {
            int side = fleet.malicious(node.nodeId()) ? 0 : 1;
            deposited[side] = deposited[side].add(node.deposited());
            withdrawn[side] = withdrawn[side].add(node.withdrawn());
        }
        long malicious = fleet.maliciousNodes();
        return new DemoResult(start, rounds, seconds, malicious, fleet.members().size() - malicious, slashed[0],
                slashed[1], removed[0], removed[1], deposited[0], withdrawn[0], deposited[1], withdrawn[1]);
    }

    /** Rounds that ended with {@code result}. */
    long count(RoundResult result) {
        return rounds.stream().filter(round -> round.result() == result).count();
    }

    /** The global model's test accuracy after the last round (the initial model's when there was none). */
    double finalAccuracy() {
        return rounds.isEmpty() ? start.initialAccuracy() : rounds.get(rounds.size() - 1).globalAccuracy();
    }
}
