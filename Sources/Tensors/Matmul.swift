import CBLAS
import CKernels
import Foundation

/// Row-major single-precision GEMM: C[m×n] = alpha · op(A) · op(B) + beta · C.
///
/// `transposeA`/`transposeB` select `op(X) = Xᵀ`. Leading dimensions are row strides, so a column
/// block of a wider matrix (one head of a fused q/k/v projection) is passed without copying.
///
/// Products run on OpenBLAS's `cblas_sgemm`, except on CPUs with AVX-512 (unless `GRPO_DISABLE_AVX512` is set):
/// there decode-shaped products go to `SkinnyGemm`, and the others wide enough to fill its tiles to our AVX-512
/// kernel (`Sources/CKernels/GemmAVX512.c`): 2–30 % faster than OpenBLAS 0.3.21's `SkylakeX` sgemm per product of
/// a medium training step on an Ice Lake-SP (10 % weighted), 1–9 % than its `Cooperlake` one on a Zen 4, where the
/// whole two-thread training step is 3 % faster (`grpo bench gemm`, docs/performance.md).
///
/// Outside a parallel region, a product big enough to pay for it is split into blocks of rows (or of
/// columns, whichever is larger), one per thread and at least 64 wide; each block is a single-threaded
/// sgemm. Every block packs the operand it shares with the others again, so more blocks cost more than
/// the load balancing they buy (four per thread: medium forward + backward 8–10 % slower).
public func gemm(
    transposeA: Bool = false, transposeB: Bool = false,
    m: Int, n: Int, k: Int, alpha: Float = 1,
    _ a: UnsafePointer<Float>, lda: Int,
    _ b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    _ c: UnsafeMutablePointer<Float>, ldc: Int
) {
    if transposeB && !transposeA && alpha == 1 && m <= SkinnyGemm.maximumRows && k >= 64 && n >= 64 {
        // Decode-shaped products (one row per sequence): see SkinnyGemm.
        SkinnyGemm.multiply(m: m, n: n, k: k, a, lda: lda, b, ldw: ldb, beta: beta, c, ldc: ldc)
        return
    }
    let threads = Parallel.threadCount
    guard threads > 1, !Parallel.insideRegion, m * n * k >= 1 << 18 else {
        serialGemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                   a, lda: lda, b, ldb: ldb, beta: beta, c, ldc: ldc)
        return
    }
    if n >= m {
        // Column blocks of C come from column blocks of op(B); multiples of 16 keep the kernels' tiles whole.
        let blocks = min(threads, max(1, n / 64))
        Parallel.parallelFor(blocks) { range in
            for block in range {
                let start = (n * block / blocks) & ~15, end = block + 1 == blocks ? n : (n * (block + 1) / blocks) & ~15
                guard end > start else { continue }
                serialGemm(transposeA: transposeA, transposeB: transposeB, m: m, n: end - start, k: k, alpha: alpha,
                           a, lda: lda, transposeB ? b + start * ldb : b + start, ldb: ldb, beta: beta, c + start, ldc: ldc)
            }
        }
    } else {
        let blocks = min(threads, max(1, m / 64))
        Parallel.parallelFor(blocks) { range in
            for block in range {
                let start = (m * block / blocks) & ~15, end = block + 1 == blocks ? m : (m * (block + 1) / blocks) & ~15
                guard end > start else { continue }
                serialGemm(transposeA: transposeA, transposeB: transposeB, m: end - start, n: n, k: k, alpha: alpha,
                           transposeA ? a + start : a + start * lda, lda: lda, b, ldb: ldb, beta: beta, c + start * ldc, ldc: ldc)
            }
        }
    }
}

@inline(__always)
func serialGemm(
    transposeA: Bool = false, transposeB: Bool = false,
    m: Int, n: Int, k: Int, alpha: Float = 1,
    _ a: UnsafePointer<Float>, lda: Int,
    _ b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    _ c: UnsafeMutablePointer<Float>, ldc: Int
) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        // BLAS leaves C untouched for k = 0 only when beta = 1; make the semantics explicit.
        for row in 0..<m { for column in 0..<n { c[row * ldc + column] *= beta } }
        return
    }
    if AVX512Kernels.runsProducts(columns: n) {
        grpo_gemm_avx512(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        return
    }
    openBLASGemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                 a, lda: lda, b, ldb: ldb, beta: beta, c, ldc: ldc)
}

/// `cblas_sgemm` itself (k > 0): the product on CPUs without AVX-512, and the reference our kernels are tested against.
func openBLASGemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
    _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
    beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int
) {
    cblas_sgemm(CblasRowMajor,
                transposeA ? CblasTrans : CblasNoTrans,
                transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

extension Tensor {
    /// `self` [m, k] times `other` ([k, n], or [n, k] when `transposeOther`), as a new [m, n] tensor.
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        precondition(rank == 2 && other.rank == 2, "matmul needs two matrices, got \(shape) and \(other.shape)")
        let (m, k) = transposeSelf ? (shape[1], shape[0]) : (shape[0], shape[1])
        let (otherK, n) = transposeOther ? (other.shape[1], other.shape[0]) : (other.shape[0], other.shape[1])
        precondition(k == otherK, "matmul inner dimensions differ: \(shape) and \(other.shape)")
        let result = Tensor(zeros: [m, n])
        gemm(transposeA: transposeSelf, transposeB: transposeOther, m: m, n: n, k: k,
             pointer, lda: shape[1], other.pointer, ldb: other.shape[1], result.pointer, ldc: n)
        return result
    }
}

/// Whether products run our AVX-512 kernels (`CKernels`) instead of OpenBLAS's sgemm and our AVX2 decode kernel:
/// on CPUs with AVX-512, unless the environment sets `GRPO_DISABLE_AVX512` (to compare, or to reproduce a run
/// made on a CPU without it: the kernels sum in another order, so the last bits of results differ).
enum AVX512Kernels {
    static let enabled = grpo_cpu_has_avx512() && ProcessInfo.processInfo.environment["GRPO_DISABLE_AVX512"] == nil

    /// Whether `n` columns use the GEMM kernel's 64-column tiles well: at most a fifth of the computed columns are
    /// padding. Narrower products (attention's per-head products with head_dim 32: half of every tile wasted,
    /// 54–58 against OpenBLAS's 90 GFLOP/s) stay on OpenBLAS.
    static func fillsTiles(columns n: Int) -> Bool { 4 * ((n + 63) / 64 * 64) <= 5 * n }

    /// Whether a (non-decode) product with `n` columns runs our GEMM kernel rather than OpenBLAS.
    static func runsProducts(columns n: Int) -> Bool { enabled && fillsTiles(columns: n) }
}

/// The single-threaded matrix products `gemm` chooses between, by name, for benchmarks that compare them.
public enum GemmKernel: String, CaseIterable, Sendable {
    case openBLAS = "openblas"
    case avx512 = "avx512"

    /// The kernels this CPU can run (OpenBLAS everywhere; ours where there is AVX-512).
    public static var available: [GemmKernel] { grpo_cpu_has_avx512() ? [.openBLAS, .avx512] : [.openBLAS] }

    /// C[m×n] = op(A) · op(B) on the calling thread, with this kernel only.
    public func multiply(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                         _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                         _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(m > 0 && n > 0 && k > 0, "GemmKernel.multiply needs m, n, k > 0")
        switch self {
        case .openBLAS:
            openBLASGemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                         a, lda: lda, b, ldb: ldb, beta: 0, c, ldc: ldc)
        case .avx512:
            precondition(grpo_cpu_has_avx512(), "the AVX-512 kernel needs a CPU with AVX-512")
            grpo_gemm_avx512(transposeA, transposeB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
        }
    }
}
