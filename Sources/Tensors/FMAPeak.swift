import CKernels

/// The momentary single-precision ceiling of this machine: every thread of the pool running nothing but fused
/// multiply-adds at once. On a shared virtual machine it moves with the neighbours' load, so benchmarks measure it
/// next to their own timings and report the fraction they reached.
public enum FMAPeak {
    /// Summed GFLOP/s of all `Parallel.threadCount` threads probing at once for `seconds`, the best of `rounds`
    /// such probes; 0 when the CPU has no FMA.
    ///
    /// Now and then one probe reads far less than the next (139 or 172 against 225–232 GFLOP/s on two Zen 4 vCPUs),
    /// and one such dip made a benchmark report 103 % of its ceiling, so the best of a few probes is taken.
    public static func gigaflops(seconds: Double = 0.1, rounds: Int = 3) -> Double {
        var best = 0.0
        for _ in 0..<max(1, rounds) {
            var perThread = [Double](repeating: 0, count: Parallel.threadCount)
            perThread.withUnsafeMutableBufferPointer { results in
                Parallel.onEveryThread { thread in results[thread] = grpo_fma_peak_gflops(seconds) }
            }
            best = max(best, perThread.reduce(0, +))
        }
        return best
    }
}
