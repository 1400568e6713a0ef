package org.murmur.bench.demo;

import io.grpc.ManagedChannel;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.murmur.bench.fl.Mlp;
import org.murmur.bench.fl.MlpFiles;
import org.murmur.bench.fl.Proposal;
import org.murmur.bench.fl.Sgd;
import org.murmur.bench.fl.Vote;
import org.murmur.proto.client.MurmurClient;
import org.murmur.proto.client.PullRequest;
import org.murmur.proto.client.RefusedException;
import org.murmur.proto.client.RoundClient;
import org.murmur.proto.client.UpdateUpload;
import org.murmur.proto.v1.ModelInfo;
import org.murmur.proto.v1.Phase;
import org.murmur.proto.v1.Role;
import org.murmur.proto.v1.TaskParams;

/**
 * One simulated FL node, taking part in a task only through the node SDK over its own gRPC
 * channel, as a node on another machine would: it stakes, then in each round joins, asks its role,
 * and either proposes (pulls the global model, trains it on its private train split as its
 * behaviour says, pushes the result) or votes (pulls the candidate and scores it on its private
 * test split against the previous global model, or in round 0 against the task's baseline,
 * commits, and reveals once the reveal phase starts). It waits on its own WatchRound stream. A
 * node the server removed stops joining; every node withdraws what it has left once the task has
 * finished.
 */
final class SimulatedNode implements Callable<SimulatedNode.Result> {
    /** What a node ends with. */
    record Result(String nodeId, BigInteger deposited, BigInteger withdrawn) {
    }

    private final Fleet.Member member;
    private final String task;
    private final BigInteger stake;
    private final Sgd sgd;
    private final ManagedChannel channel;
    private final Path scratch;
    private final CountDownLatch staked;
    /** What round 0's candidate must reach, when the task says; read from the task once, at the start. */
    private OptionalDouble baseline = OptionalDouble.empty();

    /**
     * @param staked counted down once this node has staked, then awaited: the join window closes as
     *               soon as every staked node has joined, so a node that staked late would miss round 0
     */
    SimulatedNode(Fleet.Member member, String task, BigInteger stake, Sgd sgd, ManagedChannel channel,
                  Path scratch, CountDownLatch staked) {
        this.member = member;
        this.task = task;
        this.stake = stake;
        this.sgd = sgd;
        this.channel = channel;
        this.scratch = scratch;
        this.staked = staked;
    }

    @Override
    public Result call() throws IOException, RefusedException, InterruptedException {
        Files.createDirectories(scratch);
        try (MurmurClient transfers = MurmurClient.builder(channel).ownsChannel(true).build()) {
            RoundClient rounds = new RoundClient(channel, member.keys());
            RoundFeed feed = new RoundFeed(rounds.watch(task, OptionalLong.empty()));
            TaskParams params = rounds.task(task).getParams();
            baseline = params.hasBaselineMetric() ? OptionalDouble.of(params.getBaselineMetric())
                    : OptionalDouble.empty();
            rounds.stake(task, stake);
            staked.countDown();
            staked.await();
            for (long round = 0; !feed.taskFinished(); round++) {
                if (feed.awaitPhase(round, Phase.PHASE_JOIN)) {
                    Joined joined = join(rounds, round);
                    if (joined == Joined.REMOVED) {
                        break;
                    }
                    if (joined == Joined.YES) {
                        play(rounds, transfers, feed, round);
                    }
                }
            }
            feed.awaitTaskFinished();
            return new Result(member.keys().nodeId().hex(), stake, withdraw(rounds));
        }
    }

    /**
     * Joins the round: {@link Joined#NO} when its join window has closed, which happens to a node
     * removed at the last settlement (the window closes once every node still eligible has
     * joined), {@link Joined#REMOVED} when the server says the node was removed.
     */
    private Joined join(RoundClient rounds, long round) throws IOException, RefusedException {
        try {
            rounds.join(task, round);
            return Joined.YES;
        } catch (RefusedException e) {
            return switch (e.reason()) {
                case "WRONG_PHASE" -> Joined.NO;
                case "NODE_REMOVED", "BELOW_MIN_STAKE" -> Joined.REMOVED;
                default -> throw e;
            };
        }
    }

    private enum Joined { YES, NO, REMOVED }

    private void play(RoundClient rounds, MurmurClient transfers, RoundFeed feed, long round)
            throws IOException, RefusedException {
        if (!feed.awaitPhase(round, Phase.PHASE_CONTRIBUTE)) {
            return; // too few nodes joined: the round failed
        }
        Role role = rounds.assignment(task, round).getRole();
        if (role == Role.ROLE_PROPOSER) {
            propose(transfers, round);
        } else if (role == Role.ROLE_VOTER && feed.awaitPhase(round, Phase.PHASE_COMMIT)) {
            vote(rounds, transfers, feed, round);
        }
        feed.awaitPhase(round, Phase.PHASE_FINISHED);
    }

    private void propose(MurmurClient transfers, long round) throws IOException, RefusedException {
        Path global = scratch.resolve("global.safetensors");
        transfers.pullModel(PullRequest.global(task), global);
        Proposal proposal = new Proposal(round, MlpFiles.read(global), member.shard().train(), sgd,
                member.trainingSeed(round));
        Path update = scratch.resolve("update.safetensors");
        MlpFiles.write(member.proposer().propose(proposal), update);
        transfers.pushUpdate(new UpdateUpload(member.keys(), task, round, update, member.shard().train().size()));
    }

    private void vote(RoundClient rounds, MurmurClient transfers, RoundFeed feed, long round)
            throws IOException, RefusedException {
        Path candidateFile = scratch.resolve("candidate.safetensors");
        ModelInfo candidate = transfers.pullModel(PullRequest.candidate(task, round), candidateFile);
        double reference;
        if (round == 0 && baseline.isPresent()) {
            reference = baseline.getAsDouble();
        } else {
            Path previousFile = scratch.resolve("previous.safetensors");
            transfers.pullModel(PullRequest.global(task), previousFile); // not settled yet: still the previous one
            reference = MlpFiles.read(previousFile).evaluate(member.shard().test()).accuracy();
        }
        Mlp model = MlpFiles.read(candidateFile);
        Vote vote = member.voter().vote(model, reference, member.shard().test());
        RoundClient.Ballot ballot = rounds.commitVote(task, round, candidate.getSha256(), vote.score(), vote.metric());
        if (feed.awaitPhase(round, Phase.PHASE_REVEAL)) {
            rounds.revealVote(ballot);
        }
    }

    /** Withdraws stake and rewards; zero when nothing is left (a node slashed to nothing). */
    private BigInteger withdraw(RoundClient rounds) throws IOException, RefusedException {
        try {
            return rounds.withdraw(task);
        } catch (RefusedException e) {
            if (e.reason().equals("NOT_STAKED")) {
                return BigInteger.ZERO;
            }
            throw e;
        }
    }
}
