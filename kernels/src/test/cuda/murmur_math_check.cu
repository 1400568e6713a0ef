// A host program that runs the __host__ __device__ functions of murmur_math.cuh, for
// CudaHostMathTest to compare with the Java implementation. It reads one request per line on
// stdin and writes one answer per line on stdout; every number is hexadecimal bits (16 for an
// F16/BF16 pattern, 32 for a float or key, 64 for a double):
//
//   f16 H | bf16 H              -> the float decoded from pattern H
//   key F                       -> sortable_key(F) and value_of_key of that key
//   exchange A B                -> compare_exchange(A, B)
//   sort K...                   -> bitonic_sort of the keys, padded to the smallest CAP of 8..64
//   weighted N C... D V...      -> weighted_mean of N floats V with coefficients C and divisor D, finite
//   rank N LO HI V...           -> rank_window_mean_network (or "-" above 64 rows), _radix, finite
//   distance N A... B...        -> the float64 sum of accumulate_squared_difference over A and B
//   tile ROWS WIDTH BYTES       -> load_element of every row and coordinate of a staged tile
//                                  (BYTES: the tile as one hexadecimal string), row after row
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "murmur_math.cuh"

namespace {

struct ArrayColumn {
    const float* values;
    __host__ __device__ float operator()(int r) const { return values[r]; }
};

uint64_t next(std::istringstream& in) {
    std::string token;
    in >> token;
    return strtoull(token.c_str(), nullptr, 16);
}

float next_float(std::istringstream& in) { return murmur::float_from_bits(static_cast<uint32_t>(next(in))); }

double next_double(std::istringstream& in) {
    uint64_t bits = next(in);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

uint64_t double_bits(double d) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return bits;
}

template <int CAP>
void sort_padded(std::vector<int32_t>& keys) {
    int32_t registers[CAP];
    for (int i = 0; i < CAP; i++) {
        registers[i] = i < static_cast<int>(keys.size()) ? keys[i] : murmur::kPaddingKey;
    }
    murmur::bitonic_sort<CAP>(registers);
    for (size_t i = 0; i < keys.size(); i++) {
        keys[i] = registers[i];
    }
}

template <int CAP>
float network(const std::vector<float>& v, int lo, int hi, bool& finite) {
    return murmur::rank_window_mean_network<CAP>(ArrayColumn{v.data()}, static_cast<int>(v.size()), lo, hi, finite);
}

// The network a kernel launch would choose: the smallest CAP that holds the rows.
bool network_mean(const std::vector<float>& v, int lo, int hi, bool& finite, float& out) {
    size_t n = v.size();
    if (n <= 8) {
        out = network<8>(v, lo, hi, finite);
    } else if (n <= 16) {
        out = network<16>(v, lo, hi, finite);
    } else if (n <= 32) {
        out = network<32>(v, lo, hi, finite);
    } else if (n <= 64) {
        out = network<64>(v, lo, hi, finite);
    } else {
        return false;
    }
    return true;
}

void answer(const std::string& line) {
    std::istringstream in(line);
    std::string command;
    in >> command;
    if (command == "f16" || command == "bf16") {
        uint16_t h = static_cast<uint16_t>(next(in));
        float f = command == "f16" ? murmur::f16_to_float(h) : murmur::bf16_to_float(h);
        printf("%08x\n", murmur::bits_from_float(f));
    } else if (command == "key") {
        int32_t key = murmur::key_of(next_float(in));
        printf("%08x %08x\n", static_cast<uint32_t>(key), murmur::bits_from_float(murmur::value_of_key(key)));
    } else if (command == "exchange") {
        int32_t a = static_cast<int32_t>(next(in));
        int32_t b = static_cast<int32_t>(next(in));
        murmur::compare_exchange(a, b);
        printf("%08x %08x\n", static_cast<uint32_t>(a), static_cast<uint32_t>(b));
    } else if (command == "sort") {
        std::vector<int32_t> keys;
        std::string token;
        while (in >> token) {
            keys.push_back(static_cast<int32_t>(strtoull(token.c_str(), nullptr, 16)));
        }
        if (keys.size() <= 8) {
            sort_padded<8>(keys);
        } else if (keys.size() <= 16) {
            sort_padded<16>(keys);
        } else if (keys.size() <= 32) {
            sort_padded<32>(keys);
        } else {
            sort_padded<64>(keys);
        }
        for (size_t i = 0; i < keys.size(); i++) {
            printf(i == 0 ? "%08x" : " %08x", static_cast<uint32_t>(keys[i]));
        }
        printf("\n");
    } else if (command == "weighted") {
        int n = static_cast<int>(next(in));
        std::vector<double> coeffs(n);
        for (double& c : coeffs) {
            c = next_double(in);
        }
        double divisor = next_double(in);
        std::vector<float> values(n);
        for (float& v : values) {
            v = next_float(in);
        }
        bool finite = true;
        float mean = murmur::weighted_mean(ArrayColumn{values.data()}, n, coeffs.data(), divisor, finite);
        printf("%08x %d\n", murmur::bits_from_float(mean), finite ? 1 : 0);
    } else if (command == "rank") {
        int n = static_cast<int>(next(in));
        int lo = static_cast<int>(next(in));
        int hi = static_cast<int>(next(in));
        std::vector<float> values(n);
        for (float& v : values) {
            v = next_float(in);
        }
        bool finite = true;
        float by_network;
        if (network_mean(values, lo, hi, finite, by_network)) {
            printf("%08x ", murmur::bits_from_float(by_network));
        } else {
            printf("- ");
        }
        float by_radix = murmur::rank_window_mean_radix(ArrayColumn{values.data()}, n, lo, hi, finite);
        printf("%08x %d\n", murmur::bits_from_float(by_radix), finite ? 1 : 0);
    } else if (command == "distance") {
        int n = static_cast<int>(next(in));
        std::vector<float> a(n);
        for (float& v : a) {
            v = next_float(in);
        }
        double acc = 0.0;
        for (int x = 0; x < n; x++) {
            acc = murmur::accumulate_squared_difference(acc, a[x], next_float(in));
        }
        printf("%016llx\n", static_cast<unsigned long long>(double_bits(acc)));
    } else if (command == "tile") {
        int rows = static_cast<int>(next(in));
        int width = static_cast<int>(next(in));
        std::string hex;
        in >> hex;
        // Held in uint32_t words so that the rows are as aligned as in a device buffer.
        std::vector<uint32_t> words((hex.size() / 2 + 3) / 4);
        unsigned char* tile = reinterpret_cast<unsigned char*>(words.data());
        for (size_t i = 0; i + 1 < hex.size(); i += 2) {
            tile[i / 2] = static_cast<unsigned char>(strtoul(hex.substr(i, 2).c_str(), nullptr, 16));
        }
        const uint32_t* descriptors = words.data();
        for (int r = 0; r < rows; r++) {
            for (int x = 0; x < width; x++) {
                float v = murmur::load_element(tile, descriptors[r], x);
                printf(r == 0 && x == 0 ? "%08x" : " %08x", murmur::bits_from_float(v));
            }
        }
        printf("\n");
    } else {
        fprintf(stderr, "unknown request: %s\n", line.c_str());
        exit(2);
    }
}

}  // namespace

int main() {
    std::string line;
    while (std::getline(std::cin, line)) {
        answer(line);
    }
    return 0;
}
