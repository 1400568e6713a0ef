// A CPU emulation of the part of the CUDA driver API that org.murmur.kernels.cuda.CudaDriver
// calls, and of the kernels of murmur_kernels.cu, built as libcuda.so.1 (build.sh) so that
// JCuda's driver library loads it where there is no NVIDIA driver. The kernels module's
// "cuda-emulated" test run puts it on LD_LIBRARY_PATH and runs the CUDA suites through the whole
// Java side: JCuda's calls, the staging ring, kernel names (looked up in the real fatbin), launch
// shapes and arguments, scratch layouts and the host's combine. It refuses what a device would
// refuse: copies and kernel writes outside an allocation, empty grids, blocks other than 256
// threads.
//
// What it cannot show: the device code itself (each kernel here is a loop over the same
// murmur_math.cuh functions, not the CUDA code with its threads and shared memory), and races
// between streams (all work runs at once on the calling thread).
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <map>
#include <mutex>
#include <string>

#include "murmur_math.cuh"

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct Handle* CUcontext;
typedef struct Handle* CUmodule;
typedef struct Handle* CUstream;
typedef struct Handle* CUevent;
typedef const struct Kernel* CUfunction;

struct Handle {
    std::string image;  // a module's fatbin
};

namespace {

constexpr CUresult kSuccess = 0;
constexpr CUresult kInvalidValue = 1;
constexpr CUresult kOutOfMemory = 2;
constexpr CUresult kInvalidImage = 200;
constexpr CUresult kNotFound = 500;
constexpr CUresult kIllegalAddress = 700;

constexpr int kBlock = 256;
constexpr int kPairRows = 16;
constexpr uint32_t kFatbinMagic = 0xba55ed50u;

std::mutex allocations_lock;
std::map<uintptr_t, size_t> allocations;  // device memory: start -> bytes

// Whether [p, p + bytes) lies inside one device allocation.
bool on_device(const void* p, size_t bytes) {
    std::lock_guard<std::mutex> guard(allocations_lock);
    uintptr_t start = reinterpret_cast<uintptr_t>(p);
    auto it = allocations.upper_bound(start);
    if (it == allocations.begin()) {
        return false;
    }
    --it;
    return start >= it->first && start + bytes <= it->first + it->second;
}

struct Launch {
    unsigned blocks;
    void** params;

    template <class T>
    T arg(int i) const {
        T value;
        memcpy(&value, params[i], sizeof value);
        return value;
    }
};

// The column of a staged tile at one coordinate, as the kernels' TileColumn.
struct TileColumn {
    const unsigned char* tile;
    int x;

    __host__ __device__ float operator()(int r) const {
        return murmur::load_element(tile, reinterpret_cast<const uint32_t*>(tile)[r], x);
    }
};

int covered(const Launch& launch, int width) {
    long long threads = static_cast<long long>(launch.blocks) * kBlock;
    return static_cast<int>(threads < width ? threads : width);
}

int split_count(int width, int coords_per_split) { return (width + coords_per_split - 1) / coords_per_split; }

CUresult weighted_mean(const Launch& l) {
    auto tile = l.arg<const unsigned char*>(0);
    int rows = l.arg<int>(1);
    int width = l.arg<int>(2);
    auto coeffs = l.arg<const double*>(3);
    double divisor = l.arg<double>(4);
    auto out = l.arg<float*>(5);
    auto nonfinite = l.arg<int*>(6);
    int end = covered(l, width);
    if (!on_device(tile, 4u * rows) || !on_device(coeffs, 8u * rows) || !on_device(out, 4u * end) || !on_device(nonfinite, 4)) {
        return kIllegalAddress;
    }
    for (int x = 0; x < end; x++) {
        bool finite = true;
        out[x] = murmur::weighted_mean(TileColumn{tile, x}, rows, coeffs, divisor, finite);
        *nonfinite |= finite ? 0 : 1;
    }
    return kSuccess;
}

template <int CAP>
CUresult rank_window_mean_network(const Launch& l) {
    auto tile = l.arg<const unsigned char*>(0);
    int rows = l.arg<int>(1);
    int width = l.arg<int>(2);
    int lo = l.arg<int>(3);
    int hi = l.arg<int>(4);
    auto out = l.arg<float*>(5);
    auto nonfinite = l.arg<int*>(6);
    int end = covered(l, width);
    if (!on_device(tile, 4u * rows) || !on_device(out, 4u * end) || !on_device(nonfinite, 4)) {
        return kIllegalAddress;
    }
    for (int x = 0; x < end; x++) {
        bool finite = true;
        out[x] = murmur::rank_window_mean_network<CAP>(TileColumn{tile, x}, rows, lo, hi, finite);
        *nonfinite |= finite ? 0 : 1;
    }
    return kSuccess;
}

CUresult rank_window_mean_radix(const Launch& l) {
    auto tile = l.arg<const unsigned char*>(0);
    int rows = l.arg<int>(1);
    int width = l.arg<int>(2);
    int lo = l.arg<int>(3);
    int hi = l.arg<int>(4);
    auto out = l.arg<float*>(5);
    auto nonfinite = l.arg<int*>(6);
    int end = covered(l, width);
    if (!on_device(tile, 4u * rows) || !on_device(out, 4u * end) || !on_device(nonfinite, 4)) {
        return kIllegalAddress;
    }
    for (int x = 0; x < end; x++) {
        bool finite = true;
        out[x] = murmur::rank_window_mean_radix(TileColumn{tile, x}, rows, lo, hi, finite);
        *nonfinite |= finite ? 0 : 1;
    }
    return kSuccess;
}

CUresult squared_norms(const Launch& l) {
    auto tile = l.arg<const unsigned char*>(0);
    int width = l.arg<int>(1);
    int coords_per_split = l.arg<int>(2);
    auto partials = l.arg<double*>(3);
    auto nonfinite = l.arg<int*>(4);
    int splits = split_count(width, coords_per_split);
    if (!on_device(partials, 8u * l.blocks) || !on_device(nonfinite, 4)) {
        return kIllegalAddress;
    }
    for (unsigned b = 0; b < l.blocks; b++) {
        int row = static_cast<int>(b) / splits;
        int begin = static_cast<int>(b) % splits * coords_per_split;
        int end = begin + coords_per_split < width ? begin + coords_per_split : width;
        if (!on_device(tile, 4u * (row + 1))) {
            return kIllegalAddress;
        }
        double acc = 0.0;
        for (int x = begin; x < end; x++) {
            float v = TileColumn{tile, x}(row);
            *nonfinite |= murmur::is_finite(v) ? 0 : 1;
            acc = murmur::accumulate_squared_difference(acc, v, 0.0f);
        }
        partials[b] = acc;
    }
    return kSuccess;
}

CUresult pair_distances(const Launch& l) {
    auto tile = l.arg<const unsigned char*>(0);
    int rows = l.arg<int>(1);
    int width = l.arg<int>(2);
    int coords_per_split = l.arg<int>(3);
    auto partials = l.arg<double*>(4);
    auto nonfinite = l.arg<int*>(5);
    int splits = split_count(width, coords_per_split);
    size_t pairs = static_cast<size_t>(rows) * (rows - 1) / 2;
    if (!on_device(tile, 4u * rows) || !on_device(partials, 8 * pairs * splits) || !on_device(nonfinite, 4)) {
        return kIllegalAddress;
    }
    int blocks = (rows + kPairRows - 1) / kPairRows;
    for (unsigned block = 0; block < l.blocks; block++) {
        int split = static_cast<int>(block) % splits;
        int b = static_cast<int>(block) / splits;
        int first = 0;
        while (b >= blocks - first) {
            b -= blocks - first;
            first++;
        }
        int begin = split * coords_per_split;
        int end = begin + coords_per_split < width ? begin + coords_per_split : width;
        for (int li = 0; li < kPairRows; li++) {
            for (int rj = 0; rj < kPairRows; rj++) {
                int i = first * kPairRows + li;
                int j = (first + b) * kPairRows + rj;
                if (i < j && j < rows) {
                    double acc = 0.0;
                    for (int x = begin; x < end; x++) {
                        float a = TileColumn{tile, x}(i);
                        float c = TileColumn{tile, x}(j);
                        *nonfinite |= murmur::is_finite(a) && murmur::is_finite(c) ? 0 : 1;
                        acc = murmur::accumulate_squared_difference(acc, a, c);
                    }
                    size_t pair = static_cast<size_t>(i) * rows - static_cast<size_t>(i) * (i + 1) / 2 + (j - i - 1);
                    partials[pair * splits + split] = acc;
                }
            }
        }
    }
    return kSuccess;
}

CUresult add_partials(const Launch& l) {
    auto partials = l.arg<const double*>(0);
    int count = l.arg<int>(1);
    int splits = l.arg<int>(2);
    auto sums = l.arg<double*>(3);
    int end = covered(l, count);
    if (!on_device(partials, 8u * end * splits) || !on_device(sums, 8u * end)) {
        return kIllegalAddress;
    }
    for (int i = 0; i < end; i++) {
        double sum = sums[i];
        for (int s = 0; s < splits; s++) {
            sum += partials[static_cast<size_t>(i) * splits + s];
        }
        sums[i] = sum;
    }
    return kSuccess;
}

}  // namespace

struct Kernel {
    const char* name;
    CUresult (*run)(const Launch&);
};

namespace {

const Kernel kKernels[] = {
    {"murmur_weighted_mean", weighted_mean},
    {"murmur_rank_window_mean_8", rank_window_mean_network<8>},
    {"murmur_rank_window_mean_16", rank_window_mean_network<16>},
    {"murmur_rank_window_mean_32", rank_window_mean_network<32>},
    {"murmur_rank_window_mean_64", rank_window_mean_network<64>},
    {"murmur_rank_window_mean_radix", rank_window_mean_radix},
    {"murmur_squared_norms", squared_norms},
    {"murmur_pair_distances", pair_distances},
    {"murmur_add_partials", add_partials},
};

Handle the_context;
Handle the_stream_or_event;

}  // namespace

extern "C" {

CUresult cuInit(unsigned int) { return kSuccess; }

CUresult cuDriverGetVersion(int* version) {
    *version = 13000;
    return kSuccess;
}

CUresult cuDeviceGetCount(int* count) {
    *count = 1;
    return kSuccess;
}

CUresult cuDeviceGet(CUdevice* device, int ordinal) {
    *device = ordinal;
    return ordinal == 0 ? kSuccess : kInvalidValue;
}

CUresult cuDeviceGetName(char* name, int length, CUdevice) {
    strncpy(name, "Murmur's CPU emulation of a CUDA device", length - 1);
    name[length - 1] = '\0';
    return kSuccess;
}

CUresult cuDeviceGetAttribute(int* value, int attribute, CUdevice) {
    // 75: CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 76: _MINOR.
    *value = attribute == 75 ? 9 : 0;
    return kSuccess;
}

CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice) {
    *bytes = size_t{16} << 30;
    return kSuccess;
}

CUresult cuDevicePrimaryCtxRetain(CUcontext* context, CUdevice) {
    *context = &the_context;
    return kSuccess;
}

CUresult cuDevicePrimaryCtxRelease_v2(CUdevice) { return kSuccess; }

CUresult cuCtxSetCurrent(CUcontext) { return kSuccess; }

CUresult cuModuleLoadData(CUmodule* module, const void* image) {
    uint32_t magic;
    memcpy(&magic, image, sizeof magic);
    if (magic != kFatbinMagic) {
        return kInvalidImage;
    }
    uint64_t size;  // the fatbin header: magic, version, header size (4 + 2 + 2 bytes), then the payload size
    memcpy(&size, static_cast<const char*>(image) + 8, sizeof size);
    *module = new Handle{std::string(static_cast<const char*>(image), 16 + size)};
    return kSuccess;
}

CUresult cuModuleGetFunction(CUfunction* function, CUmodule module, const char* name) {
    std::string symbol = std::string(name) + '\0';
    if (module->image.find(symbol) == std::string::npos) {
        return kNotFound;  // not a kernel of the real fatbin
    }
    for (const Kernel& kernel : kKernels) {
        if (strcmp(kernel.name, name) == 0) {
            *function = &kernel;
            return kSuccess;
        }
    }
    return kNotFound;
}

CUresult cuModuleUnload(CUmodule module) {
    delete module;
    return kSuccess;
}

CUresult cuMemAlloc_v2(CUdeviceptr* pointer, size_t bytes) {
    void* memory = malloc(bytes);
    if (memory == nullptr) {
        return kOutOfMemory;
    }
    std::lock_guard<std::mutex> guard(allocations_lock);
    allocations[reinterpret_cast<uintptr_t>(memory)] = bytes;
    *pointer = reinterpret_cast<uintptr_t>(memory);
    return kSuccess;
}

CUresult cuMemFree_v2(CUdeviceptr pointer) {
    std::lock_guard<std::mutex> guard(allocations_lock);
    if (allocations.erase(pointer) != 1) {
        return kInvalidValue;
    }
    free(reinterpret_cast<void*>(pointer));
    return kSuccess;
}

CUresult cuMemHostAlloc(void** pointer, size_t bytes, unsigned int) {
    *pointer = aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
    return *pointer == nullptr ? kOutOfMemory : kSuccess;
}

CUresult cuMemFreeHost(void* pointer) {
    free(pointer);
    return kSuccess;
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, CUstream) {
    if (!on_device(reinterpret_cast<void*>(dst), bytes)) {
        return kInvalidValue;
    }
    memcpy(reinterpret_cast<void*>(dst), src, bytes);
    return kSuccess;
}

CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, CUstream) {
    if (!on_device(reinterpret_cast<void*>(src), bytes)) {
        return kInvalidValue;
    }
    memcpy(dst, reinterpret_cast<void*>(src), bytes);
    return kSuccess;
}

CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t bytes) { return cuMemcpyDtoHAsync_v2(dst, src, bytes, nullptr); }

CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t bytes, CUstream) {
    if (!on_device(reinterpret_cast<void*>(dst), bytes)) {
        return kInvalidValue;
    }
    memset(reinterpret_cast<void*>(dst), value, bytes);
    return kSuccess;
}

CUresult cuStreamCreate(CUstream* stream, unsigned int) {
    *stream = &the_stream_or_event;
    return kSuccess;
}

CUresult cuStreamWaitEvent(CUstream, CUevent, unsigned int) { return kSuccess; }
CUresult cuStreamSynchronize(CUstream) { return kSuccess; }
CUresult cuStreamDestroy_v2(CUstream) { return kSuccess; }

CUresult cuEventCreate(CUevent* event, unsigned int) {
    *event = &the_stream_or_event;
    return kSuccess;
}

CUresult cuEventRecord(CUevent, CUstream) { return kSuccess; }
CUresult cuEventSynchronize(CUevent) { return kSuccess; }
CUresult cuEventDestroy_v2(CUevent) { return kSuccess; }

CUresult cuLaunchKernel(CUfunction function, unsigned grid_x, unsigned grid_y, unsigned grid_z, unsigned block_x,
                        unsigned block_y, unsigned block_z, unsigned shared_bytes, CUstream, void** params, void** extra) {
    if (grid_x == 0 || grid_y != 1 || grid_z != 1 || block_x != kBlock || block_y != 1 || block_z != 1 || shared_bytes != 0
            || params == nullptr || extra != nullptr) {
        return kInvalidValue;
    }
    return function->run(Launch{grid_x, params});
}

}  // extern "C"
