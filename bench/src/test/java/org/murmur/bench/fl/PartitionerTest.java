package org.murmur.bench.fl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

class PartitionerTest {
    private static final int CLASSES = 10;
    private static final Dataset DATA = Synthetic.blobs(10_000, 4, CLASSES, 1);

    @Test
    void iidShardsAreDisjointCoveringBalancedAndSeeded() {
        int[][] shards = Partitioner.iid(10_003, 7, 42);
        assertPartition(shards, 10_003);
        for (int[] shard : shards) {
            assertTrue(shard.length == 1_429 || shard.length == 1_428, "size " + shard.length);
        }
        assertTrue(Arrays.deepEquals(shards, Partitioner.iid(10_003, 7, 42)));
        assertFalse(Arrays.deepEquals(shards, Partitioner.iid(10_003, 7, 43)));
    }

    @Test
    void aSampleIsDistinctSortedSeededAndOfTheAskedSize() {
        int[] sample = Partitioner.sample(10_000, 600, 3);
        assertEquals(600, sample.length);
        for (int i = 1; i < sample.length; i++) {
            assertTrue(sample[i - 1] < sample[i], "sorted and distinct at " + i);
        }
        assertTrue(sample[0] >= 0 && sample[599] < 10_000);
        assertArrayEquals(sample, Partitioner.sample(10_000, 600, 3));
        assertFalse(Arrays.equals(sample, Partitioner.sample(10_000, 600, 4)));
        assertArrayEquals(Partitioner.identity(10), Partitioner.sample(10, 10, 5));
        assertThrows(IllegalArgumentException.class, () -> Partitioner.sample(10, 11, 1));
    }

    @Test
    void dirichletShardsAreDisjointCoveringSeededAndAboveTheMinimum() {
        for (double alpha : new double[] {0.01, 0.1, 1, 100}) {
            int[][] shards = Partitioner.dirichlet(DATA, CLASSES, 50, alpha, 20, 7);
            assertPartition(shards, DATA.size());
            for (int[] shard : shards) {
                assertTrue(shard.length >= 20, "alpha " + alpha + ": a shard of " + shard.length);
            }
            assertTrue(Arrays.deepEquals(shards, Partitioner.dirichlet(DATA, CLASSES, 50, alpha, 20, 7)));
            assertFalse(Arrays.deepEquals(shards, Partitioner.dirichlet(DATA, CLASSES, 50, alpha, 20, 8)));
        }
    }

    @Test
    void smallAlphaSkewsLabelsAndLargeAlphaDoesNot() {
        double iid = meanDistanceFromGlobalLabels(Partitioner.iid(DATA.size(), 20, 3));
        double mild = meanDistanceFromGlobalLabels(Partitioner.dirichlet(DATA, CLASSES, 20, 100, 10, 3));
        double skewed = meanDistanceFromGlobalLabels(Partitioner.dirichlet(DATA, CLASSES, 20, 0.1, 10, 3));
        assertTrue(iid < 0.1, "IID total variation " + iid);
        assertTrue(mild < 0.1, "alpha 100 total variation " + mild);
        assertTrue(skewed > 0.5, "alpha 0.1 total variation " + skewed);
    }

    @Test
    void refusesImpossibleRequests() {
        assertThrows(IllegalArgumentException.class, () -> Partitioner.iid(5, 6, 1));
        assertThrows(IllegalArgumentException.class, () -> Partitioner.iid(5, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Partitioner.dirichlet(DATA, CLASSES, 50, 0.1, 201, 1));
        assertThrows(IllegalArgumentException.class, () -> Partitioner.dirichlet(DATA, CLASSES, 5, 0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> Partitioner.dirichlet(DATA, CLASSES, 5, Double.NaN, 1, 1));
    }

    @Test
    void shardsSplitIntoDisjointTrainAndTestParts() {
        int[][] partition = Partitioner.iid(DATA.size(), 4, 5);
        List<Shard> shards = Shard.splitAll(DATA, partition, 0.8, 9);
        for (int node = 0; node < partition.length; node++) {
            Shard shard = shards.get(node);
            assertEquals(Math.round(0.8 * partition[node].length), shard.train().size());
            assertEquals(partition[node].length, shard.train().size() + shard.test().size());
            assertEquals(Arrays.toString(labelsOf(DATA.subset(partition[node]))),
                    Arrays.toString(sum(labelsOf(shard.train()), labelsOf(shard.test()))));
        }
        Shard again = Shard.split(DATA, partition[1], 0.8, 10);
        assertArrayEquals(features(shards.get(1).test()), features(again.test()));
        Shard tiny = Shard.split(DATA, new int[] {3, 4}, 0.99, 1);
        assertEquals(1, tiny.train().size());
        assertEquals(1, tiny.test().size());
    }

    /** Every index in [0, samples) appears in exactly one shard, and each shard is sorted. */
    private static void assertPartition(int[][] shards, int samples) {
        boolean[] seen = new boolean[samples];
        for (int[] shard : shards) {
            for (int i = 0; i < shard.length; i++) {
                assertFalse(seen[shard[i]], "index " + shard[i] + " given twice");
                seen[shard[i]] = true;
                assertTrue(i == 0 || shard[i - 1] < shard[i], "shard not sorted");
            }
        }
        for (int i = 0; i < samples; i++) {
            assertTrue(seen[i], "index " + i + " given to nobody");
        }
    }

    /** Mean over shards of the total variation distance between the shard's and the whole set's label shares. */
    private static double meanDistanceFromGlobalLabels(int[][] shards) {
        int[] global = DATA.labelCounts(CLASSES);
        double total = 0;
        for (int[] shard : shards) {
            int[] counts = DATA.subset(shard).labelCounts(CLASSES);
            double distance = 0;
            for (int c = 0; c < CLASSES; c++) {
                distance += Math.abs((double) counts[c] / shard.length - (double) global[c] / DATA.size());
            }
            total += distance / 2;
        }
        return total / shards.length;
    }

    private static int[] labelsOf(Dataset data) {
        return data.labelCounts(CLASSES);
    }

    private static int[] sum(int[] a, int[] b) {
        int[] sum = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            sum[i] = a[i] + b[i];
        }
        return sum;
    }

    private static float[] features(Dataset data) {
        float[] all = new float[data.size() * data.features()];
        for (int i = 0; i < data.size(); i++) {
            data.copyFeatures(i, all, i * data.features());
        }
        return all;
    }
}
