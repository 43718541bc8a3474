// The machine's momentary floating-point ceiling: independent fused multiply-add chains with nothing else in the
// loop, the most a matrix product could reach on this core right now. Benchmarks report their GFLOP/s against it,
// because on a shared virtual machine the ceiling itself moves (up to 1.4× within minutes on ours).
#include "CKernels.h"
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// 12 chains: more than FMA latency (4 cycles) × FMA ports (2) so that the ports never wait on a result.
#define CHAINS 12
#define ROUNDS 4096

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f"))) static double peakAVX512(double seconds) {
    __m512 sums[CHAINS], factor = _mm512_set1_ps(0.999999f), addend = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) sums[i] = _mm512_set1_ps(1.0f + i);
    long rounds = 0;
    double start = now(), elapsed;
    do {
        for (int r = 0; r < ROUNDS; r++)
            for (int i = 0; i < CHAINS; i++) sums[i] = _mm512_fmadd_ps(sums[i], factor, addend);
        rounds += ROUNDS;
        elapsed = now() - start;
    } while (elapsed < seconds);
    float total = 0;
    for (int i = 0; i < CHAINS; i++) total += _mm512_reduce_add_ps(sums[i]);
    __asm__ __volatile__("" : : "x"(total)); // the chains must be computed
    return rounds * (double)CHAINS * 16 * 2 / elapsed / 1e9;
}

__attribute__((target("avx2,fma"))) static double peakAVX2(double seconds) {
    __m256 sums[CHAINS], factor = _mm256_set1_ps(0.999999f), addend = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < CHAINS; i++) sums[i] = _mm256_set1_ps(1.0f + i);
    long rounds = 0;
    double start = now(), elapsed;
    do {
        for (int r = 0; r < ROUNDS; r++)
            for (int i = 0; i < CHAINS; i++) sums[i] = _mm256_fmadd_ps(sums[i], factor, addend);
        rounds += ROUNDS;
        elapsed = now() - start;
    } while (elapsed < seconds);
    float lanes[8], total = 0;
    for (int i = 0; i < CHAINS; i++) {
        _mm256_storeu_ps(lanes, sums[i]);
        for (int j = 0; j < 8; j++) total += lanes[j];
    }
    __asm__ __volatile__("" : : "x"(total));
    return rounds * (double)CHAINS * 8 * 2 / elapsed / 1e9;
}

double grpo_fma_peak_gflops(double seconds) {
    if (grpo_cpu_has_avx512()) return peakAVX512(seconds);
    if (grpo_cpu_has_avx2_fma()) return peakAVX2(seconds);
    return 0;
}

#else

double grpo_fma_peak_gflops(double seconds) { return 0; }

#endif
