import CBLAS
import CKernels

/// Which of its kernels OpenBLAS runs, and which it should run on this CPU.
///
/// OpenBLAS built for many CPUs (Debian's is) picks its kernels when it is loaded, by looking the CPU model up in
/// a table. A model newer than the table gets its oldest x86-64 kernels: OpenBLAS 0.3.21 (Debian 12) runs its SSE3
/// `Prescott` kernels on an Intel Xeon of family 6, model 207 (Emerald Rapids), 26–31 GFLOP/s on one core where its
/// `SkylakeX` kernels reach 94–165 on the same products (docs/performance.md). Only `OPENBLAS_CORETYPE`, read when
/// the library is loaded, changes that choice, before any of our code runs; the `grpo` command therefore starts
/// itself again with it set when `suggestedCoreType` says so.
public enum OpenBLASCore {
    /// The kernels OpenBLAS runs in this process ("Haswell", "SkylakeX", "Zen", "Prescott", …).
    public static var name: String { String(cString: openblas_get_corename()) }

    /// The `OPENBLAS_CORETYPE` this process should have had: the replacement for `name` on this CPU.
    public static var suggestedCoreType: String? {
        replacement(for: name, cpuHasAVX512: grpo_cpu_has_avx512_skylake(), cpuHasAVX2: grpo_cpu_has_avx2_fma())
    }

    /// OpenBLAS's kernel sets for CPUs with AVX2 and FMA or AVX-512 (lowercased; `Excavator` is AMD's last core before Zen).
    static let vectorCores: Set<String> = ["haswell", "excavator", "zen", "skylakex", "cooperlake", "sapphirerapids"]

    /// `SkylakeX` on a CPU with AVX-512 (F, CD, BW, DQ, VL), `Haswell` on one with AVX2 and FMA, when OpenBLAS chose
    /// kernels older than either (`core`); nil when its choice uses AVX2 or AVX-512 already, or the CPU has neither.
    static func replacement(for core: String, cpuHasAVX512: Bool, cpuHasAVX2: Bool) -> String? {
        guard !vectorCores.contains(core.lowercased()) else { return nil }
        if cpuHasAVX512 { return "SkylakeX" }
        if cpuHasAVX2 { return "Haswell" }
        return nil
    }
}
