/*
 * Memory READ bandwidth of this machine: the best of several passes summing a large array
 * (default 2 GiB, far beyond any cache) with T threads (default: all online CPUs).
 * Each thread first-touches and later reads its own contiguous slice. The sum is printed so the
 * compiler cannot drop the reads. Integer adds over 64-bit words vectorize without -ffast-math.
 *
 *   gcc -O3 -march=native -fopenmp membw.c -o membw && ./membw [GiB] [threads] [passes]
 *
 * Prints one JSON line: {"threads": T, "bytes": B, "best_gbps": X, "median_gbps": Y}.
 */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    double gib = argc > 1 ? atof(argv[1]) : 2.0;
    int threads = argc > 2 ? atoi(argv[2]) : omp_get_num_procs();
    int passes = argc > 3 ? atoi(argv[3]) : 10;
    if (gib < 2.0) {
        fprintf(stderr, "membw: buffer below 2 GiB would be too close to cache sizes\n");
    }
    if (threads < 1) threads = 1;
    if (passes < 1 || passes > 1000) passes = 10;
    omp_set_num_threads(threads);

    size_t words = (size_t)(gib * (1UL << 30)) / sizeof(uint64_t);
    uint64_t *a = aligned_alloc(4096, words * sizeof(uint64_t));
    if (!a) {
        fprintf(stderr, "membw: cannot allocate %.1f GiB\n", gib);
        return 1;
    }
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < words; i++) a[i] = i * 0x9E3779B97F4A7C15ULL + 1;

    double seconds[1000];
    uint64_t total = 0;
    for (int p = 0; p < passes; p++) {
        uint64_t sum = 0;
        double t0 = omp_get_wtime();
#pragma omp parallel for schedule(static) reduction(+ : sum)
        for (size_t i = 0; i < words; i++) sum += a[i];
        seconds[p] = omp_get_wtime() - t0;
        total += sum;
    }
    double bytes = (double)words * sizeof(uint64_t);
    qsort(seconds, passes, sizeof(double), cmp);
    printf("{\"threads\": %d, \"bytes\": %.0f, \"passes\": %d, \"best_gbps\": %.2f, \"median_gbps\": %.2f, \"checksum\": %llu}\n",
           threads, bytes, passes, bytes / seconds[0] / 1e9, bytes / seconds[passes / 2] / 1e9,
           (unsigned long long)(total & 0xffff));
    free(a);
    return 0;
}
