import ArgumentParser
import Foundation
import Tensors

/// `grpo bench gemm`: our AVX-512 matrix product against OpenBLAS's sgemm, one thread, on the products of one
/// medium-model training step (forward + backward of 16 × 160 tokens), one JSON line per shape.
struct BenchGemmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Single-threaded GFLOP/s of each matrix-product kernel on the medium model's training products.",
        discussion: """
            For every shape, the kernels run alternately (`--runs` each, after one warm-up) on the same operands, \
            and the line reports each kernel's best and median GFLOP/s. Shapes are the halves that `gemm` gives \
            each of two threads. The last line sums the shapes, weighted by how often one training step runs \
            them, and adds the FMA ceiling of one core measured before and after.
            """)

    @Option(help: "Timed runs of each kernel per shape.") var runs: Int = 5

    /// (name, transposeA, transposeB, m, n, k, products per step): each product of the medium model's forward +
    /// backward over 2,560 tokens (2,544 scored), as one of two threads computes its half.
    static let shapes: [(String, Bool, Bool, Int, Int, Int, Int)] = [
        ("q/k/v forward", false, true, 1280, 1024, 512, 8),
        ("o forward", false, true, 1280, 512, 512, 8),
        ("gate/up forward", false, true, 2560, 1376, 512, 8),
        ("down forward", false, true, 1280, 512, 1376, 8),
        ("lm_head forward", false, true, 2544, 16000, 512, 1),
        ("lm_head input gradient", false, false, 1272, 512, 32000, 1),
        ("lm_head weight gradient", true, false, 16000, 512, 2544, 1),
        ("down input gradient", false, false, 1280, 1376, 512, 8),
        ("down weight gradient", true, false, 512, 688, 2560, 8),
        ("gate/up input gradient", false, false, 1280, 512, 2752, 8),
        ("gate/up weight gradient", true, false, 1376, 512, 2560, 8),
        ("o input gradient", false, false, 1280, 512, 512, 8),
        ("o weight gradient", true, false, 512, 256, 2560, 8),
        ("q/k/v input gradient", false, false, 1280, 512, 1024, 8),
        ("q/k/v weight gradient", true, false, 512, 512, 2560, 8),
    ]

    func run() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1, got \(runs)") }
        let kernels = GemmKernel.available
        let coreBefore = FMAPeak.gigaflops(seconds: 0.2) / Double(Parallel.threadCount)
        var weightedSeconds = [GemmKernel: Double](), totalFlops = 0.0
        var generator = SeededGenerator(seed: 7)
        for (name, transposeA, transposeB, m, n, k, count) in Self.shapes {
            let a = TensorStorage(count: m * k, zeroed: false), b = TensorStorage(count: k * n, zeroed: false)
            let c = TensorStorage(count: m * n, zeroed: false)
            for i in 0..<m * k { a.pointer[i] = generator.nextNormal() }
            for i in 0..<k * n { b.pointer[i] = generator.nextNormal() }
            var times = [GemmKernel: [Double]]()
            for run in 0...runs {
                for kernel in kernels {
                    let elapsed = seconds {
                        kernel.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                        a.pointer, lda: transposeA ? m : k, b.pointer, ldb: transposeB ? k : n, c.pointer, ldc: n)
                    }
                    if run > 0 { times[kernel, default: []].append(elapsed) }
                }
            }
            let flops = 2 * Double(m) * Double(n) * Double(k)
            totalFlops += flops * Double(count)
            var line: [String: Any] = ["benchmark": "gemm", "shape": name, "transpose_a": transposeA, "transpose_b": transposeB,
                                       "m": m, "n": n, "k": k, "per_step": count, "runs": runs]
            for kernel in kernels {
                let kernelTimes = times[kernel]!
                line["\(kernel.rawValue)_gflops_best"] = flops / kernelTimes.min()! / 1e9
                line["\(kernel.rawValue)_gflops_median"] = flops / median(kernelTimes) / 1e9
                weightedSeconds[kernel, default: 0] += median(kernelTimes) * Double(count)
            }
            try printJSON(line)
        }
        let coreAfter = FMAPeak.gigaflops(seconds: 0.2) / Double(Parallel.threadCount)
        var summary: [String: Any] = ["benchmark": "gemm", "shape": "training step (weighted)",
                                      "fma_peak_one_core_gflops_before": coreBefore, "fma_peak_one_core_gflops_after": coreAfter,
                                      "openblas_core": OpenBLASCore.name]
        for kernel in kernels {
            let gflops = totalFlops / weightedSeconds[kernel]! / 1e9
            summary["\(kernel.rawValue)_gflops_median"] = gflops
            summary["\(kernel.rawValue)_fraction_of_fma_peak"] = gflops / max(coreBefore, coreAfter)
        }
        try printJSON(summary)
    }
}
