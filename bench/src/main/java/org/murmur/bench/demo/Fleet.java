package org.murmur.bench.demo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.murmur.bench.fl.Dataset;
import org.murmur.bench.fl.FashionMnist;
import org.murmur.bench.fl.NodePlan;
import org.murmur.bench.fl.Partitioner;
import org.murmur.bench.fl.ProposerBehaviour;
import org.murmur.bench.fl.Shard;
import org.murmur.bench.fl.VoterBehaviour;
import org.murmur.proto.identity.NodeKeys;
import org.murmur.server.grpc.InvalidConfigException;

/**
 * The simulated nodes of one run: each one's key, private shard (a train part and a disjoint test
 * part) and behaviours, and which of them attack or lie. The data split, the choice of attackers
 * and liars and the training seeds follow from {@code --seed}; the keys are fresh in every run.
 * Immutable.
 */
final class Fleet {
    /**
     * Share of a node's images it trains on; it votes on the rest. Half: a voter's accuracy on a small
     * test split is noisy, and the protocol slashes the voters who lose a close vote.
     */
    static final double TRAIN_FRACTION = 0.5;

    /**
     * One node.
     *
     * @param seed the node's training seed, offset by the round
     */
    record Member(int index, NodeKeys keys, Shard shard, ProposerBehaviour proposer, VoterBehaviour voter,
                  boolean attacker, boolean liar, long seed) {
        long trainingSeed(long round) {
            return seed + round;
        }

        String id() {
            return keys.nodeId().hex();
        }

        /** Malicious in either role. */
        boolean malicious() {
            return attacker || liar;
        }
    }

    private final List<Member> members;
    private final Map<String, Member> byId = new HashMap<>();

    private Fleet(List<Member> members) {
        this.members = List.copyOf(members);
        members.forEach(member -> byId.put(member.id(), member));
    }

    static Fleet of(DemoSettings settings, FashionMnist data) {
        SplittableRandom seeds = new SplittableRandom(settings.seed());
        Dataset train = data.train();
        if (settings.samples() > train.size()) {
            throw new InvalidConfigException("samples", "the training set holds only " + train.size() + " images");
        }
        train = train.subset(Partitioner.sample(train.size(), settings.samples(), seeds.nextLong()));
        int[][] partition = settings.partition().deal(train, settings.nodes(), settings.alpha(), seeds.nextLong());
        List<Shard> shards = Shard.splitAll(train, partition, TRAIN_FRACTION, seeds.nextLong());
        // One seed for both plans: the same seeded order picks the attackers and the liars.
        long planSeed = seeds.nextLong();
        NodePlan attackers = NodePlan.mixed(settings.nodes(), settings.malicious(), settings.attack().behaviour(),
                VoterBehaviour.HONEST, planSeed);
        NodePlan liars = NodePlan.mixed(settings.nodes(), settings.lyingVoters(), ProposerBehaviour.HONEST,
                VoterBehaviour.INVERTED, planSeed);
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < settings.nodes(); i++) {
            VoterBehaviour voter = settings.voting() ? liars.voter(i) : VoterBehaviour.RUBBER_STAMP;
            members.add(new Member(i, NodeKeys.generate(), shards.get(i), attackers.proposer(i), voter,
                    attackers.isMalicious(i), liars.isMalicious(i), seeds.nextLong()));
        }
        return new Fleet(members);
    }

    List<Member> members() {
        return members;
    }

    Optional<Member> member(String nodeId) {
        return Optional.ofNullable(byId.get(nodeId));
    }

    /** Whether {@code nodeId} is one of this fleet's malicious nodes (false for any other id). */
    boolean malicious(String nodeId) {
        return member(nodeId).map(Member::malicious).orElse(false);
    }

    long attackers() {
        return members.stream().filter(Member::attacker).count();
    }

    long liars() {
        return members.stream().filter(Member::liar).count();
    }

    long maliciousNodes() {
        return members.stream().filter(Member::malicious).count();
    }
}
