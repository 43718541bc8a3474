import CKernels
import XCTest
@testable import Tensors

final class GemmTests: XCTestCase {
    func testGemmMatchesNaiveProductForEveryTransposeCombination() {
        var generator = SeededGenerator(seed: 3)
        let (m, n, k) = (7, 5, 9)
        let a = (0..<m * k).map { _ in generator.nextNormal() }
        let b = (0..<k * n).map { _ in generator.nextNormal() }
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                var c = [Float](repeating: 1, count: m * n)
                gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a, lda: transposeA ? m : k,
                     b, ldb: transposeB ? k : n, &c, ldc: n)
                var expected = [Float](repeating: 0, count: m * n)
                doublePrecisionGemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                                    a, lda: transposeA ? m : k, b, ldb: transposeB ? k : n, beta: 0, &expected, ldc: n)
                for (x, y) in zip(c, expected) { XCTAssertEqual(x, y, accuracy: 1e-4, "transposeA \(transposeA) transposeB \(transposeB)") }
            }
        }
    }

    func testGemmWithBetaOneAccumulatesAndLeadingDimensionsSelectColumnBlocks() {
        // A 2×3 block in columns 1...3 of a 2×5 matrix, times a 3×2 matrix, added to C.
        let wide: [Float] = [0, 1, 2, 3, 0,
                             0, 4, 5, 6, 0]
        let b: [Float] = [1, 0, 0, 1, 1, 1]
        var c: [Float] = [10, 10, 10, 10]
        wide.withUnsafeBufferPointer { w in
            gemm(m: 2, n: 2, k: 3, w.baseAddress! + 1, lda: 5, b, ldb: 2, beta: 1, &c, ldc: 2)
        }
        let expected: [Float] = [14, 15, 20, 21] // 10 + rows of the block times b
        XCTAssertEqual(c, expected)
    }

    /// Products big enough to be split across threads (one block per thread, block edges rounded to multiples
    /// of 16) equal one single-threaded sgemm, for both split directions and every transpose (to rounding:
    /// edge tiles may take other kernel paths).
    func testSplitProductsEqualOneSerialProduct() {
        Parallel.configure(threads: 2)
        defer { Parallel.configure(threads: nil) }
        var generator = SeededGenerator(seed: 5)
        for (m, n, k) in [(300, 1037, 70), (1029, 150, 64), (77, 3000, 33)] {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    let a = (0..<m * k).map { _ in generator.nextNormal() }
                    let b = (0..<k * n).map { _ in generator.nextNormal() }
                    let start = (0..<m * n).map { _ in generator.nextNormal() }
                    var split = start, serial = start
                    let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
                    gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a, lda: lda, b, ldb: ldb, beta: 1, &split, ldc: n)
                    serialGemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a, lda: lda, b, ldb: ldb, beta: 1, &serial, ldc: n)
                    let worst = zip(split, serial).map { abs($0 - $1) }.max()!
                    XCTAssertLessThan(worst, 1e-4, "m \(m) n \(n) k \(k) transposeA \(transposeA) transposeB \(transposeB)")
                }
            }
        }
    }

    func testTensorMatmul() {
        let a = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [2, 3], values: [1, 0, 1, 0, 1, 0])
        XCTAssertEqual(a.matmul(b, transposeOther: true).scalars, [4, 2, 10, 5])
        XCTAssertEqual(a.matmul(a, transposeSelf: true).shape, [3, 3])
    }
}

final class SkinnyGemmTests: XCTestCase {
    /// Both variants (the portable AVX2 one, and AVX-512 where this CPU has it) against OpenBLAS, with row,
    /// column and depth remainders and A, W and C inside wider matrices.
    func testSkinnyProductEqualsOpenBLASForEveryRowColumnAndDepthRemainder() {
        var generator = SeededGenerator(seed: 21)
        let variants = grpo_cpu_has_avx512() ? [false, true] : [false]
        for (m, n, k, pad) in [(1, 64, 64, 0), (2, 67, 72, 0), (3, 128, 65, 3), (16, 130, 256, 0), (15, 99, 70, 5),
                               (16, 64, 512, 0), (5, 7, 20, 1), (7, 66, 33, 0), (9, 4, 16, 2)] {
            let (lda, ldw, ldc) = (k + pad, k + 2 * pad, n + pad)
            let a = (0..<m * lda).map { _ in generator.nextNormal() }
            let w = (0..<n * ldw).map { _ in generator.nextNormal() }
            let start = (0..<m * ldc).map { _ in generator.nextNormal() }
            for beta: Float in [0, 1] {
                var reference = start
                openBLASGemm(transposeA: false, transposeB: true, m: m, n: n, k: k, alpha: 1, a, lda: lda, w, ldb: ldw,
                             beta: beta, &reference, ldc: ldc)
                for useAVX512 in variants {
                    var skinny = start
                    SkinnyGemm.multiply(m: m, n: n, k: k, a, lda: lda, w, ldw: ldw, beta: beta, &skinny, ldc: ldc, useAVX512: useAVX512)
                    let worst = zip(skinny, reference).map { abs($0 - $1) }.max()!
                    XCTAssertLessThan(worst, 1e-3, "m \(m) n \(n) k \(k) beta \(beta) AVX-512 \(useAVX512)")
                    // Padding columns of C are left alone.
                    for row in 0..<m { for column in n..<ldc { XCTAssertEqual(skinny[row * ldc + column], start[row * ldc + column]) } }
                }
            }
        }
    }
}

final class AVX512GemmTests: XCTestCase {
    /// The AVX-512 kernel against the product summed in double precision, each element's error relative to the sum of
    /// its terms' magnitudes (float32 rounding grows with them; the error of a depth step left out or taken twice
    /// does not shrink with them), for every transpose combination, with remainders of its 6 × 64 tile, depths past
    /// one packed block (384), rows past one packed panel (3072), columns past one block of B (512), A, B and C inside
    /// wider matrices, and several alpha and beta. beta = 0 must ignore C (NaN there).
    func testAVX512GemmEqualsTheExactProduct() throws {
        guard grpo_cpu_has_avx512() else { throw XCTSkip("this CPU has no AVX-512") }
        var generator = SeededGenerator(seed: 34)
        let shapes = [(1, 1, 1), (6, 64, 16), (7, 65, 17), (5, 63, 15), (13, 600, 385), (3100, 70, 20), (40, 1100, 800)]
        for (m, n, k) in shapes {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    for (alpha, beta): (Float, Float) in [(1, 0), (0.5, 1), (-2, 0.25)] {
                        let lda = (transposeA ? m : k) + 3, ldb = (transposeB ? k : n) + 5, ldc = n + 7
                        let a = (0..<(transposeA ? k : m) * lda).map { _ in generator.nextNormal() }
                        let b = (0..<(transposeB ? n : k) * ldb).map { _ in generator.nextNormal() }
                        let start = (0..<m * ldc).map { column -> Float in
                            beta == 0 && column % ldc < n ? .nan : generator.nextNormal()
                        }
                        var ours = start, reference = start.map { $0.isNaN ? 0 : $0 }, magnitude = reference
                        grpo_gemm_avx512(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, &ours, ldc)
                        doublePrecisionGemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                                            a, lda: lda, b, ldb: ldb, beta: beta, &reference, ldc: ldc)
                        doublePrecisionGemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: abs(alpha),
                                            a.map(abs), lda: lda, b.map(abs), ldb: ldb, beta: abs(beta), &magnitude, ldc: ldc, absoluteC: true)
                        let label = "m \(m) n \(n) k \(k) transposeA \(transposeA) transposeB \(transposeB) alpha \(alpha) beta \(beta)"
                        var worst: Float = 0
                        for row in 0..<m {
                            for column in 0..<n {
                                let index = row * ldc + column
                                let error = abs(ours[index] - reference[index]) / (1 + magnitude[index])
                                worst = error.isNaN ? .infinity : max(worst, error)
                            }
                            for column in n..<ldc { XCTAssertEqual(ours[row * ldc + column], start[row * ldc + column], label) }
                        }
                        XCTAssertLessThan(worst, 1e-6, label)
                    }
                }
            }
        }
    }
}

/// C = alpha · op(A) · op(B) + beta · C (|C| for `absoluteC`), row-major, each element summed in double precision:
/// exact to float32's precision whatever order a kernel sums in.
func doublePrecisionGemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                         _ a: [Float], lda: Int, _ b: [Float], ldb: Int, beta: Float, _ c: inout [Float], ldc: Int,
                         absoluteC: Bool = false) {
    for row in 0..<m {
        for column in 0..<n {
            var sum = 0.0
            for depth in 0..<k {
                let x = transposeA ? a[depth * lda + row] : a[row * lda + depth]
                let y = transposeB ? b[column * ldb + depth] : b[depth * ldb + column]
                sum += Double(x) * Double(y)
            }
            let previous = Double(absoluteC ? abs(c[row * ldc + column]) : c[row * ldc + column])
            c[row * ldc + column] = Float(Double(alpha) * sum + Double(beta) * previous)
        }
    }
}

final class PackedOperandTests: XCTestCase {
    /// Products over an operand packed once, as attention uses them (the first k rows and n columns of op(B), several
    /// products per packing), against OpenBLAS: both transposes, remainders of the 6 × 64 tile in m, n and k, alpha
    /// and beta, C inside a wider matrix. Where products do not run our kernel, the same calls go through `gemm`.
    func testProductsOverAPackedOperandEqualOpenBLAS() {
        var generator = SeededGenerator(seed: 35)
        for (rows, columns) in [(70, 64), (160, 32), (5, 130), (1, 1)] {
            for transposed in [false, true] {
                let ldb = columns + 3
                let b = (0..<rows * ldb).map { _ in generator.nextNormal() }
                let (depth, width) = transposed ? (columns, rows) : (rows, columns)
                let bufferFloats = max(1, PackedOperand.packedFloats(rows: rows, columns: columns, transposed: transposed))
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferFloats * 4, alignment: 64)
                    .bindMemory(to: Float.self, capacity: bufferFloats)
                defer { buffer.deallocate() }
                b.withUnsafeBufferPointer { b in
                    let operand = PackedOperand(b.baseAddress!, rows: rows, columns: columns, ldb: ldb, transposed: transposed,
                                                buffer: buffer)
                    for (m, n, k) in [(13, width, depth), (6, max(1, width - 5), max(1, depth - 7)), (1, 1, 1), (64, width, depth / 2 + 1)] {
                        for (alpha, beta): (Float, Float) in [(1, 0), (0.125, 1)] {
                            let lda = k + 2, ldc = n + 4
                            let a = (0..<m * lda).map { _ in generator.nextNormal() }
                            let start = (0..<m * ldc).map { _ in generator.nextNormal() }
                            var ours = start, reference = start
                            operand.multiply(m: m, n: n, k: k, alpha: alpha, a, lda: lda, beta: beta, &ours, ldc: ldc)
                            openBLASGemm(transposeA: false, transposeB: transposed, m: m, n: n, k: k, alpha: alpha, a, lda: lda,
                                         b.baseAddress!, ldb: ldb, beta: beta, &reference, ldc: ldc)
                            let label = "B \(rows)×\(columns) transposed \(transposed) m \(m) n \(n) k \(k) alpha \(alpha) beta \(beta)"
                            for row in 0..<m {
                                for column in 0..<ldc {
                                    let index = row * ldc + column
                                    if column < n {
                                        XCTAssertEqual(ours[index], reference[index], accuracy: 1e-4 * (1 + abs(reference[index])), label)
                                    } else {
                                        XCTAssertEqual(ours[index], start[index], label)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
