// A/B of two builds of the AVX-512 GEMM kernel on one thread: the committed Sources/CKernels/GemmAVX512.c (A)
// against a modified copy of it (B), alternating A, B, B, A, ... on the same operands so that both see the same
// phases of a noisy machine. Shapes: the per-thread halves of a medium training step's products, plus one whose
// packed B block and A stay in L2 (how close the inner loop itself gets to the FMA peak).
// Build and run: scripts/gemm_variant_ab.sh [VARIANT.c] [RUNS]  (without a variant, A against itself: the noise)
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef void Gemm(bool, bool, long, long, long, float, const float *, long, const float *, long, float, float *, long);
Gemm gemm_a, gemm_b;
double grpo_fma_peak_gflops(double seconds);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    struct { bool ta, tb; long m, n, k; const char *name; } shapes[] = {
        {false, true, 2560, 1376, 512, "gate/up forward NT"},
        {false, true, 1280, 512, 1376, "down forward NT"},
        {false, false, 1280, 512, 2752, "gate/up dX NN"},
        {true, false, 1376, 512, 2560, "gate/up dW TN"},
        {true, false, 512, 688, 2560, "down dW TN"},
        {false, true, 2544, 4000, 512, "lm_head forward NT (1/4)"},
        {false, false, 1272, 512, 8000, "lm_head dX NN (1/4)"},
        {true, false, 4000, 512, 2544, "lm_head dW TN (1/4)"},
        {false, true, 600, 256, 512, "in L2 (kernel ceiling)"},
    };
    int runs = argc > 1 ? atoi(argv[1]) : 6;
    Gemm *kernels[2] = {gemm_a, gemm_b};
    double peakBefore = grpo_fma_peak_gflops(0.2), total[2] = {0, 0};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        long m = shapes[s].m, n = shapes[s].n, k = shapes[s].k;
        long lda = shapes[s].ta ? m : k, ldb = shapes[s].tb ? k : n;
        // Small shapes repeat so that every timing covers at least ~1 GFLOP.
        long repeats = 1 + (long)(1e9 / (2.0 * m * n * k));
        float *a = aligned_alloc(64, (size_t)(m * k * 4 + 64)), *b = aligned_alloc(64, (size_t)(k * n * 4 + 64));
        float *c[2] = {aligned_alloc(64, (size_t)(m * n * 4 + 64)), aligned_alloc(64, (size_t)(m * n * 4 + 64))};
        for (long i = 0; i < m * k; i++) a[i] = (float)(i % 17) * 0.01f - 0.05f;
        for (long i = 0; i < k * n; i++) b[i] = (float)(i % 13) * 0.01f - 0.05f;
        double seconds[2] = {0, 0};
        for (int run = 0; run <= runs; run++)
            for (int turn = 0; turn < 2; turn++) {
                int v = run % 2 ? 1 - turn : turn;
                double start = now();
                for (long r = 0; r < repeats; r++) kernels[v](shapes[s].ta, shapes[s].tb, m, n, k, 1, a, lda, b, ldb, 0, c[v], n);
                if (run > 0) seconds[v] += now() - start; // run 0 warms up
            }
        double largest = 0;
        for (long i = 0; i < m * n; i++) {
            double d = c[0][i] > c[1][i] ? c[0][i] - c[1][i] : c[1][i] - c[0][i];
            if (d > largest) largest = d;
        }
        double flops = 2.0 * m * n * k * repeats * runs;
        printf("%-26s A %6.1f  B %6.1f GFLOP/s  B/A %.3f  max |A-B| %.2g\n", shapes[s].name, flops / seconds[0] / 1e9,
               flops / seconds[1] / 1e9, seconds[0] / seconds[1], largest);
        if (s + 1 < sizeof shapes / sizeof shapes[0]) { total[0] += seconds[0]; total[1] += seconds[1]; }
        free(a); free(b); free(c[0]); free(c[1]);
    }
    double peakAfter = grpo_fma_peak_gflops(0.2);
    printf("training shapes, time A/B: %.3f;  FMA peak of this core before %.1f, after %.1f GFLOP/s\n", total[0] / total[1],
           peakBefore, peakAfter);
    return 0;
}
