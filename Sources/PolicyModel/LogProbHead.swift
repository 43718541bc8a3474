import Tensors

/// The language-model head reduced to what GRPO needs: for each scored row, the log-probability of its
/// target token and the entropy of the next-token distribution, computed chunk by chunk so that a
/// [rows × vocabulary] logits tensor never has to exist at once.
///
/// Backward needs softmax(logits) again. When all rows' probabilities fit in `keptBudgetBytes` they
/// are kept from forward, and then all rows form one chunk: each product streams the [vocabulary × hidden]
/// weight (65 MB for the medium benchmark) once instead of once per chunk. Otherwise each chunk's logits are
/// recomputed (one more GEMM per chunk).
struct LogProbHead {
    let vocabularySize: Int
    let hiddenSize: Int
    /// Rows per chunk: about 16 Mi floats (64 MiB) of logits at a time.
    var chunkRows: Int { max(16, (16 << 20) / vocabularySize) }

    struct Output {
        var logProbs: [Float]
        var entropies: [Float]
        /// softmax(logits / T) of every row, when it fit the budget.
        var keptProbabilities: TensorStorage?
    }

    /// `input` [rows, hidden], `weight` [vocabulary, hidden].
    func forward(input: UnsafePointer<Float>, rows: Int, targets: [Int32], weight: UnsafePointer<Float>,
                 temperature: Float, keptBudgetBytes: Int) -> Output {
        var logProbs = [Float](repeating: 0, count: rows)
        var entropies = [Float](repeating: 0, count: rows)
        let keep = rows * vocabularySize * 4 <= keptBudgetBytes
        let kept = keep ? TensorStorage(count: rows * vocabularySize, zeroed: false) : nil
        let scratch = keep ? nil : TensorStorage(count: min(rows, chunkRows) * vocabularySize, zeroed: false)
        logProbs.withUnsafeMutableBufferPointer { logProbBuffer in
            entropies.withUnsafeMutableBufferPointer { entropyBuffer in
                let chunk = keep ? rows : chunkRows
                for chunkStart in stride(from: 0, to: rows, by: chunk) {
                    let count = min(chunk, rows - chunkStart)
                    let logits = kept.map { $0.pointer + chunkStart * vocabularySize } ?? scratch!.pointer
                    gemm(transposeB: true, m: count, n: vocabularySize, k: hiddenSize,
                         input + chunkStart * hiddenSize, lda: hiddenSize, weight, ldb: hiddenSize, logits, ldc: vocabularySize)
                    Parallel.parallelFor(count, minimumChunk: 4) { range in
                        for local in range {
                            let row = chunkStart + local
                            let (logProb, entropy) = softmaxRow(logits + local * vocabularySize, target: Int(targets[row]),
                                                                temperature: temperature)
                            logProbBuffer[row] = logProb
                            entropyBuffer[row] = entropy
                        }
                    }
                }
            }
        }
        return Output(logProbs: logProbs, entropies: entropies, keptProbabilities: kept)
    }

    /// Turns one row of logits into softmax(logits / T) in place; returns (log p[target], entropy).
    @inline(__always)
    func softmaxRow(_ z: UnsafeMutablePointer<Float>, target: Int, temperature: Float) -> (Float, Float) {
        let n = vocabularySize
        if temperature != 1 { Kernels.scale(z, by: 1 / temperature, n) }
        let maximum = Kernels.maximum(z, n)
        let targetLogit = z[target]
        // One pass: e = exp(z − max), Σe and Σe·z (for the entropy), e stored in place.
        let shift = Kernels.Vector(repeating: maximum)
        var sumE = Kernels.Vector(), sumEZ = Kernels.Vector()
        var j = 0
        while j + 8 <= n {
            let value = Kernels.load(z + j)
            let e = Kernels.exp(value - shift)
            sumE += e
            sumEZ = sumEZ.addingProduct(e, value)
            Kernels.store(e, z + j)
            j += 8
        }
        var totalE = sumE.sum(), totalEZ = sumEZ.sum()
        while j < n {
            let value = z[j], e = Kernels.exp(value - maximum)
            totalE += e
            totalEZ += e * value
            z[j] = e
            j += 1
        }
        let logSumExp = maximum + logf(totalE)
        Kernels.scale(z, by: 1 / totalE, n)
        return (targetLogit - logSumExp, logSumExp - totalEZ / totalE)
    }

    /// Given ∂loss/∂logp per row: inputGradient [rows, hidden] = dz·W (overwritten) and
    /// weightGradient += dzᵀ·input, with dz = ∂loss/∂logp / T · (onehot(target) − p).
    func backward(logProbGradients: [Float], input: UnsafePointer<Float>, rows: Int, targets: [Int32],
                  weight: UnsafePointer<Float>, temperature: Float, keptProbabilities: TensorStorage?,
                  inputGradient: UnsafeMutablePointer<Float>, weightGradient: UnsafeMutablePointer<Float>) {
        let scratch = keptProbabilities == nil ? TensorStorage(count: min(rows, chunkRows) * vocabularySize, zeroed: false) : nil
        let chunk = keptProbabilities == nil ? chunkRows : rows
        for chunkStart in stride(from: 0, to: rows, by: chunk) {
            let count = min(chunk, rows - chunkStart)
            let chunkInput = input + chunkStart * hiddenSize
            let probabilities: UnsafeMutablePointer<Float>
            if let kept = keptProbabilities {
                probabilities = kept.pointer + chunkStart * vocabularySize
            } else {
                probabilities = scratch!.pointer
                gemm(transposeB: true, m: count, n: vocabularySize, k: hiddenSize,
                     chunkInput, lda: hiddenSize, weight, ldb: hiddenSize, probabilities, ldc: vocabularySize)
            }
            Parallel.parallelFor(count, minimumChunk: 4) { range in
                for local in range {
                    let row = chunkStart + local
                    let p = probabilities + local * vocabularySize
                    if keptProbabilities == nil { _ = softmaxRow(p, target: Int(targets[row]), temperature: temperature) }
                    let g = logProbGradients[row] / temperature
                    Kernels.scale(p, by: -g, vocabularySize)
                    p[Int(targets[row])] += g
                }
            }
            gemm(m: count, n: hiddenSize, k: vocabularySize, probabilities, lda: vocabularySize, weight, ldb: hiddenSize,
                 inputGradient + chunkStart * hiddenSize, ldc: hiddenSize)
            gemm(transposeA: true, m: vocabularySize, n: hiddenSize, k: count, probabilities, lda: vocabularySize,
                 chunkInput, ldb: hiddenSize, beta: 1, weightGradient, ldc: hiddenSize)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
