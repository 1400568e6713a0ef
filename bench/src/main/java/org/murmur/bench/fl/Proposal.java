package org.murmur.bench.fl;

import java.util.Objects;

/**
 * What a proposer works from in one round: the round number, the global model it pulled, its
 * private training data, how it trains, and its seed for the round.
 */
public record Proposal(long round, Mlp global, Dataset train, Sgd sgd, long seed) {
    public Proposal {
        Objects.requireNonNull(global, "global");
        Objects.requireNonNull(train, "train");
        Objects.requireNonNull(sgd, "sgd");
    }

    /** The honest update: the global model trained on the node's data. */
    public Mlp trainHonestly() {
        return sgd.train(global, train, seed);
    }
}
