package org.murmur.server.round;

import com.google.protobuf.ByteString;
import java.util.List;
import java.util.OptionalDouble;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongPredicate;
import org.murmur.proto.ledger.v1.Contributed;
import org.murmur.server.economics.TaskRules;
import org.murmur.server.economics.TestParams;

/**
 * A CandidateMaker that aggregates nothing: the candidate's hash is a function of the task, the
 * round and the contributors, and rounds chosen by {@link #failing} fail as a rule that cannot
 * aggregate them would. Records every call.
 */
final class FakeCandidates implements CandidateMaker {
    record Call(long round, List<String> contributors, ByteString previousGlobal) {
    }

    final List<Call> calls = new CopyOnWriteArrayList<>();
    private volatile LongPredicate failing = round -> false;

    void failing(LongPredicate rounds) {
        this.failing = rounds;
    }

    /** The candidate hash this maker gives for these contributors. */
    static ByteString candidateOf(String taskId, long round, List<String> contributors) {
        return TestParams.sha256("candidate|" + taskId + "|" + round + "|" + String.join(",", contributors));
    }

    @Override
    public Candidate make(String taskId, long round, TaskRules rules, List<Contributed> contributions,
                          ByteString previousGlobal) throws RoundFailedException {
        List<String> contributors = contributions.stream().map(Contributed::getNodeId).toList();
        calls.add(new Call(round, contributors, previousGlobal));
        if (failing.test(round)) {
            throw new RoundFailedException("krum needs more updates than " + contributors.size(), null);
        }
        return new Candidate(candidateOf(taskId, round, contributors), List.of(), OptionalDouble.empty());
    }
}
