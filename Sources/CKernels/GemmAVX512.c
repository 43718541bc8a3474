// The general matrix product of Tensors' `gemm` with 512-bit vectors, chosen at run time on CPUs that have them.
//
// OpenBLAS 0.3.21's `SkylakeX` sgemm reaches 60–77 % of the AVX-512 FMA peak on the training products of a small
// transformer. This one is laid out like BLIS's kernels (see docs/performance.md for the measurements):
// - a tile of 6 rows × 64 columns of C lives in 24 of the 32 vector registers; per step of the depth it loads
//   4 vectors of B and broadcasts 6 values of A (10 loads for 24 fused multiply-adds; a 12 × 32 tile needs 14,
//   and only matched OpenBLAS);
// - a row-major op(A) (NN, NT) is read in place, 6 rows at a time, which stay in L1 while the tile sweeps across
//   a block of B; a transposed one (TN, TT) is packed in panels of 6 rows (each value once, times alpha);
// - B is packed in blocks of KC × 256 (at most 512 KiB, in L2) cut into slivers of 64 columns. KC goes up to 512
//   so that products of depth 512 write C once: for the 2544 × 32000 logits, a second pass over C cost 4 %.
// Packing transposes 16 × 16 blocks in registers, so NN, NT, TN and TT all run the same kernel.
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <pthread.h>
#include <stdlib.h>

enum {
    TILE_ROWS = 6,       // rows of C per tile: values of the A panel, broadcast
    TILE_VECTORS = 4,    // 16-lane vectors per row of the tile
    TILE_COLUMNS = 64,   // columns of C per tile: the width of a B sliver
    BLOCK_COLUMNS = 256, // columns of op(B) packed at a time
    PANEL_ROWS = 3072,   // rows of a transposed op(A) packed at a time (≤ 6 MiB, from L3)
    MAX_DEPTH = 512,     // KC: the depth of one packed block
    PREFETCH_STEPS = 8,  // how far ahead in the B sliver the kernel prefetches
};

#define TARGET __attribute__((target("avx512f")))

// Packed operands live in per-thread buffers that grow and are kept: a fresh allocation of this size per call is
// an mmap and a page fault per 4 KiB every time. The key's destructor frees them when a thread ends.
typedef struct {
    float *a, *b;
    size_t aCapacity, bCapacity;
} PackingBuffers;

static pthread_key_t buffersKey;
static pthread_once_t buffersKeyOnce = PTHREAD_ONCE_INIT;

static void freeBuffers(void *pointer) {
    PackingBuffers *buffers = pointer;
    free(buffers->a);
    free(buffers->b);
    free(buffers);
}

static void makeBuffersKey(void) {
    if (pthread_key_create(&buffersKey, freeBuffers) != 0) abort();
}

static float *reserve(float **buffer, size_t *capacity, size_t count) {
    if (count > *capacity) {
        free(*buffer);
        *buffer = aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64);
        if (*buffer == NULL) abort();
        *capacity = count;
    }
    return *buffer;
}

static PackingBuffers *threadBuffers(void) {
    pthread_once(&buffersKeyOnce, makeBuffersKey);
    PackingBuffers *buffers = pthread_getspecific(buffersKey);
    if (buffers == NULL) {
        buffers = calloc(1, sizeof *buffers);
        if (buffers == NULL || pthread_setspecific(buffersKey, buffers) != 0) abort();
    }
    return buffers;
}

// rows[0..<16] (each 16 floats) transposed in place: afterwards rows[i] holds column i.
TARGET static inline void transpose16x16(__m512 rows[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(rows[i], rows[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(rows[i], rows[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        rows[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        rows[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        rows[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        rows[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 8; i++) {
        int base = (i / 4) * 8 + (i % 4);
        t[i] = _mm512_shuffle_f32x4(rows[base], rows[base + 4], 0x88);
        t[i + 8] = _mm512_shuffle_f32x4(rows[base], rows[base + 4], 0xDD);
    }
    for (int i = 0; i < 4; i++) {
        rows[i] = _mm512_shuffle_f32x4(t[i], t[i + 4], 0x88);
        rows[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 4], 0xDD);
        rows[i + 4] = _mm512_shuffle_f32x4(t[i + 8], t[i + 12], 0x88);
        rows[i + 12] = _mm512_shuffle_f32x4(t[i + 8], t[i + 12], 0xDD);
    }
}

#define PANEL_LANES ((__mmask16)((1u << TILE_ROWS) - 1))

static inline __mmask16 firstLanes(long count) { return count >= 16 ? 0xFFFF : (__mmask16)((1u << count) - 1); }

// op(A)[rows × depth] (times alpha) into panels of 6 rows: panel p holds, for each k, its 6 rows' values
// next to each other. Rows past `rows` are zero.
TARGET static void packA(int transposed, long rows, long depth, float alpha, const float *a, long lda, float *out) {
    __m512 scale = _mm512_set1_ps(alpha);
    for (long panel = 0; panel < rows; panel += TILE_ROWS) {
        long count = rows - panel < TILE_ROWS ? rows - panel : TILE_ROWS;
        __mmask16 valid = firstLanes(count);
        if (transposed) {
            for (long p = 0; p < depth; p++)
                _mm512_mask_storeu_ps(out + p * TILE_ROWS, PANEL_LANES,
                                      _mm512_mul_ps(scale, _mm512_maskz_loadu_ps(valid, a + p * lda + panel)));
        } else {
            // 16 values of each row at a time, transposed in registers into 16 groups of 6.
            for (long p = 0; p < depth; p += 16) {
                __mmask16 inDepth = firstLanes(depth - p);
                __m512 block[16];
                for (int r = 0; r < 16; r++)
                    block[r] = r < count ? _mm512_maskz_loadu_ps(inDepth, a + (panel + r) * lda + p) : _mm512_setzero_ps();
                transpose16x16(block);
                for (long q = 0; q < 16 && p + q < depth; q++)
                    _mm512_mask_storeu_ps(out + (p + q) * TILE_ROWS, PANEL_LANES, _mm512_mul_ps(scale, block[q]));
            }
        }
        out += depth * TILE_ROWS;
    }
}

// op(B)[depth × columns] into slivers of 64 columns: sliver s holds, for each k, its 64 columns' values next to
// each other. Columns past `columns` are zero.
TARGET static void packB(int transposed, long depth, long columns, const float *b, long ldb, float *out) {
    for (long sliver = 0; sliver < columns; sliver += TILE_COLUMNS) {
        long count = columns - sliver < TILE_COLUMNS ? columns - sliver : TILE_COLUMNS;
        if (transposed) {
            // Column j of op(B) is row j of B: 16 values of 16 rows at a time, transposed in registers.
            for (long p = 0; p < depth; p += 16) {
                __mmask16 inDepth = firstLanes(depth - p);
                for (int vector = 0; vector < TILE_VECTORS; vector++) {
                    __m512 block[16];
                    for (int j = 0; j < 16; j++) {
                        long column = vector * 16 + j;
                        block[j] = column < count ? _mm512_maskz_loadu_ps(inDepth, b + (sliver + column) * ldb + p)
                                                  : _mm512_setzero_ps();
                    }
                    transpose16x16(block);
                    for (long q = 0; q < 16 && p + q < depth; q++)
                        _mm512_store_ps(out + (p + q) * TILE_COLUMNS + vector * 16, block[q]);
                }
            }
        } else {
            __mmask16 masks[TILE_VECTORS];
            for (int v = 0; v < TILE_VECTORS; v++) masks[v] = count <= 16 * v ? 0 : firstLanes(count - 16 * v);
            for (long p = 0; p < depth; p++) {
                const float *source = b + p * ldb + sliver;
                for (int v = 0; v < TILE_VECTORS; v++)
                    _mm512_store_ps(out + p * TILE_COLUMNS + 16 * v, _mm512_maskz_loadu_ps(masks[v], source + 16 * v));
            }
        }
        out += depth * TILE_COLUMNS;
    }
}

// One tile: C = alpha · A rows · B sliver + beta · C, with A's value (r, p) at a[r · rowStride + p · stepStride]:
// a packed panel (1, 6) or 6 rows of a row-major A read in place (lda, 1).
// beta == 0 never reads C (it may hold anything, NaN included).
TARGET static inline __attribute__((always_inline)) void tile(long depth, const float *a, long rowStride, long stepStride,
                                                              const float *b, float alpha, float beta, float *c, long ldc) {
    __m512 sums[TILE_ROWS][TILE_VECTORS];
#pragma clang loop unroll(full)
    for (int r = 0; r < TILE_ROWS; r++) {
#pragma clang loop unroll(full)
        for (int v = 0; v < TILE_VECTORS; v++) sums[r][v] = _mm512_setzero_ps();
#pragma clang loop unroll(full)
        for (int v = 0; v < TILE_VECTORS; v++) _mm_prefetch((const char *)(c + r * ldc + 16 * v), _MM_HINT_T0);
    }
    for (long p = 0; p < depth; p++) {
        __m512 x[TILE_VECTORS];
#pragma clang loop unroll(full)
        for (int v = 0; v < TILE_VECTORS; v++) x[v] = _mm512_load_ps(b + 16 * v);
        _mm_prefetch((const char *)(b + PREFETCH_STEPS * TILE_COLUMNS), _MM_HINT_T0);
#pragma clang loop unroll(full)
        for (int r = 0; r < TILE_ROWS; r++) {
            __m512 y = _mm512_set1_ps(a[r * rowStride]);
#pragma clang loop unroll(full)
            for (int v = 0; v < TILE_VECTORS; v++) sums[r][v] = _mm512_fmadd_ps(y, x[v], sums[r][v]);
        }
        a += stepStride;
        b += TILE_COLUMNS;
    }
    if (alpha != 1) {
        __m512 scale = _mm512_set1_ps(alpha);
#pragma clang loop unroll(full)
        for (int r = 0; r < TILE_ROWS; r++)
#pragma clang loop unroll(full)
            for (int v = 0; v < TILE_VECTORS; v++) sums[r][v] = _mm512_mul_ps(scale, sums[r][v]);
    }
    if (beta == 0) {
#pragma clang loop unroll(full)
        for (int r = 0; r < TILE_ROWS; r++)
#pragma clang loop unroll(full)
            for (int v = 0; v < TILE_VECTORS; v++) _mm512_storeu_ps(c + r * ldc + 16 * v, sums[r][v]);
    } else {
        __m512 scale = _mm512_set1_ps(beta);
#pragma clang loop unroll(full)
        for (int r = 0; r < TILE_ROWS; r++)
#pragma clang loop unroll(full)
            for (int v = 0; v < TILE_VECTORS; v++)
                _mm512_storeu_ps(c + r * ldc + 16 * v, _mm512_fmadd_ps(scale, _mm512_loadu_ps(c + r * ldc + 16 * v), sums[r][v]));
    }
}

TARGET static void packedTile(long depth, const float *panel, const float *b, float beta, float *c, long ldc) {
    tile(depth, panel, 1, TILE_ROWS, b, 1, beta, c, ldc);
}

TARGET static void rowsTile(long depth, const float *a, long lda, const float *b, float alpha, float beta, float *c,
                            long ldc) {
    tile(depth, a, lda, 1, b, alpha, beta, c, ldc);
}

// A tile at the bottom or right edge of C: computed whole into a scratch tile, then its `rows × columns`
// corner merged into C.
TARGET static void edgeTile(long rows, long columns, long depth, const float *a, const float *b, float beta,
                            float *c, long ldc) {
    float scratch[TILE_ROWS * TILE_COLUMNS] __attribute__((aligned(64)));
    packedTile(depth, a, b, 0, scratch, TILE_COLUMNS);
    __m512 scale = _mm512_set1_ps(beta);
    for (long r = 0; r < rows; r++)
        for (int v = 0; v < TILE_VECTORS && 16 * v < columns; v++) {
            __mmask16 lanes = firstLanes(columns - 16 * v);
            float *target = c + r * ldc + 16 * v;
            __m512 product = _mm512_load_ps(scratch + r * TILE_COLUMNS + 16 * v);
            if (beta != 0) product = _mm512_fmadd_ps(scale, _mm512_maskz_loadu_ps(lanes, target), product);
            _mm512_mask_storeu_ps(target, lanes, product);
        }
}

// The tiles of C[rows × columns] over one depth block, from B packed in slivers `sliverFloats` apart. A is either
// read in place (`inPlaceA`: rows of `a`, `lda` apart; `pa` then holds the last, partial panel packed, and
// `edgePanel` has room for one more) or packed whole in `pa`.
TARGET static void sweepTiles(long rows, long columns, long depth, float alpha, int inPlaceA, const float *a, long lda,
                              const float *pa, float *edgePanel, const float *pb, long sliverFloats, float beta,
                              float *c, long ldc) {
    for (long r = 0; r < rows; r += TILE_ROWS) {
        long tileRows = rows - r < TILE_ROWS ? rows - r : TILE_ROWS;
        const float *panel = inPlaceA ? pa : pa + r * depth;
        const float *aRows = a + r * lda;
        float *cRow = c + r * ldc;
        for (long j = 0; j < columns; j += TILE_COLUMNS) {
            long tileColumns = columns - j < TILE_COLUMNS ? columns - j : TILE_COLUMNS;
            const float *sliver = pb + j / TILE_COLUMNS * sliverFloats;
            if (tileRows == TILE_ROWS && tileColumns == TILE_COLUMNS) {
                if (inPlaceA) rowsTile(depth, aRows, lda, sliver, alpha, beta, cRow + j, ldc);
                else packedTile(depth, panel, sliver, beta, cRow + j, ldc);
            } else if (tileRows == TILE_ROWS && inPlaceA) {
                // A right-edge tile of full rows: pack this panel for the edge kernel.
                packA(0, TILE_ROWS, depth, alpha, aRows, lda, edgePanel);
                edgeTile(tileRows, tileColumns, depth, edgePanel, sliver, beta, cRow + j, ldc);
            } else {
                edgeTile(tileRows, tileColumns, depth, panel, sliver, beta, cRow + j, ldc);
            }
        }
    }
}

TARGET void grpo_gemm_avx512(bool transposeA, bool transposeB, long m, long n, long k, float alpha,
                             const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc) {
    long depthBlocks = (k + MAX_DEPTH - 1) / MAX_DEPTH;
    long blockDepth = ((k + depthBlocks - 1) / depthBlocks + 7) & ~7L;
    // A row-major op(A) is read in place, one panel of 6 rows at a time; only its last, partial panel is packed.
    int inPlaceA = !transposeA;
    // In place, pa holds the last partial panel and, after it, the panel of a right-edge tile.
    long panelRows = inPlaceA ? 2 * TILE_ROWS : (m < PANEL_ROWS ? m : PANEL_ROWS);
    long blockColumns = n < BLOCK_COLUMNS ? n : BLOCK_COLUMNS;
    PackingBuffers *buffers = threadBuffers();
    float *pa = reserve(&buffers->a, &buffers->aCapacity,
                        (size_t)((panelRows + TILE_ROWS - 1) / TILE_ROWS * TILE_ROWS) * blockDepth);
    float *pb = reserve(&buffers->b, &buffers->bCapacity,
                        (size_t)((blockColumns + TILE_COLUMNS - 1) / TILE_COLUMNS * TILE_COLUMNS) * blockDepth);
    long rowStep = inPlaceA ? m : PANEL_ROWS;
    for (long row0 = 0; row0 < m; row0 += rowStep) {
        long rows = m - row0 < rowStep ? m - row0 : rowStep;
        for (long p0 = 0; p0 < k; p0 += blockDepth) {
            long depth = k - p0 < blockDepth ? k - p0 : blockDepth;
            float blockBeta = p0 == 0 ? beta : 1;
            long fullRows = rows / TILE_ROWS * TILE_ROWS;
            if (!inPlaceA)
                packA(transposeA, rows, depth, alpha, a + p0 * lda + row0, lda, pa);
            else if (fullRows < rows)
                packA(0, rows - fullRows, depth, alpha, a + (row0 + fullRows) * lda + p0, lda, pa);
            for (long column0 = 0; column0 < n; column0 += BLOCK_COLUMNS) {
                long columns = n - column0 < BLOCK_COLUMNS ? n - column0 : BLOCK_COLUMNS;
                packB(transposeB, depth, columns, transposeB ? b + column0 * ldb + p0 : b + p0 * ldb + column0, ldb, pb);
                sweepTiles(rows, columns, depth, alpha, inPlaceA, a + row0 * lda + p0, lda, pa, pa + TILE_ROWS * depth, pb,
                           depth * TILE_COLUMNS, blockBeta, c + row0 * ldc + column0, ldc);
            }
        }
    }
}

long grpo_gemm_avx512_packed_b_floats(long depth, long columns) {
    return (columns + TILE_COLUMNS - 1) / TILE_COLUMNS * TILE_COLUMNS * depth;
}

TARGET void grpo_gemm_avx512_pack_b(bool transposeB, long depth, long columns, const float *b, long ldb, float *packed) {
    packB(transposeB, depth, columns, b, ldb, packed);
}

TARGET void grpo_gemm_avx512_with_packed_b(long m, long n, long k, float alpha, const float *a, long lda,
                                           const float *packed, long packedDepth, float beta, float *c, long ldc) {
    PackingBuffers *buffers = threadBuffers();
    float *pa = reserve(&buffers->a, &buffers->aCapacity, (size_t)(2 * TILE_ROWS * k));
    long fullRows = m / TILE_ROWS * TILE_ROWS;
    if (fullRows < m) packA(0, m - fullRows, k, alpha, a + fullRows * lda, lda, pa);
    sweepTiles(m, n, k, alpha, 1, a, lda, pa, pa + TILE_ROWS * k, packed, packedDepth * TILE_COLUMNS, beta, c, ldc);
}

#else

// Never called: grpo_cpu_has_avx512() is false here.
void grpo_gemm_avx512(bool transposeA, bool transposeB, long m, long n, long k, float alpha, const float *a, long lda,
                      const float *b, long ldb, float beta, float *c, long ldc) {
    __builtin_trap();
}
long grpo_gemm_avx512_packed_b_floats(long depth, long columns) { __builtin_trap(); }
void grpo_gemm_avx512_pack_b(bool transposeB, long depth, long columns, const float *b, long ldb, float *packed) {
    __builtin_trap();
}
void grpo_gemm_avx512_with_packed_b(long m, long n, long k, float alpha, const float *a, long lda, const float *packed,
                                    long packedDepth, float beta, float *c, long ldc) {
    __builtin_trap();
}

#endif
