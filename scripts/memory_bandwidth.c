// Read bandwidth of this machine: sums a 512 MiB float array with 1 and 2 threads (best of 5).
// Build and run: gcc -O3 -mavx2 -fopenmp scripts/memory_bandwidth.c -o /tmp/memory_bandwidth && /tmp/memory_bandwidth
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
#include <immintrin.h>
int main(void) {
  size_t n = (size_t)128 << 20; float *a = aligned_alloc(64, n * sizeof(float));
  for (size_t i = 0; i < n; i++) a[i] = (float)(i & 7);
  for (int threads = 1; threads <= 2; threads++) {
    double best = 1e9; float sink = 0;
    for (int r = 0; r < 5; r++) {
      double t = omp_get_wtime(); float total = 0;
      #pragma omp parallel for num_threads(threads) reduction(+:total)
      for (size_t i = 0; i < n; i += 8) { __m256 v = _mm256_load_ps(a + i); total += v[0] + v[7]; }
      t = omp_get_wtime() - t; sink += total; if (t < best) best = t;
    }
    printf("threads %d: %.1f GB/s (%g)\n", threads, n * 4.0 / best / 1e9, sink);
  }
  return 0;
}
