#ifndef GRPO_CKERNELS_H
#define GRPO_CKERNELS_H

#include <stdbool.h>

/// Whether this CPU (and the operating system) can run the AVX-512 kernels below (AVX-512 F).
bool grpo_cpu_has_avx512(void);
/// Whether it has the AVX-512 subsets OpenBLAS's `SkylakeX` kernels use (F, CD, BW, DQ, VL).
bool grpo_cpu_has_avx512_skylake(void);
/// Whether it has AVX2 and FMA (what OpenBLAS's `Haswell` kernels use).
bool grpo_cpu_has_avx2_fma(void);

/// C[m×(end−start)] (columns start..<end of C) = A[m×k] · W[start..<end, :]ᵀ + beta · C, with AVX-512, for few rows
/// (decoding: one row of A per sequence). Call only when `grpo_cpu_has_avx512()`.
void grpo_skinny_gemm_avx512(long m, long start, long end, long k, const float *a, long lda, const float *w, long ldw,
                             float beta, float *c, long ldc);

/// C[m×n] = alpha · op(A) · op(B) + beta · C, row-major, op(X) = Xᵀ when `transposeX`, single-threaded, with AVX-512
/// (`Sources/CKernels/GemmAVX512.c`). beta = 0 never reads C. Needs k > 0; call only when `grpo_cpu_has_avx512()`.
void grpo_gemm_avx512(bool transposeA, bool transposeB, long m, long n, long k, float alpha, const float *a, long lda,
                      const float *b, long ldb, float beta, float *c, long ldc);

/// B packed once and used by several products (attention's keys and values, multiplied block by block): the floats
/// a packed op(B)[depth × columns] takes, its packing (`packed` 64-byte aligned), and C[m×n] = alpha · A · op(B)[0..<k,
/// 0..<n] + beta · C for a row-major A and the first k ≤ `packedDepth` rows and n ≤ `columns` columns of a packed op(B).
/// Same arithmetic as `grpo_gemm_avx512` over one depth block. Call only when `grpo_cpu_has_avx512()`.
long grpo_gemm_avx512_packed_b_floats(long depth, long columns);
void grpo_gemm_avx512_pack_b(bool transposeB, long depth, long columns, const float *b, long ldb, float *packed);
void grpo_gemm_avx512_with_packed_b(long m, long n, long k, float alpha, const float *a, long lda, const float *packed,
                                    long packedDepth, float beta, float *c, long ldc);

/// Single-precision GFLOP/s of this thread running only independent fused multiply-adds for `seconds`, with the
/// widest vectors the CPU has (AVX-512, else AVX2 + FMA; 0 on CPUs with neither): the momentary ceiling of a
/// matrix product on this core.
double grpo_fma_peak_gflops(double seconds);

/// A spin-wait hint (x86 `pause`, Arm `yield`) for a worker waiting on the next parallel region: it frees the
/// core's shared resources for the other hyperthread and saves power. Swift has no spelling for it.
static inline void grpo_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// Asks for the cache line at `address` to be brought into L2 (x86 `prefetcht1`); never faults. Swift has no
/// spelling for it either.
static inline void grpo_prefetch_l2(const void *address) { __builtin_prefetch(address, 0, 2); }

#endif
