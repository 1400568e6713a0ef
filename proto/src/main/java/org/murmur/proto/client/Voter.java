package org.murmur.proto.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.murmur.proto.v1.MetricDirection;
import org.murmur.proto.v1.ModelInfo;
import org.murmur.proto.v1.TaskParams;
import org.murmur.proto.v1.VoteAck;

/**
 * A voter's side of a round (fl-alliance.md, steps 5 and 6): pull the round's candidate and the
 * global model it would replace, evaluate both with the caller's function on the voter's own test
 * data, and commit +1 when the candidate is at least as good (round 0 of a task with a baseline
 * metric: at least the baseline), -1 otherwise, with a fresh random salt; later reveal the ballot.
 * Models are downloaded (resumably, SHA-256 verified) into a work directory the caller owns.
 * Blocking; thread-safe when the evaluator is.
 */
public final class Voter {

    /** Scores a model file on the voter's private test data (accuracy, loss, ...); finite. */
    @FunctionalInterface
    public interface Evaluator {
        double evaluate(Path model) throws IOException;
    }

    /**
     * What the voter measured and committed.
     *
     * @param candidateMetric the candidate's metric
     * @param previousMetric  the metric it was compared with: the previous global model's, or the
     *                        task's baseline in round 0
     * @param ballot          the committed vote, to reveal in the reveal phase
     */
    public record Judgement(double candidateMetric, double previousMetric, RoundClient.Ballot ballot) {
    }

    private final MurmurClient transfers;
    private final RoundClient rounds;
    private final Path workDir;

    public Voter(MurmurClient transfers, RoundClient rounds, Path workDir) {
        this.transfers = Objects.requireNonNull(transfers, "transfers");
        this.rounds = Objects.requireNonNull(rounds, "rounds");
        this.workDir = Objects.requireNonNull(workDir, "workDir");
    }

    /**
     * Evaluates the candidate of {@code round} against the global model before it and commits the
     * honest vote. Call it in the round's commit phase.
     */
    public Judgement commit(String taskId, long round, Evaluator evaluator)
            throws IOException, RefusedException {
        TaskParams params = rounds.task(taskId).getParams();
        Files.createDirectories(workDir);
        Path candidate = workDir.resolve(taskId + "-candidate-" + Long.toUnsignedString(round) + ".safetensors");
        ModelInfo info = transfers.pullModel(PullRequest.candidate(taskId, round), candidate);
        double candidateMetric = finite("the candidate", evaluator.evaluate(candidate));
        double previousMetric;
        if (round == 0 && params.hasBaselineMetric()) {
            previousMetric = params.getBaselineMetric();
        } else {
            Path previous = workDir.resolve(taskId + "-global-before-" + Long.toUnsignedString(round)
                    + ".safetensors");
            transfers.pullModel(round == 0 ? PullRequest.global(taskId) : PullRequest.globalAfter(taskId, round - 1),
                    previous);
            previousMetric = finite("the previous global model", evaluator.evaluate(previous));
        }
        boolean lowerIsBetter = params.getMetricDirection() == MetricDirection.METRIC_DIRECTION_LOWER_IS_BETTER;
        boolean atLeastAsGood = lowerIsBetter ? candidateMetric <= previousMetric : candidateMetric >= previousMetric;
        RoundClient.Ballot ballot = rounds.commitVote(taskId, round, info.getSha256(), atLeastAsGood ? 1 : -1,
                candidateMetric);
        return new Judgement(candidateMetric, previousMetric, ballot);
    }

    /** Reveals a committed ballot; call it in the round's reveal phase. */
    public VoteAck reveal(RoundClient.Ballot ballot) throws RefusedException, TransportException {
        return rounds.revealVote(ballot);
    }

    private static double finite(String what, double metric) {
        if (!Double.isFinite(metric)) {
            throw new IllegalArgumentException("the evaluator scored " + what + " " + metric + ": a metric must be"
                    + " finite");
        }
        return metric;
    }
}
