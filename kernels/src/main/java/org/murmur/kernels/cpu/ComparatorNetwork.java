package org.murmur.kernels.cpu;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;

/**
 * A comparator network over n rows that leaves chosen output positions holding the values a full
 * sort would put there; every other position holds one of the remaining values (each comparator
 * only swaps, so the multiset is kept). Applied to a tile, each comparator is a min/max over two
 * whole rows: branch-free, vectorized by the JIT, and the same operations for every coordinate, so
 * results are bit-identical whatever the tiling.
 */
final class ComparatorNetwork {
    private final int[] low;
    private final int[] high;

    private ComparatorNetwork(List<int[]> comparators) {
        low = new int[comparators.size()];
        high = new int[comparators.size()];
        for (int c = 0; c < low.length; c++) {
            low[c] = comparators.get(c)[0];
            high[c] = comparators.get(c)[1];
        }
    }

    /** A network that puts the given positions of a sort of n values in place. */
    static ComparatorNetwork selecting(int n, BitSet positions) {
        return new ComparatorNetwork(prune(batcherSort(n), positions));
    }

    /**
     * A network that puts the k smallest values at positions {@code [0, k)} and the k largest at
     * {@code [n-k, n)}, both in order, leaving the rest in between; needs {@code n > 2k}.
     */
    static ComparatorNetwork selectingExtremes(int n, int k) {
        BitSet extremes = new BitSet(n);
        extremes.set(0, k);
        extremes.set(n - k, n);
        List<int[]> batcher = prune(batcherSort(n), extremes);
        List<int[]> bubbles = extremeBubbles(n, k);
        return new ComparatorNetwork(bubbles.size() < batcher.size() ? bubbles : batcher);
    }

    /** A network that fully sorts n values. */
    static ComparatorNetwork sorting(int n) {
        return new ComparatorNetwork(batcherSort(n));
    }

    int size() {
        return low.length;
    }

    /**
     * Sorts the chosen positions of every coordinate of a tile's rows {@code [0, n)} in place.
     * The comparisons run on order-preserving integer keys, because integer min/max is one
     * vector instruction where float min/max must also order NaN and -0.0.
     */
    void apply(Tile tile) {
        int cells = tile.rows * tile.width;
        int[] keys = tile.keys(cells);
        TileKernels kernels = tile.kernels;
        kernels.toKeys(tile.values, keys, cells);
        kernels.compareExchange(keys, low, high, tile.width, tile.length);
        kernels.fromKeys(keys, tile.values, cells);
    }

    /**
     * Batcher's odd-even merge sort for the next power of two, with every comparator that touches
     * a position >= n dropped: those positions would hold +infinity and never move.
     */
    private static List<int[]> batcherSort(int n) {
        List<int[]> comparators = new ArrayList<>();
        int size = 1;
        while (size < n) {
            size <<= 1;
        }
        for (int p = 1; p < size; p <<= 1) {
            for (int k = p; k >= 1; k >>= 1) {
                for (int j = k % p; j + k < size; j += 2 * k) {
                    for (int i = 0; i < Math.min(k, size - j - k); i++) {
                        int a = i + j;
                        int b = i + j + k;
                        if ((a / (2 * p)) == (b / (2 * p)) && b < n) {
                            comparators.add(new int[] {a, b});
                        }
                    }
                }
            }
        }
        return comparators;
    }

    /**
     * Bubble passes that carry the smallest values down to positions 0, 1, ... and the largest up
     * to n-1, n-2, ...: about 2kn comparators for the k extremes on each side, fewer than a full
     * sort when k is small.
     */
    private static List<int[]> extremeBubbles(int n, int k) {
        List<int[]> comparators = new ArrayList<>();
        for (int r = 0; r < k; r++) {
            for (int i = n - 2; i >= r; i--) {
                comparators.add(new int[] {i, i + 1});
            }
        }
        for (int r = 0; r < k; r++) {
            for (int i = k; i < n - 1 - r; i++) {
                comparators.add(new int[] {i, i + 1});
            }
        }
        return comparators;
    }

    /** Drops comparators that cannot influence the wanted positions, walking backwards. */
    private static List<int[]> prune(List<int[]> comparators, BitSet positions) {
        BitSet needed = (BitSet) positions.clone();
        List<int[]> kept = new ArrayList<>();
        for (int c = comparators.size() - 1; c >= 0; c--) {
            int[] comparator = comparators.get(c);
            if (needed.get(comparator[0]) || needed.get(comparator[1])) {
                needed.set(comparator[0]);
                needed.set(comparator[1]);
                kept.add(comparator);
            }
        }
        Collections.reverse(kept);
        return kept;
    }
}
