// The decode-shaped product of Tensors' SkinnyGemm with 512-bit vectors, chosen at run time on CPUs that have them.
// Swift compiles the package for one target CPU (AVX2 + FMA, so that it runs on any x86-64 of the last decade);
// a C function can carry its own target attribute, so this file holds the AVX-512 variant.
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx512f"), always_inline)) static inline

TARGET void store(float value, float *c, float beta) { *c = beta == 0 ? value : value + beta * *c; }

// Lanes (x0 + x1, x2 + x3, y0 + y1, y2 + y3) of the 128-bit lanes x0..x3 of x and y0..y3 of y.
TARGET __m512 addLanePairs(__m512 x, __m512 y) {
    return _mm512_add_ps(_mm512_shuffle_f32x4(x, y, 0x88), _mm512_shuffle_f32x4(x, y, 0xDD));
}

// The 16 sums of a 4 × 4 tile reduced together: pairs, then quadruples within each 128-bit lane, then across
// lanes, so that lane i of the result holds row i's 4 sums (45 shuffles and adds instead of 16 separate reductions).
TARGET void storeSums4x4(__m512 sums[4][4], float beta, float *c, long ldc) {
    __m512 pairs[8], quads[4];
    for (int t = 0; t < 8; t++) {
        __m512 x = sums[(2 * t) / 4][(2 * t) % 4], y = sums[(2 * t + 1) / 4][(2 * t + 1) % 4];
        pairs[t] = _mm512_add_ps(_mm512_unpacklo_ps(x, y), _mm512_unpackhi_ps(x, y));
    }
    for (int t = 0; t < 4; t++)
        quads[t] = _mm512_add_ps(_mm512_shuffle_ps(pairs[2 * t], pairs[2 * t + 1], 0x44),
                                 _mm512_shuffle_ps(pairs[2 * t], pairs[2 * t + 1], 0xEE));
    __m512 low = addLanePairs(quads[0], quads[1]), high = addLanePairs(quads[2], quads[3]);
    __m512 all = addLanePairs(low, high);
    __m128 rows[4] = {_mm512_extractf32x4_ps(all, 0), _mm512_extractf32x4_ps(all, 1), _mm512_extractf32x4_ps(all, 2),
                      _mm512_extractf32x4_ps(all, 3)};
    for (int i = 0; i < 4; i++) {
        if (beta != 0) rows[i] = _mm_add_ps(rows[i], _mm_mul_ps(_mm_set1_ps(beta), _mm_loadu_ps(c + i * ldc)));
        _mm_storeu_ps(c + i * ldc, rows[i]);
    }
}

// C[rows×columns] for rows ≤ 4 rows of A and columns ≤ 4 rows of W: rows × columns accumulators of 16 lanes
// (at most 16 of the 32 registers, plus 4 for W and one for A). Callers pass constants, so each shape is
// compiled on its own with its loops unrolled. When `next` is not null, the tile also prefetches the 4 rows of W
// at `next` into L2, one cache line of each per step: each W row is a stream of only k floats, too short for the
// hardware prefetchers, and without this the kernel waited on memory (decode products 40–100 % faster with it).
TARGET void tile(int rows, int columns, long k, const float *a, long lda, const float *w, long ldw, float beta,
                 float *c, long ldc, const float *next) {
    __m512 sums[4][4];
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < columns; j++) sums[i][j] = _mm512_setzero_ps();
    long p = 0;
    for (; p + 16 <= k; p += 16) {
        __m512 x[4];
        for (int j = 0; j < columns; j++) x[j] = _mm512_loadu_ps(w + j * ldw + p);
        if (next)
            for (int j = 0; j < 4; j++) _mm_prefetch((const char *)(next + j * ldw + p), _MM_HINT_T1);
        for (int i = 0; i < rows; i++) {
            __m512 r = _mm512_loadu_ps(a + i * lda + p);
            for (int j = 0; j < columns; j++) sums[i][j] = _mm512_fmadd_ps(r, x[j], sums[i][j]);
        }
    }
    if (p < k) {
        __mmask16 mask = (__mmask16)((1u << (k - p)) - 1);
        __m512 x[4];
        for (int j = 0; j < columns; j++) x[j] = _mm512_maskz_loadu_ps(mask, w + j * ldw + p);
        for (int i = 0; i < rows; i++) {
            __m512 r = _mm512_maskz_loadu_ps(mask, a + i * lda + p);
            for (int j = 0; j < columns; j++) sums[i][j] = _mm512_fmadd_ps(r, x[j], sums[i][j]);
        }
    }
    if (rows == 4 && columns == 4) {
        storeSums4x4(sums, beta, c, ldc);
        return;
    }
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < columns; j++) store(_mm512_reduce_add_ps(sums[i][j]), c + i * ldc + j, beta);
}

// Every row of A against `columns` rows of W: while the 4 rows of W stay in L1, A's rows pass 4 at a time. The
// first tile prefetches the 4 rows of W at `next` (null: none), the next block's.
TARGET void block(int columns, long m, long k, const float *a, long lda, const float *w, long ldw, float beta,
                  float *c, long ldc, const float *next) {
    long row = 0;
    for (; row + 4 <= m; row += 4, next = 0)
        tile(4, columns, k, a + row * lda, lda, w, ldw, beta, c + row * ldc, ldc, next);
    switch (m - row) {
    case 3: tile(3, columns, k, a + row * lda, lda, w, ldw, beta, c + row * ldc, ldc, next); break;
    case 2: tile(2, columns, k, a + row * lda, lda, w, ldw, beta, c + row * ldc, ldc, next); break;
    case 1: tile(1, columns, k, a + row * lda, lda, w, ldw, beta, c + row * ldc, ldc, next); break;
    default: break;
    }
}

__attribute__((target("avx512f")))
void grpo_skinny_gemm_avx512(long m, long start, long end, long k, const float *a, long lda, const float *w, long ldw,
                             float beta, float *c, long ldc) {
    long column = start;
    for (; column + 4 <= end; column += 4) {
        const float *next = column + 8 <= end ? w + (column + 4) * ldw : 0;
        block(4, m, k, a, lda, w + column * ldw, ldw, beta, c + column, ldc, next);
    }
    for (; column < end; column++) block(1, m, k, a, lda, w + column * ldw, ldw, beta, c + column, ldc, 0);
}

#else

void grpo_skinny_gemm_avx512(long m, long start, long end, long k, const float *a, long lda, const float *w, long ldw,
                             float beta, float *c, long ldc) {
    __builtin_trap(); // never called: grpo_cpu_has_avx512() is false here
}

#endif
