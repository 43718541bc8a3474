import CKernels

/// The right operand op(B) of several products, prepared once: packed for our AVX-512 kernel where `gemm` would
/// run that kernel (`AVX512Kernels.runsProducts`: AVX-512, and op(B) wide enough to fill its tiles), else kept as
/// the row-major matrix `gemm` reads.
///
/// Attention multiplies by one run's keys and values block after block; `gemm` would pack them again for every
/// block, and with a depth of one head (64) packing is about a third of such a product. Products too narrow for
/// the kernel's tiles go through `gemm` as before (head_dim 32: OpenBLAS), with the same arithmetic as before.
public struct PackedOperand {
    let matrix: UnsafePointer<Float>
    let leadingDimension: Int
    let transposed: Bool
    let packed: UnsafeMutablePointer<Float>?
    /// The shape of op(B): a product may use its first k ≤ depth rows and n ≤ columns columns.
    let depth: Int
    let columns: Int

    /// Floats of the packing buffer for op(B) of a [rows × columns] B (0 where products do not run our kernel).
    public static func packedFloats(rows: Int, columns: Int, transposed: Bool) -> Int {
        let (depth, width) = transposed ? (columns, rows) : (rows, columns)
        guard AVX512Kernels.runsProducts(columns: width) else { return 0 }
        return grpo_gemm_avx512_packed_b_floats(depth, width)
    }

    /// op(B) of B [rows × columns] (row stride `ldb`), op(B) = Bᵀ when `transposed`. `buffer`, 64-byte aligned with
    /// `packedFloats` floats, receives the packed copy; B itself must stay alive and unchanged while this is used.
    public init(_ b: UnsafePointer<Float>, rows: Int, columns: Int, ldb: Int, transposed: Bool, buffer: UnsafeMutablePointer<Float>) {
        matrix = b
        leadingDimension = ldb
        self.transposed = transposed
        depth = transposed ? columns : rows
        self.columns = transposed ? rows : columns
        if AVX512Kernels.runsProducts(columns: self.columns) {
            precondition(Int(bitPattern: buffer) % 64 == 0, "PackedOperand needs a 64-byte aligned buffer")
            grpo_gemm_avx512_pack_b(transposed, depth, self.columns, b, ldb, buffer)
            packed = buffer
        } else {
            packed = nil
        }
    }

    /// C[m×n] = alpha · A[m×k] · op(B)[0..<k, 0..<n] + beta · C: on the calling thread with the packed copy when
    /// there is one and n columns fill the kernel's tiles (attention calls it from its own parallel jobs), else
    /// through `gemm`.
    public func multiply(m: Int, n: Int, k: Int, alpha: Float = 1, _ a: UnsafePointer<Float>, lda: Int,
                         beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        precondition(k <= depth && n <= columns, "a [\(k) × \(n)] product over an operand of [\(depth) × \(columns)]")
        if let packed, k > 0, AVX512Kernels.fillsTiles(columns: n) {
            grpo_gemm_avx512_with_packed_b(m, n, k, alpha, a, lda, packed, depth, beta, c, ldc)
        } else {
            gemm(transposeB: transposed, m: m, n: n, k: k, alpha: alpha, a, lda: lda, matrix, ldb: leadingDimension,
                 beta: beta, c, ldc: ldc)
        }
    }
}
