package org.murmur.kernels.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.murmur.kernels.api.UpdateBatch;

/**
 * Runs passes over coordinate tiles in parallel. The coordinates are cut into tiles of a fixed
 * width, and the tiles into a fixed number of contiguous segments; a worker fills a tile with the
 * chosen updates' coordinates and hands it to the task. Reductions are summed per segment in tile
 * order and then over segments in segment order, so a pass's result does not depend on the number
 * of threads. Memory is O(rows x width) per worker; nothing grows with d.
 */
final class TileEngine implements AutoCloseable {
    /** Fixed so that reduction order is independent of the thread count. */
    private static final int SEGMENTS = 64;

    private final int tileCoords;
    private final TileKernels kernels;
    private final ForkJoinPool pool;

    TileEngine(int threads, int tileCoords, TileKernels kernels) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (tileCoords < 1) {
            throw new IllegalArgumentException("tile width must be >= 1, got " + tileCoords);
        }
        this.tileCoords = tileCoords;
        this.kernels = kernels;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads, daemonFactory(), null, false);
    }

    TileKernels kernels() {
        return kernels;
    }

    /**
     * Reads {@code rows} of {@code batch} tile by tile over all d coordinates and runs {@code task}
     * on each; returns the sum of the partials (of {@code partialLength} doubles) the task added.
     */
    double[] pass(UpdateBatch batch, int[] rows, int partialLength, TileTask task) {
        long dimension = batch.dimension();
        long tiles = (dimension + tileCoords - 1) / tileCoords;
        int segments = (int) Math.max(1, Math.min(SEGMENTS, tiles));
        long tilesPerSegment = (tiles + segments - 1) / segments;
        double[][] partials = new double[segments][partialLength];
        ConcurrentLinkedQueue<Tile> spareTiles = new ConcurrentLinkedQueue<>();
        AtomicBoolean failed = new AtomicBoolean();
        Runnable[] work = new Runnable[segments];
        for (int s = 0; s < segments; s++) {
            long firstTile = s * tilesPerSegment;
            long endTile = Math.min(tiles, firstTile + tilesPerSegment);
            double[] partial = partials[s];
            work[s] = () -> {
                Tile tile = spareTiles.poll();
                if (tile == null) {
                    tile = new Tile(rows.length, tileCoords, kernels);
                }
                try {
                    // Once any segment has failed the pass is lost; the others stop reading.
                    for (long t = firstTile; t < endTile && !failed.get(); t++) {
                        tile.start = t * tileCoords;
                        tile.length = (int) Math.min(tileCoords, dimension - tile.start);
                        fill(batch, rows, tile);
                        task.process(tile, partial);
                    }
                } catch (RuntimeException | Error e) {
                    failed.set(true);
                    throw e;
                }
                spareTiles.add(tile);
            };
        }
        runAll(work);
        double[] total = new double[partialLength];
        for (double[] partial : partials) {
            for (int i = 0; i < partialLength; i++) {
                total[i] += partial[i];
            }
        }
        return total;
    }

    private void fill(UpdateBatch batch, int[] rows, Tile tile) {
        for (int r = 0; r < rows.length; r++) {
            batch.decode(rows[r], tile.start, tile.length, tile.values, tile.row(r));
            if (kernels.anyNonFinite(tile.values, tile.row(r), tile.length)) {
                // Read again through the checked path, whose error names the tensor and element.
                batch.read(rows[r], tile.start, tile.length, tile.values, tile.row(r));
            }
        }
    }

    private void runAll(Runnable[] work) {
        if (pool == null) {
            for (Runnable w : work) {
                w.run();
            }
            return;
        }
        List<Future<?>> futures = new ArrayList<>(work.length);
        for (Runnable w : work) {
            futures.add(pool.submit(w));
        }
        RuntimeException failure = null;
        for (Future<?> future : futures) {
            try {
                future.get();
            } catch (ExecutionException e) {
                if (failure == null) {
                    failure = unwrap(e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted during aggregation", e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static RuntimeException unwrap(Throwable cause) {
        if (cause instanceof RuntimeException runtime) {
            return runtime;
        }
        if (cause instanceof Error error) {
            throw error;
        }
        return new IllegalStateException(cause);
    }

    private static ForkJoinPool.ForkJoinWorkerThreadFactory daemonFactory() {
        return pool -> {
            var thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
            thread.setDaemon(true);
            thread.setName("murmur-cpu-" + thread.getPoolIndex());
            return thread;
        };
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdown();
        }
    }
}
