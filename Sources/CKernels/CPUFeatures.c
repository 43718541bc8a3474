// Which vector instructions this CPU and the operating system offer, asked at run time: Swift compiles the package
// for one target CPU (AVX2 + FMA), the kernels and OpenBLAS's choice of kernels depend on the CPU it runs on.
#include "CKernels.h"

#if defined(__x86_64__)

bool grpo_cpu_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

bool grpo_cpu_has_avx512_skylake(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
}

bool grpo_cpu_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#else

bool grpo_cpu_has_avx512(void) { return false; }
bool grpo_cpu_has_avx512_skylake(void) { return false; }
bool grpo_cpu_has_avx2_fma(void) { return false; }

#endif
