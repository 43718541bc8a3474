#!/usr/bin/env bash
# Compares a modified copy of Sources/CKernels/GemmAVX512.c against the committed one on one thread
# (see scripts/gemm_variant_ab.c). Usage: scripts/gemm_variant_ab.sh [VARIANT.c] [RUNS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kernels="$root/Sources/CKernels"
variant="${1:-$kernels/GemmAVX512.c}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cc="${CC:-clang}"
# Each build's entry points get their own names (only grpo_gemm_avx512 is called).
renamed() {
  echo -Dgrpo_gemm_avx512=gemm_$1 -Dgrpo_gemm_avx512_packed_b_floats=packed_b_floats_$1 \
    -Dgrpo_gemm_avx512_pack_b=pack_b_$1 -Dgrpo_gemm_avx512_with_packed_b=with_packed_b_$1
}
"$cc" -O2 -I"$kernels/include" $(renamed a) -c "$kernels/GemmAVX512.c" -o "$work/a.o"
"$cc" -O2 -I"$kernels/include" $(renamed b) -c "$variant" -o "$work/b.o"
"$cc" -O2 -I"$kernels/include" -c "$kernels/FMAPeak.c" -o "$work/peak.o"
"$cc" -O2 -I"$kernels/include" -c "$kernels/SkinnyGemmAVX512.c" -o "$work/cpu.o"
"$cc" -O2 "$root/scripts/gemm_variant_ab.c" "$work/a.o" "$work/b.o" "$work/peak.o" "$work/cpu.o" -o "$work/ab" -lpthread
"$work/ab" "${2:-6}"
