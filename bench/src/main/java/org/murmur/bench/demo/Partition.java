package org.murmur.bench.demo;

import java.util.Locale;
import org.murmur.bench.fl.Dataset;
import org.murmur.bench.fl.FashionMnist;
import org.murmur.bench.fl.Partitioner;
import org.murmur.server.grpc.InvalidConfigException;

/** How the demo deals the training images among its nodes ({@code --partition}). */
enum Partition {
    /** A seeded shuffle dealt evenly. */
    IID,
    /** Label skew: each class divided among the nodes in Dirichlet(alpha) proportions. */
    DIRICHLET;

    /** Fewest images a node gets under label skew: enough for a train part and a test part to vote on. */
    static final int MIN_SAMPLES_PER_NODE = 20;

    /** The flag's spelling: iid or dirichlet. */
    public String flag() {
        return name().toLowerCase(Locale.ROOT);
    }

    static Partition parse(String flag) {
        for (Partition partition : values()) {
            if (partition.flag().equals(flag)) {
                return partition;
            }
        }
        throw new InvalidConfigException("partition", "'" + flag + "' is not one of iid, dirichlet");
    }

    /** Each node's indices into {@code data}. */
    int[][] deal(Dataset data, int nodes, double alpha, long seed) {
        return switch (this) {
            case IID -> Partitioner.iid(data.size(), nodes, seed);
            case DIRICHLET -> Partitioner.dirichlet(data, FashionMnist.CLASSES, nodes, alpha, MIN_SAMPLES_PER_NODE,
                    seed);
        };
    }
}
