package org.murmur.server.round;

import com.google.protobuf.ByteString;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.murmur.proto.ledger.v1.CandidateProposed;
import org.murmur.proto.ledger.v1.Contributed;
import org.murmur.proto.ledger.v1.VoteRevealed;
import org.murmur.proto.v1.Phase;
import org.murmur.server.economics.RoleDraw;

/** Everything a TaskState exposes, as one comparable value: two states are the same iff their views are equal. */
record StateView(boolean finished, long round, Phase phase, long deadline, BigInteger pool,
                 Map<String, BigInteger> stakes, Map<String, BigInteger> rewards, Set<String> removed,
                 ByteString globalModel, List<ByteString> globalsAfter, List<String> joined, Optional<RoleDraw> draw,
                 List<Contributed> contributions, Optional<CandidateProposed> candidate, Set<String> committed,
                 Map<String, VoteRevealed> reveals, long events, long lastEventTime) {

    static StateView of(TaskState s) {
        Map<String, BigInteger> stakes = new TreeMap<>(s.stakes());
        Map<String, BigInteger> rewards = new TreeMap<>();
        Set<String> removed = new TreeSet<>();
        for (String node : stakes.keySet()) {
            if (s.reward(node).signum() != 0) {
                rewards.put(node, s.reward(node));
            }
            if (s.isRemoved(node)) {
                removed.add(node);
            }
        }
        List<ByteString> globals = new ArrayList<>();
        for (long r = 0; r <= s.round(); r++) {
            globals.add(s.globalModelAfter(r));
        }
        return new StateView(s.finished(), s.round(), s.phase(), s.deadline(), s.pool(), stakes, rewards, removed,
                s.globalModel(), globals, s.joined(), s.draw(), s.contributions(), s.candidate(),
                new TreeSet<>(s.committedVoters()), new TreeMap<>(s.reveals()), s.events(), s.lastEventTime());
    }

    /** What a finished run ends with: the tokens and the models, not the bookkeeping of the last round. */
    record Outcome(Map<String, BigInteger> stakes, Map<String, BigInteger> rewards, BigInteger pool, long round,
                   Phase phase, boolean finished, Set<String> removed, List<ByteString> globalsAfter) {
    }

    Outcome outcome() {
        return new Outcome(stakes, rewards, pool, round, phase, finished, removed, globalsAfter);
    }
}
