#include <cblas.h>

// A spin-wait hint (x86 `pause`): lets the other hyperthread run and saves power while a worker waits for
// the next parallel region. Swift has no spelling for it.
static inline void grpo_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
