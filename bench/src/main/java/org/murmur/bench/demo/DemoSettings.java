package org.murmur.bench.demo;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.murmur.proto.identity.NodeId;
import org.murmur.server.economics.Tokens;
import org.murmur.server.grpc.InvalidConfigException;
import org.murmur.server.grpc.ServerConfig;

/**
 * Everything one demo run is set by, each named as its {@code murmur demo} flag. The canonical
 * constructor checks every setting once and throws {@link InvalidConfigException} naming the flag
 * (without its dashes); a constructed value is always runnable. Immutable.
 *
 * @param nodes            simulated nodes
 * @param rounds           rounds of the task
 * @param malicious        share of nodes that attack when they propose
 * @param attack           what they do then
 * @param lyingVoters      share of nodes that invert their votes; the same seeded order picks them as
 *                         the attackers, so with equal shares they are the same nodes
 * @param voting           false: every voter rubber-stamps every candidate (plain FedAvg under attack)
 * @param stake            tokens each node stakes, in whole tokens
 * @param rule             the aggregation rule
 * @param proposerFraction share of each round's nodes drawn as proposers, an exact decimal
 * @param partition        how the training images are dealt among the nodes
 * @param alpha            the Dirichlet concentration of {@link Partition#DIRICHLET}
 * @param samples          training images used, a seeded draw from the 60,000 (all of them by default)
 * @param seed             seeds the data split, the attackers, the initial model and the training
 * @param backend          where the server aggregates: auto, cpu or cuda
 * @param dataDir          the server's data directory
 * @param metricsPort      port of the Prometheus endpoint; 0 picks a free one
 * @param fashionMnist     the directory of Fashion-MNIST's four files; empty: the installed package
 */
record DemoSettings(int nodes, int rounds, double malicious, Attack attack, double lyingVoters, boolean voting,
                    int stake, RuleChoice rule, String proposerFraction, Partition partition, double alpha, int samples,
                    long seed, String backend, Path dataDir, int metricsPort, Optional<Path> fashionMnist) {

    static final int MAX_NODES = 1_000;
    static final int MAX_ROUNDS = 1_000;
    static final int TRAINING_IMAGES = 60_000;
    static final int MIN_STAKE_TOKENS = DemoTask.MIN_STAKE.divide(Tokens.ONE).intValueExact();
    static final int MAX_STAKE_TOKENS = 1_000_000;

    DemoSettings {
        proposersPerRound(nodes, proposerFraction);
        if (rounds < 1 || rounds > MAX_ROUNDS) {
            throw new InvalidConfigException("rounds", "must be 1 to " + MAX_ROUNDS + ", got " + rounds);
        }
        requireFraction("malicious", malicious);
        requireFraction("lying-voters", lyingVoters);
        Objects.requireNonNull(attack, "attack");
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(partition, "partition");
        if (!voting && lyingVoters > 0) {
            throw new InvalidConfigException("lying-voters", "has no effect with --no-voting, where every voter"
                    + " accepts every candidate");
        }
        if (stake < MIN_STAKE_TOKENS || stake > MAX_STAKE_TOKENS) {
            throw new InvalidConfigException("stake", "must be " + MIN_STAKE_TOKENS + " (the task's minimum stake) to "
                    + MAX_STAKE_TOKENS + " tokens, got " + stake);
        }
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new InvalidConfigException("alpha", "must be a finite number above 0, got " + alpha);
        }
        if (samples < 1 || samples > TRAINING_IMAGES) {
            throw new InvalidConfigException("samples", "must be 1 to " + TRAINING_IMAGES + ", got " + samples);
        }
        if ((long) samples < (long) nodes * Partition.MIN_SAMPLES_PER_NODE) {
            throw new InvalidConfigException("samples", samples + " training images cannot give " + nodes
                    + " nodes " + Partition.MIN_SAMPLES_PER_NODE + " each: lower --nodes or raise --samples");
        }
        if (metricsPort < 0 || metricsPort > 65_535) {
            throw new InvalidConfigException("metrics-port", "must be 0 (any free port) to 65535, got " + metricsPort);
        }
        Objects.requireNonNull(fashionMnist, "fashionMnist");
        if (dataDir == null) {
            throw new InvalidConfigException("data-dir", "is required");
        }
        ServerConfig.builder(dataDir).backend(backend).build(); // the server's own checks, named as the flags
    }

    /**
     * ⌈ρ·n⌉, the proposers of a round where every node joins, checking that it leaves at least one voter.
     *
     * @throws InvalidConfigException naming --nodes or --proposer-fraction
     */
    static int proposersPerRound(int nodes, String proposerFraction) {
        if (nodes < 3 || nodes > MAX_NODES) {
            throw new InvalidConfigException("nodes", "must be 3 to " + MAX_NODES + ", got " + nodes);
        }
        if (proposerFraction == null || !proposerFraction.matches("[0-9]+(\\.[0-9]+)?")) {
            throw new InvalidConfigException("proposer-fraction", "'" + proposerFraction + "' is not a plain decimal"
                    + " number such as 0.2");
        }
        BigDecimal fraction = new BigDecimal(proposerFraction);
        if (fraction.signum() <= 0 || fraction.compareTo(BigDecimal.ONE) > 0) {
            throw new InvalidConfigException("proposer-fraction", "must be above 0 and at most 1, got "
                    + proposerFraction);
        }
        int proposers = fraction.multiply(BigDecimal.valueOf(nodes)).setScale(0, RoundingMode.CEILING).intValueExact();
        if (proposers >= nodes) {
            throw new InvalidConfigException("proposer-fraction", proposerFraction + " of " + nodes
                    + " nodes leaves no voter");
        }
        return proposers;
    }

    /** This run's server settings: a free port, this backend and data directory, and {@code admin}. */
    ServerConfig serverConfig(NodeId admin) {
        return ServerConfig.builder(dataDir).port(0).backend(backend).admins(Set.of(admin)).build();
    }

    /** Each node's stake in token units. */
    BigInteger stakeUnits() {
        return Tokens.of(stake);
    }

    int proposersPerRound() {
        return proposersPerRound(nodes, proposerFraction);
    }

    private static void requireFraction(String flag, double value) {
        if (!(value >= 0 && value <= 1)) {
            throw new InvalidConfigException(flag, "must be a fraction from 0 to 1, got " + value);
        }
    }
}
