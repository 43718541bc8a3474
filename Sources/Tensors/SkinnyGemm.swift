import CKernels
import Foundation

/// C[m×n] = A[m×k] · Wᵀ + beta · C for few rows (m ≤ `maximumRows`) and row-major W[n×k]: the shape of every
/// matrix product while decoding, where A holds one token per sequence.
///
/// OpenBLAS packs all of W into its panel format on every call, which costs more than the product itself
/// when m is small (a third of decoding time). This kernel reads W in place, once: blocks of 4 rows of W
/// stay in L1 while they meet every row of A, 2 rows at a time (8 accumulators of 8 lanes: with the 4
/// rows of W and one of A, 13 of AVX2's 16 vector registers, so nothing spills). On CPUs with AVX-512 the
/// same blocks run in C with 512-bit vectors and 4 rows of A at a time (`CKernels`), unless
/// `GRPO_DISABLE_AVX512` is set.
enum SkinnyGemm {
    typealias Vector = SIMD8<Float>

    /// Up to how many rows `gemm` sends a product here rather than to OpenBLAS. With AVX-512 (4 rows of A per
    /// pass over a block of W) this kernel is faster than OpenBLAS up to GRPO's 64 sequences per step (medium
    /// model, batches of 32 and 64: 1,045–1,272 against 891–1,123 tok/s); the AVX2 kernel was measured up to 16.
    static let maximumRows = AVX512Kernels.enabled ? 64 : 16

    static func multiply(m: Int, n: Int, k: Int, _ a: UnsafePointer<Float>, lda: Int,
                         _ w: UnsafePointer<Float>, ldw: Int, beta: Float,
                         _ c: UnsafeMutablePointer<Float>, ldc: Int, useAVX512: Bool = AVX512Kernels.enabled) {
        let blocks = (n + 3) / 4
        Parallel.parallelFor(blocks, minimumChunk: 8) { range in
            if useAVX512 {
                grpo_skinny_gemm_avx512(m, range.lowerBound * 4, min(range.upperBound * 4, n), k, a, lda, w, ldw, beta, c, ldc)
                return
            }
            for block in range {
                let column = block * 4
                if column + 4 > n {
                    for j in column..<n {
                        for row in 0..<m { write(Kernels.dot(a + row * lda, w + j * ldw, k), c + row * ldc + j, beta: beta) }
                    }
                    continue
                }
                // The first pair of rows prefetches the next block of W (see `tile2x4`).
                var next: UnsafePointer<Float>? = column + 8 <= n ? w + (column + 4) * ldw : nil
                var row = 0
                while row + 2 <= m {
                    tile2x4(k: k, a + row * lda, lda: lda, w + column * ldw, ldw: ldw, beta: beta, c + row * ldc + column, ldc: ldc,
                            prefetching: next)
                    next = nil
                    row += 2
                }
                while row < m {
                    tile1x4(k: k, a + row * lda, w + column * ldw, ldw: ldw, beta: beta, c + row * ldc + column)
                    row += 1
                }
            }
        }
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }

    @inline(__always)
    static func write(_ value: Float, _ p: UnsafeMutablePointer<Float>, beta: Float) {
        p.pointee = beta == 0 ? value : value + beta * p.pointee
    }

    @inline(__always)
    static func tail(_ a: UnsafePointer<Float>, _ w: UnsafePointer<Float>, from start: Int, to k: Int) -> Float {
        var total: Float = 0
        for p in start..<k { total += a[p] * w[p] }
        return total
    }

    /// With `next`, also brings the 4 rows of W there into L2, a cache line of each per 16 values: each W row is a
    /// stream of only k floats, too short for the hardware prefetchers (as in the AVX-512 kernel).
    @inline(__always)
    static func tile2x4(k: Int, _ a: UnsafePointer<Float>, lda: Int, _ w: UnsafePointer<Float>, ldw: Int,
                        beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int, prefetching next: UnsafePointer<Float>?) {
        let a0 = a, a1 = a + lda
        let w0 = w, w1 = w + ldw, w2 = w + 2 * ldw, w3 = w + 3 * ldw
        var c00 = Vector(), c01 = Vector(), c02 = Vector(), c03 = Vector()
        var c10 = Vector(), c11 = Vector(), c12 = Vector(), c13 = Vector()
        var p = 0
        while p + 8 <= k {
            if let next, p & 15 == 0 {
                for row in 0..<4 { grpo_prefetch_l2(next + row * ldw + p) }
            }
            let x0 = load(w0 + p), x1 = load(w1 + p), x2 = load(w2 + p), x3 = load(w3 + p)
            let r0 = load(a0 + p)
            c00 = c00.addingProduct(r0, x0); c01 = c01.addingProduct(r0, x1)
            c02 = c02.addingProduct(r0, x2); c03 = c03.addingProduct(r0, x3)
            let r1 = load(a1 + p)
            c10 = c10.addingProduct(r1, x0); c11 = c11.addingProduct(r1, x1)
            c12 = c12.addingProduct(r1, x2); c13 = c13.addingProduct(r1, x3)
            p += 8
        }
        let c1 = c + ldc
        write(c00.sum() + tail(a0, w0, from: p, to: k), c, beta: beta)
        write(c01.sum() + tail(a0, w1, from: p, to: k), c + 1, beta: beta)
        write(c02.sum() + tail(a0, w2, from: p, to: k), c + 2, beta: beta)
        write(c03.sum() + tail(a0, w3, from: p, to: k), c + 3, beta: beta)
        write(c10.sum() + tail(a1, w0, from: p, to: k), c1, beta: beta)
        write(c11.sum() + tail(a1, w1, from: p, to: k), c1 + 1, beta: beta)
        write(c12.sum() + tail(a1, w2, from: p, to: k), c1 + 2, beta: beta)
        write(c13.sum() + tail(a1, w3, from: p, to: k), c1 + 3, beta: beta)
    }

    @inline(__always)
    static func tile1x4(k: Int, _ a: UnsafePointer<Float>, _ w: UnsafePointer<Float>, ldw: Int,
                        beta: Float, _ c: UnsafeMutablePointer<Float>) {
        let w0 = w, w1 = w + ldw, w2 = w + 2 * ldw, w3 = w + 3 * ldw
        var c0 = Vector(), c1 = Vector(), c2 = Vector(), c3 = Vector()
        var p = 0
        while p + 8 <= k {
            let r = load(a + p)
            c0 = c0.addingProduct(r, load(w0 + p)); c1 = c1.addingProduct(r, load(w1 + p))
            c2 = c2.addingProduct(r, load(w2 + p)); c3 = c3.addingProduct(r, load(w3 + p))
            p += 8
        }
        write(c0.sum() + tail(a, w0, from: p, to: k), c, beta: beta)
        write(c1.sum() + tail(a, w1, from: p, to: k), c + 1, beta: beta)
        write(c2.sum() + tail(a, w2, from: p, to: k), c + 2, beta: beta)
        write(c3.sum() + tail(a, w3, from: p, to: k), c + 3, beta: beta)
    }
}
