import CKernels

/// The momentary single-precision ceiling of this machine: every thread of the pool running nothing but fused
/// multiply-adds at once. On a shared virtual machine it moves with the neighbours' load, so benchmarks measure it
/// next to their own timings and report the fraction they reached.
public enum FMAPeak {
    /// Summed GFLOP/s of all `Parallel.threadCount` threads probing at once for `seconds`; 0 when the CPU has no FMA.
    public static func gigaflops(seconds: Double = 0.1) -> Double {
        var perThread = [Double](repeating: 0, count: Parallel.threadCount)
        perThread.withUnsafeMutableBufferPointer { results in
            Parallel.onEveryThread { thread in results[thread] = grpo_fma_peak_gflops(seconds) }
        }
        return perThread.reduce(0, +)
    }
}
