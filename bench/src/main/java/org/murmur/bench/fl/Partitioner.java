package org.murmur.bench.fl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Splits a dataset's sample indices among nodes: every index goes to exactly one node, each
 * node's indices are sorted, and the same arguments always give the same partition.
 */
public final class Partitioner {
    private Partitioner() {
    }

    /** IID: a seeded shuffle dealt into {@code nodes} shards whose sizes differ by at most one. */
    public static int[][] iid(int samples, int nodes, long seed) {
        checkNodes(samples, nodes, 1);
        int[] order = shuffled(identity(samples), new SplittableRandom(seed));
        int[][] shards = new int[nodes][];
        int from = 0;
        for (int node = 0; node < nodes; node++) {
            int size = samples / nodes + (node < samples % nodes ? 1 : 0);
            shards[node] = Arrays.copyOfRange(order, from, from + size);
            Arrays.sort(shards[node]);
            from += size;
        }
        return shards;
    }

    /**
     * A seeded draw of {@code count} distinct indices of [0, {@code samples}), sorted: a smaller
     * dataset with the same distribution, for quick runs.
     */
    public static int[] sample(int samples, int count, long seed) {
        if (count < 0 || count > samples) {
            throw new IllegalArgumentException("cannot draw " + count + " of " + samples + " samples");
        }
        int[] drawn = Arrays.copyOf(shuffled(identity(samples), new SplittableRandom(seed)), count);
        Arrays.sort(drawn);
        return drawn;
    }

    /**
     * Label skew: each class's samples are shuffled and divided among the nodes in proportions
     * drawn from Dirichlet(alpha, ..., alpha), the usual non-IID benchmark split (smaller alpha,
     * more skew). Then, while some node holds fewer than {@code minSamples}, the largest node gives
     * it one sample.
     */
    public static int[][] dirichlet(Dataset data, int classes, int nodes, double alpha, int minSamples, long seed) {
        checkNodes(data.size(), nodes, minSamples);
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new IllegalArgumentException("alpha must be positive and finite, was " + alpha);
        }
        SplittableRandom random = new SplittableRandom(seed);
        List<List<Integer>> byNode = new ArrayList<>();
        for (int node = 0; node < nodes; node++) {
            byNode.add(new ArrayList<>());
        }
        for (int[] members : indicesByClass(data, classes)) {
            int[] order = shuffled(members, random);
            double[] share = Gamma.dirichlet(alpha, nodes, random);
            double cumulative = 0;
            int from = 0;
            for (int node = 0; node < nodes; node++) {
                cumulative += share[node];
                int to = node == nodes - 1 ? order.length : (int) Math.min(order.length, Math.round(cumulative * order.length));
                for (int i = from; i < to; i++) {
                    byNode.get(node).add(order[i]);
                }
                from = Math.max(from, to);
            }
        }
        topUp(byNode, minSamples);
        int[][] shards = new int[nodes][];
        for (int node = 0; node < nodes; node++) {
            shards[node] = byNode.get(node).stream().mapToInt(Integer::intValue).sorted().toArray();
        }
        return shards;
    }

    private static void topUp(List<List<Integer>> byNode, int minSamples) {
        while (true) {
            List<Integer> smallest = byNode.get(0);
            List<Integer> largest = byNode.get(0);
            for (List<Integer> shard : byNode) {
                smallest = shard.size() < smallest.size() ? shard : smallest;
                largest = shard.size() > largest.size() ? shard : largest;
            }
            if (smallest.size() >= minSamples) {
                return;
            }
            smallest.add(largest.remove(largest.size() - 1));
        }
    }

    private static int[][] indicesByClass(Dataset data, int classes) {
        int[] counts = data.labelCounts(classes);
        int[][] members = new int[classes][];
        for (int c = 0; c < classes; c++) {
            members[c] = new int[counts[c]];
        }
        int[] filled = new int[classes];
        for (int i = 0; i < data.size(); i++) {
            int c = data.label(i);
            members[c][filled[c]++] = i;
        }
        return members;
    }

    private static void checkNodes(int samples, int nodes, int minSamples) {
        if (nodes < 1 || minSamples < 0 || (long) nodes * Math.max(1, minSamples) > samples) {
            throw new IllegalArgumentException("cannot give " + nodes + " nodes at least " + Math.max(1, minSamples)
                    + " of " + samples + " samples each");
        }
    }

    static int[] identity(int n) {
        int[] indices = new int[n];
        for (int i = 0; i < n; i++) {
            indices[i] = i;
        }
        return indices;
    }

    /** A Fisher-Yates shuffle of a copy of {@code values}. */
    static int[] shuffled(int[] values, SplittableRandom random) {
        int[] order = values.clone();
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        return order;
    }
}
