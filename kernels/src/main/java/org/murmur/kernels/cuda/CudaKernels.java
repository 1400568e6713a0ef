package org.murmur.kernels.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import org.murmur.kernels.cuda.CudaDriver.DeviceMemory;
import org.murmur.kernels.cuda.CudaDriver.Kernel;
import org.murmur.kernels.cuda.TilePipeline.DeviceTile;

/**
 * The kernels of {@code src/main/cuda/murmur_kernels.cu}: their names, launch shapes and scratch
 * sizes, each method enqueueing one kernel (or two) on a tile's stream. An empty tile enqueues
 * nothing.
 */
final class CudaKernels {
    /** The fatbin, a resource beside this class when nvcc built it. */
    static final String FATBIN = "murmur_kernels.fatbin";
    /** Threads per block of every kernel ({@code kBlock}). */
    static final int BLOCK = 256;
    /** Sorting networks in registers exist for this many rows and fewer; radix selection above. */
    static final int LARGEST_NETWORK = 64;
    /** Rows per side of a block of pairs ({@code kPairRows}). */
    static final int PAIR_ROWS = 16;
    /** Coordinates per split of a tile in the reductions over coordinates. */
    static final int COORDS_PER_SPLIT = 4096;

    private final CudaDriver driver;
    private final Kernel weightedMean;
    private final Kernel[] networks;
    private final Kernel radix;
    private final Kernel squaredNorms;
    private final Kernel pairDistances;
    private final Kernel addPartials;

    CudaKernels(CudaDriver driver) {
        this.driver = driver;
        this.weightedMean = driver.kernel("murmur_weighted_mean");
        this.networks = new Kernel[] {driver.kernel("murmur_rank_window_mean_8"), driver.kernel("murmur_rank_window_mean_16"),
                driver.kernel("murmur_rank_window_mean_32"), driver.kernel("murmur_rank_window_mean_64")};
        this.radix = driver.kernel("murmur_rank_window_mean_radix");
        this.squaredNorms = driver.kernel("murmur_squared_norms");
        this.pairDistances = driver.kernel("murmur_pair_distances");
        this.addPartials = driver.kernel("murmur_add_partials");
    }

    /** The fatbin's bytes, or null when this build has none (nvcc was not on the PATH). */
    static byte[] fatbin() {
        try (InputStream in = CudaKernels.class.getResourceAsStream(FATBIN)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the CUDA kernels " + FATBIN, e);
        }
    }

    /** {@code out[x] = sum_r coeffs[r] * row_r[x] / divisor}, in float64 in row order. */
    void weightedMean(DeviceTile tile, DeviceMemory coeffs, double divisor) {
        if (tile.width() > 0) {
            driver.launch(weightedMean, blocksFor(tile.width()), 1, BLOCK, tile.stream(), tile.tile(), tile.rows(), tile.width(),
                    coeffs, divisor, tile.out(), tile.nonFinite());
        }
    }

    /** {@code out[x]} = the mean of the values of ranks {@code [lo, hi)} of coordinate x. */
    void rankWindowMean(DeviceTile tile, int lo, int hi) {
        if (tile.width() > 0) {
            driver.launch(rankKernel(tile.rows()), blocksFor(tile.width()), 1, BLOCK, tile.stream(), tile.tile(), tile.rows(),
                    tile.width(), lo, hi, tile.out(), tile.nonFinite());
        }
    }

    /** The smallest network that holds {@code rows} (8, 16, 32 or 64 of them), or radix selection. */
    private Kernel rankKernel(int rows) {
        if (rows > LARGEST_NETWORK) {
            return radix;
        }
        int network = 0;
        while (8 << network < rows) {
            network++;
        }
        return networks[network];
    }

    /** Adds every row's squared norm over the tile to {@code sums[r]}; scratch: {@link #normScratchBytes}. */
    void squaredNorms(DeviceTile tile, DeviceMemory scratch, DeviceMemory sums) {
        if (tile.width() > 0) {
            int splits = splits(tile.width());
            driver.launch(squaredNorms, tile.rows() * splits, 1, BLOCK, tile.stream(), tile.tile(), tile.width(), COORDS_PER_SPLIT,
                    scratch, tile.nonFinite());
            addPartials(tile, scratch, tile.rows(), splits, sums);
        }
    }

    /**
     * Adds each pair's squared distance over the tile to {@code sums[pairIndex(i, j)]}, once per
     * unordered pair; scratch: {@link #pairScratchBytes}.
     */
    void pairDistances(DeviceTile tile, DeviceMemory scratch, DeviceMemory sums) {
        if (tile.width() > 0 && tile.rows() > 1) {
            int splits = splits(tile.width());
            int rowBlocks = (tile.rows() + PAIR_ROWS - 1) / PAIR_ROWS;
            int blockPairs = rowBlocks * (rowBlocks + 1) / 2;
            driver.launch(pairDistances, Math.multiplyExact(blockPairs, splits), 1, BLOCK, tile.stream(), tile.tile(), tile.rows(),
                    tile.width(), COORDS_PER_SPLIT, scratch, tile.nonFinite());
            addPartials(tile, scratch, pairs(tile.rows()), splits, sums);
        }
    }

    private void addPartials(DeviceTile tile, DeviceMemory scratch, int count, int splits, DeviceMemory sums) {
        driver.launch(addPartials, blocksFor(count), 1, BLOCK, tile.stream(), scratch, count, splits, sums);
    }

    /** Scratch bytes of {@link #squaredNorms} on tiles of at most {@code width} coordinates. */
    static long normScratchBytes(int rows, int width) {
        return 8L * rows * splits(width);
    }

    /** Scratch bytes of {@link #pairDistances} on tiles of at most {@code width} coordinates. */
    static long pairScratchBytes(int rows, int width) {
        return 8L * pairs(rows) * splits(width);
    }

    /** The number of unordered pairs of {@code rows} rows. */
    static int pairs(int rows) {
        return Math.toIntExact((long) rows * (rows - 1) / 2);
    }

    /** The index of the pair (i, j), i < j, in the upper triangle, row-major ({@code pair_index}). */
    static int pairIndex(int i, int j, int rows) {
        return i * rows - i * (i + 1) / 2 + (j - i - 1);
    }

    private static int splits(int width) {
        return Math.max(1, (width + COORDS_PER_SPLIT - 1) / COORDS_PER_SPLIT);
    }

    private static int blocksFor(int count) {
        return (count + BLOCK - 1) / BLOCK;
    }
}
