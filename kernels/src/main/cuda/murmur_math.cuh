// The per-coordinate arithmetic of Murmur's CUDA kernels, as __host__ __device__ inline functions,
// so that the host check (src/test/cuda/murmur_math_check.cu) runs exactly the code the kernels
// run and compares it with the Java implementation. Everything here mirrors a Java method:
// ElementType.f16ToFloat / bf16ToFloat, TileKernels.sortableKey, and the float64 row sums of
// ScalarKernels.rowSums (one multiply and one add per row, in row order, never fused: the fatbin
// is built with -fmad=false and the host check with -ffp-contract=off).
#pragma once

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#ifndef __CUDACC__
// Compiled as plain C++ (the CPU emulation of the kernels, src/test/cuda): the CUDA keywords go.
#define __host__
#define __device__
#define __forceinline__ inline
#endif

#define MURMUR_HD __host__ __device__ __forceinline__

namespace murmur {

// Element types of a staged row: the ordinals of org.murmur.kernels.api.ElementType.
enum ElementCode : uint32_t { kF32 = 0, kF16 = 1, kBF16 = 2 };

// A staged tile (written by org.murmur.kernels.cuda.TileStager) begins with one descriptor per
// row, then holds each row at a 16-byte aligned byte offset from the start of the tile; a
// descriptor is that offset with the row's element code in its low 4 bits.
constexpr uint32_t kRowAlignment = 16;

MURMUR_HD uint32_t row_offset(uint32_t descriptor) { return descriptor & ~(kRowAlignment - 1); }
MURMUR_HD uint32_t row_code(uint32_t descriptor) { return descriptor & (kRowAlignment - 1); }

MURMUR_HD float float_from_bits(uint32_t bits) {
#ifdef __CUDA_ARCH__
    return __uint_as_float(bits);
#else
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
#endif
}

MURMUR_HD uint32_t bits_from_float(float f) {
#ifdef __CUDA_ARCH__
    return __float_as_uint(f);
#else
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
#endif
}

// bfloat16 is the upper half of a float32.
MURMUR_HD float bf16_to_float(uint16_t h) { return float_from_bits(static_cast<uint32_t>(h) << 16); }

// IEEE binary16 to float32, exact: subnormals, infinities and NaN included.
MURMUR_HD float f16_to_float(uint16_t h) {
    uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0x1f) {
        return float_from_bits(sign | 0x7f800000u | (mantissa << 13));
    }
    if (exponent == 0) {
        if (mantissa == 0) {
            return float_from_bits(sign);
        }
        float magnitude = static_cast<float>(mantissa) * 0x1p-24f;  // exact in float32
        return sign == 0 ? magnitude : -magnitude;
    }
    return float_from_bits(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

// Element x of the staged row described by `descriptor`, decoded to float32.
MURMUR_HD float load_element(const unsigned char* tile, uint32_t descriptor, int x) {
    const unsigned char* row = tile + row_offset(descriptor);
    switch (row_code(descriptor)) {
        case kF16: return f16_to_float(reinterpret_cast<const uint16_t*>(row)[x]);
        case kBF16: return bf16_to_float(reinterpret_cast<const uint16_t*>(row)[x]);
        default: return reinterpret_cast<const float*>(row)[x];
    }
}

// False for NaN and both infinities.
MURMUR_HD bool is_finite(float v) { return fabsf(v) <= FLT_MAX; }

// Float bits to an int of the same order (for non-NaN values, -0.0 below +0.0); its own inverse.
MURMUR_HD int32_t sortable_key(uint32_t bits) {
    int32_t b = static_cast<int32_t>(bits);
    return b ^ ((b >> 31) & 0x7fffffff);
}

MURMUR_HD int32_t key_of(float v) { return sortable_key(bits_from_float(v)); }
MURMUR_HD float value_of_key(int32_t key) { return float_from_bits(static_cast<uint32_t>(sortable_key(static_cast<uint32_t>(key)))); }

// Above every key of a finite float: fills the unused slots of a sorting network.
constexpr int32_t kPaddingKey = 0x7fffffff;

// The smaller key to `low`, the larger to `high`.
MURMUR_HD void compare_exchange(int32_t& low, int32_t& high) {
    int32_t a = low;
    int32_t b = high;
    low = a < b ? a : b;
    high = a < b ? b : a;
}

// One step of a float64 row sum: acc + coeff * v, rounded twice as Java rounds `acc += c * v`.
MURMUR_HD double accumulate(double acc, double coeff, float v) { return acc + coeff * static_cast<double>(v); }

// One step of a float64 squared distance: acc + (a - b)^2, as ScalarKernels.squaredDistance.
MURMUR_HD double accumulate_squared_difference(double acc, float a, float b) {
    double d = static_cast<double>(a) - static_cast<double>(b);
    return acc + d * d;
}

// sum_r coeffs[r] * column(r) / divisor in float64, rounded to float32; `finite` is cleared when
// a value is NaN or infinite. Bit-identical to the CPU backend's weighted sums.
template <class Column>
MURMUR_HD float weighted_mean(const Column& column, int rows, const double* coeffs, double divisor, bool& finite) {
    double acc = 0.0;
    for (int r = 0; r < rows; r++) {
        float v = column(r);
        finite &= is_finite(v);
        acc = accumulate(acc, coeffs[r], v);
    }
    return static_cast<float>(acc / divisor);
}

// Bitonic sort of CAP keys held in registers: every index is a compile-time constant once the
// loops are unrolled, so nothing spills to local memory.
template <int CAP>
MURMUR_HD void bitonic_sort(int32_t (&keys)[CAP]) {
    static_assert((CAP & (CAP - 1)) == 0, "CAP must be a power of two");
#pragma unroll
    for (int size = 2; size <= CAP; size <<= 1) {
#pragma unroll
        for (int stride = size >> 1; stride > 0; stride >>= 1) {
#pragma unroll
            for (int i = 0; i < CAP; i++) {
                int partner = i ^ stride;
                if (partner > i) {
                    if ((i & size) == 0) {
                        compare_exchange(keys[i], keys[partner]);
                    } else {
                        compare_exchange(keys[partner], keys[i]);
                    }
                }
            }
        }
    }
}

// The mean of the values of ranks [lo, hi) of rows <= CAP values, summed in rank order in
// float64: a sorting network in registers. Rows past `rows` are padding that sorts last.
template <int CAP, class Column>
MURMUR_HD float rank_window_mean_network(const Column& column, int rows, int lo, int hi, bool& finite) {
    int32_t keys[CAP];
#pragma unroll
    for (int r = 0; r < CAP; r++) {
        if (r < rows) {
            float v = column(r);
            finite &= is_finite(v);
            keys[r] = key_of(v);
        } else {
            keys[r] = kPaddingKey;
        }
    }
    bitonic_sort<CAP>(keys);
    double acc = 0.0;
#pragma unroll
    for (int i = 0; i < CAP; i++) {
        if (i >= lo && i < hi) {
            acc = accumulate(acc, 1.0, value_of_key(keys[i]));
        }
    }
    return static_cast<float>(acc / static_cast<double>(hi - lo));
}

// The key of rank `rank` (0-based, ascending) among rows keys, by a most-significant-bit-first
// radix selection: 32 counting passes over the column, no scratch memory, any number of rows.
template <class Column>
MURMUR_HD int32_t select_key(const Column& column, int rows, int rank) {
    uint32_t prefix = 0;  // the bits decided so far, in unsigned order (key ^ 0x80000000)
    for (int bit = 31; bit >= 0; bit--) {
        uint32_t above = ~0u << bit << 1;
        uint32_t here = 1u << bit;
        int zeros = 0;
        for (int r = 0; r < rows; r++) {
            uint32_t u = static_cast<uint32_t>(key_of(column(r))) ^ 0x80000000u;
            zeros += (u & above) == prefix && (u & here) == 0;
        }
        if (rank >= zeros) {
            rank -= zeros;
            prefix |= here;
        }
    }
    return static_cast<int32_t>(prefix ^ 0x80000000u);
}

// The mean of the values of ranks [lo, hi) for any number of rows, summed in float64 in row
// order; equal keys are ranked by row (a stable sort). The general path above the networks.
template <class Column>
MURMUR_HD float rank_window_mean_radix(const Column& column, int rows, int lo, int hi, bool& finite) {
    for (int r = 0; r < rows; r++) {
        finite &= is_finite(column(r));
    }
    int32_t first = select_key(column, rows, lo);
    int32_t last = select_key(column, rows, hi - 1);
    int below_first = 0;
    int below_last = 0;
    for (int r = 0; r < rows; r++) {
        int32_t k = key_of(column(r));
        below_first += k < first;
        below_last += k < last;
    }
    int equal_first = 0;
    int equal_last = 0;
    double acc = 0.0;
    for (int r = 0; r < rows; r++) {
        float v = column(r);
        int32_t k = key_of(v);
        bool inside;
        if (k == first) {
            int rank = below_first + equal_first++;
            inside = rank >= lo && rank < hi;
        } else if (k == last) {
            inside = below_last + equal_last++ < hi;
        } else {
            inside = k > first && k < last;
        }
        if (inside) {
            acc = accumulate(acc, 1.0, v);
        }
    }
    return static_cast<float>(acc / static_cast<double>(hi - lo));
}

}  // namespace murmur
