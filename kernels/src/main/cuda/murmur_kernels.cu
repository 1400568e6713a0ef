// Murmur's aggregation kernels, compiled into one fatbin (see build.sh) and loaded by
// org.murmur.kernels.cuda.CudaDriver with cuModuleLoadData.
//
// Every kernel reads a staged coordinate tile: `rows` rows of `width` coordinates. The tile begins
// with one 32-bit descriptor per row, which gives the byte offset of the row from the start of the
// tile and its element type (F32, F16 or BF16; see murmur_math.cuh).
//
// Shaped like CUB's device algorithms: the caller passes the stream at launch and owns every
// buffer, scratch included (its size is stated beside each kernel); no kernel synchronises with
// the host; a width of 0 writes nothing; and every kernel sets *d_nonfinite when it reads a NaN
// or an infinity (the host then names the value through its checked read path).
//
// Determinism: sums over rows run in row (or rank) order in float64, unfused, exactly as the CPU
// backend's; sums over coordinates use a fixed split of the tile, a fixed reduction tree, and
// splits added in order (murmur_add_partials). A result depends on the tile width and nothing
// else: not on timing, nor on the device model.
#include "murmur_math.cuh"

namespace {

constexpr int kBlock = 256;

// The descriptor of row r of a staged tile.
__device__ __forceinline__ uint32_t descriptor(const unsigned char* d_tile, int r) {
    return __ldg(reinterpret_cast<const uint32_t*>(d_tile) + r);
}

// The column of a staged tile at one coordinate.
struct TileColumn {
    const unsigned char* d_tile;
    int x;

    __device__ float operator()(int r) const { return murmur::load_element(d_tile, descriptor(d_tile, r), x); }
};

__device__ void report_nonfinite(bool finite, int* d_nonfinite) {
    if (!finite) {
        atomicOr(d_nonfinite, 1);
    }
}

// The sum of one value per thread of the block, by a fixed tree; the result is valid in thread 0.
__device__ double block_sum(double value) {
    __shared__ double s_sums[kBlock];
    s_sums[threadIdx.x] = value;
    __syncthreads();
    for (int half = kBlock / 2; half > 0; half >>= 1) {
        if (threadIdx.x < half) {
            s_sums[threadIdx.x] += s_sums[threadIdx.x + half];
        }
        __syncthreads();
    }
    return s_sums[0];
}

template <int CAP>
__device__ void rank_window_mean(const unsigned char* d_tile, int rows, int width, int lo, int hi, float* d_out,
                                 int* d_nonfinite) {
    int x = blockIdx.x * kBlock + threadIdx.x;
    if (x >= width) {
        return;
    }
    bool finite = true;
    d_out[x] = murmur::rank_window_mean_network<CAP>(TileColumn{d_tile, x}, rows, lo, hi, finite);
    report_nonfinite(finite, d_nonfinite);
}

}  // namespace

// d_out[x] = sum_r d_coeffs[r] * row_r[x] / divisor, in float64 in row order (fedavg, the mean,
// multikrum's and norm_clip_mean's combine). Grid: ceil(width / 256) blocks of 256.
extern "C" __global__ void __launch_bounds__(kBlock)
murmur_weighted_mean(const unsigned char* d_tile, int rows, int width, const double* d_coeffs,
                     double divisor, float* d_out, int* d_nonfinite) {
    int x = blockIdx.x * kBlock + threadIdx.x;
    if (x >= width) {
        return;
    }
    bool finite = true;
    d_out[x] = murmur::weighted_mean(TileColumn{d_tile, x}, rows, d_coeffs, divisor, finite);
    report_nonfinite(finite, d_nonfinite);
}

// d_out[x] = the mean of the values of ranks [lo, hi) of coordinate x (median: the middle one or
// two; trimmed_mean(k): [k, rows - k)), by a sorting network in registers for rows <= CAP.
// Grid: ceil(width / 256) blocks of 256.
#define MURMUR_RANK_WINDOW_MEAN(CAP)                                                                  \
    extern "C" __global__ void __launch_bounds__(kBlock) murmur_rank_window_mean_##CAP(                \
            const unsigned char* d_tile, int rows, int width, int lo, int hi, float* d_out, int* d_nonfinite) { \
        rank_window_mean<CAP>(d_tile, rows, width, lo, hi, d_out, d_nonfinite);                        \
    }
MURMUR_RANK_WINDOW_MEAN(8)
MURMUR_RANK_WINDOW_MEAN(16)
MURMUR_RANK_WINDOW_MEAN(32)
MURMUR_RANK_WINDOW_MEAN(64)

// The same for any number of rows, by radix selection (the path above 64 rows).
extern "C" __global__ void __launch_bounds__(kBlock)
murmur_rank_window_mean_radix(const unsigned char* d_tile, int rows, int width, int lo, int hi,
                              float* d_out, int* d_nonfinite) {
    int x = blockIdx.x * kBlock + threadIdx.x;
    if (x >= width) {
        return;
    }
    bool finite = true;
    d_out[x] = murmur::rank_window_mean_radix(TileColumn{d_tile, x}, rows, lo, hi, finite);
    report_nonfinite(finite, d_nonfinite);
}

// The number of splits of a tile: consecutive runs of coords_per_split coordinates.
__device__ __forceinline__ int split_count(int width, int coords_per_split) {
    return (width + coords_per_split - 1) / coords_per_split;
}

// d_partials[r * splits + s] = ||row_r[split s]||^2 in float64, where split s covers coordinates
// [s * coords_per_split, (s + 1) * coords_per_split). Grid: rows * splits blocks of 256, block b
// for row b / splits and split b % splits. Scratch: rows * splits doubles.
extern "C" __global__ void __launch_bounds__(kBlock)
murmur_squared_norms(const unsigned char* d_tile, int width, int coords_per_split, double* d_partials,
                     int* d_nonfinite) {
    int splits = split_count(width, coords_per_split);
    int row = blockIdx.x / splits;
    int split = blockIdx.x % splits;
    int begin = split * coords_per_split;
    int end = min(width, begin + coords_per_split);
    uint32_t row_descriptor = descriptor(d_tile, row);
    double acc = 0.0;
    bool finite = true;
    for (int x = begin + threadIdx.x; x < end; x += kBlock) {
        float v = murmur::load_element(d_tile, row_descriptor, x);
        finite &= murmur::is_finite(v);
        acc = murmur::accumulate_squared_difference(acc, v, 0.0f);
    }
    double total = block_sum(acc);
    if (threadIdx.x == 0) {
        d_partials[blockIdx.x] = total;
    }
    report_nonfinite(finite, d_nonfinite);
}

// Rows per side of a block of pairs: its 16 x 16 pairs, one per thread, share the loads of 32 rows.
constexpr int kPairRows = 16;
// Coordinates of the 32 rows held in shared memory at a time.
constexpr int kPairChunk = 32;
static_assert(kPairRows * kPairRows == kBlock, "one pair per thread");

// The index of the pair (i, j), i < j, in the upper triangle of a rows x rows matrix, row-major.
__device__ __forceinline__ int pair_index(int i, int j, int rows) { return i * rows - i * (i + 1) / 2 + (j - i - 1); }

// d_partials[pair_index(i, j) * splits + s] = ||row_i - row_j||^2 over split s (as for the norms),
// in float64, once per unordered pair i < j, so that d(i, j) and d(j, i) are the same bits.
// Grid: B (B + 1) / 2 * splits blocks of 256, B = ceil(rows / 16): block b for split b % splits of
// the block of pairs b / splits, which numbers the pairs of 16-row blocks (I, J), I <= J,
// row-major. Scratch: rows (rows - 1) / 2 * splits doubles.
extern "C" __global__ void __launch_bounds__(kBlock)
murmur_pair_distances(const unsigned char* d_tile, int rows, int width, int coords_per_split, double* d_partials,
                      int* d_nonfinite) {
    __shared__ float s_left[kPairRows][kPairChunk + 1];
    __shared__ float s_right[kPairRows][kPairChunk + 1];
    int splits = split_count(width, coords_per_split);
    int split = blockIdx.x % splits;
    int blocks = (rows + kPairRows - 1) / kPairRows;
    int first = 0;
    int b = blockIdx.x / splits;
    while (b >= blocks - first) {
        b -= blocks - first;
        first++;
    }
    int left_base = first * kPairRows;
    int right_base = (first + b) * kPairRows;
    int li = threadIdx.x / kPairRows;
    int rj = threadIdx.x % kPairRows;
    int begin = split * coords_per_split;
    int end = min(width, begin + coords_per_split);
    double acc = 0.0;
    bool finite = true;
    for (int chunk = begin; chunk < end; chunk += kPairChunk) {
        for (int e = threadIdx.x; e < kPairRows * kPairChunk; e += kBlock) {
            int r = e / kPairChunk;
            int c = e % kPairChunk;
            int x = chunk + c;
            float left = 0.0f;
            float right = 0.0f;
            if (x < end && left_base + r < rows) {
                left = murmur::load_element(d_tile, descriptor(d_tile, left_base + r), x);
            }
            if (x < end && right_base + r < rows) {
                right = murmur::load_element(d_tile, descriptor(d_tile, right_base + r), x);
            }
            finite &= murmur::is_finite(left) && murmur::is_finite(right);
            s_left[r][c] = left;
            s_right[r][c] = right;
        }
        __syncthreads();
#pragma unroll 8
        for (int c = 0; c < kPairChunk; c++) {
            acc = murmur::accumulate_squared_difference(acc, s_left[li][c], s_right[rj][c]);
        }
        __syncthreads();
    }
    int i = left_base + li;
    int j = right_base + rj;
    if (i < j && j < rows) {
        d_partials[static_cast<size_t>(pair_index(i, j, rows)) * splits + split] = acc;
    }
    report_nonfinite(finite, d_nonfinite);
}

// d_sums[i] += d_partials[i * splits + 0] + ... + d_partials[i * splits + splits - 1], added in
// split order. Grid: ceil(count / 256) blocks of 256.
extern "C" __global__ void __launch_bounds__(kBlock)
murmur_add_partials(const double* d_partials, int count, int splits, double* d_sums) {
    int i = blockIdx.x * kBlock + threadIdx.x;
    if (i >= count) {
        return;
    }
    double sum = d_sums[i];
    for (int s = 0; s < splits; s++) {
        sum += d_partials[static_cast<size_t>(i) * splits + s];
    }
    d_sums[i] = sum;
}
