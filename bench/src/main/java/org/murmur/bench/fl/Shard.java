package org.murmur.bench.fl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One node's private data: a training part and a disjoint test part (on which it votes), cut
 * from its partition indices by a seeded shuffle. Both parts are non-empty.
 */
public record Shard(Dataset train, Dataset test) {

    /**
     * Shuffles {@code indices} with {@code seed} and keeps the first {@code round(trainFraction * n)}
     * (at least 1, at most n - 1) for training, the rest for testing.
     */
    public static Shard split(Dataset data, int[] indices, double trainFraction, long seed) {
        if (!(trainFraction > 0 && trainFraction < 1)) {
            throw new IllegalArgumentException("trainFraction must be in (0, 1), was " + trainFraction);
        }
        if (indices.length < 2) {
            throw new IllegalArgumentException("a shard needs at least 2 samples, got " + indices.length);
        }
        int[] order = Partitioner.shuffled(indices, new SplittableRandom(seed));
        int trainSize = (int) Math.max(1, Math.min(order.length - 1, Math.round(trainFraction * order.length)));
        return new Shard(data.subset(Arrays.copyOfRange(order, 0, trainSize)),
                data.subset(Arrays.copyOfRange(order, trainSize, order.length)));
    }

    /** {@link #split} for every node of a partition, node i with seed {@code seed + i}. */
    public static List<Shard> splitAll(Dataset data, int[][] partition, double trainFraction, long seed) {
        List<Shard> shards = new ArrayList<>(partition.length);
        for (int node = 0; node < partition.length; node++) {
            shards.add(split(data, partition[node], trainFraction, seed + node));
        }
        return List.copyOf(shards);
    }
}
