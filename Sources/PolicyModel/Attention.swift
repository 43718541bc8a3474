import Tensors

/// Where each sequence of a batch lies in the packed token rows. Sequences are concatenated, not
/// padded: a row attends only to earlier rows of its own sequence, which is exactly what a padded
/// batch with an attention mask computes, without the work on padding.
struct PackedSequences {
    let starts: [Int]
    let lengths: [Int]
    let tokenCount: Int
    /// Each row's position in its own sequence (every sequence starts at 0).
    let positions: [Int]

    init(lengths: [Int]) {
        self.lengths = lengths
        var starts: [Int] = [], positions: [Int] = []
        var token = 0
        for length in lengths {
            starts.append(token)
            positions.append(contentsOf: 0..<length)
            token += length
        }
        self.starts = starts
        self.tokenCount = token
        self.positions = positions
    }
}

/// Grouped-query causal self-attention on the fused q|k|v rows: query head h reads key/value head
/// h / (heads / kv_heads).
///
/// The [L, L] attention probabilities are not kept between forward and backward: backward recomputes
/// them from q and k (one small GEMM per head), so training memory grows with tokens, not tokens².
enum Attention {
    /// softmax(q·kᵀ/√d + causal mask)·v for every sequence and head.
    static func forward(qkv: UnsafePointer<Float>, sequences: PackedSequences, config: TransformerConfig,
                        output: UnsafeMutablePointer<Float>) {
        let heads = config.headCount, groupSize = config.headCount / config.keyValueHeadCount
        let d = config.headDimension, width = config.qkvWidth, outputWidth = config.queryWidth
        let scale = 1 / Float(d).squareRoot()
        Parallel.parallelForEach(sequences.lengths.count * heads) { job in
            let sequence = job / heads, head = job % heads
            let length = sequences.lengths[sequence], start = sequences.starts[sequence]
            guard length > 0 else { return }
            let group = head / groupSize
            let q = qkv + start * width + head * d
            let k = qkv + start * width + config.queryWidth + group * d
            let v = qkv + start * width + config.queryWidth + config.keyValueWidth + group * d
            let p = UnsafeMutablePointer<Float>.allocate(capacity: length * length)
            defer { p.deallocate() }
            probabilities(q: q, k: k, rowStride: width, length: length, headDimension: d, scale: scale, into: p)
            gemm(m: length, n: d, k: length, p, lda: length, v, ldb: width,
                 output + start * outputWidth + head * d, ldc: outputWidth)
        }
    }

    /// P = causal softmax(q·kᵀ · scale) for one head of one sequence, [length, length].
    @inline(__always)
    static func probabilities(q: UnsafePointer<Float>, k: UnsafePointer<Float>, rowStride: Int, length: Int,
                              headDimension d: Int, scale: Float, into p: UnsafeMutablePointer<Float>) {
        gemm(transposeB: true, m: length, n: length, k: d, alpha: scale, q, lda: rowStride, k, ldb: rowStride, p, ldc: length)
        for row in 0..<length { causalSoftmax(p + row * length, visible: row + 1, total: length) }
    }

    /// Softmax over the first `visible` entries of a row; the rest (future positions) become 0.
    @inline(__always)
    static func causalSoftmax(_ scores: UnsafeMutablePointer<Float>, visible: Int, total: Int) {
        let maximum = Kernels.maximum(scores, visible)
        let sum = Kernels.expInPlace(scores, visible, subtracting: maximum)
        Kernels.scale(scores, by: 1 / sum, visible)
        if total > visible { (scores + visible).update(repeating: 0, count: total - visible) }
    }

    /// Overwrites `qkvGradient` [tokens, q|k|v] with the gradient of the attention output.
    static func backward(outputGradient: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
                         sequences: PackedSequences, config: TransformerConfig, qkvGradient: UnsafeMutablePointer<Float>) {
        let heads = config.headCount, kvHeads = config.keyValueHeadCount, groupSize = heads / kvHeads
        let d = config.headDimension, width = config.qkvWidth, outputWidth = config.queryWidth
        let scale = 1 / Float(d).squareRoot()
        qkvGradient.update(repeating: 0, count: sequences.tokenCount * width)
        // One job per (sequence, kv head): the query heads of a group add into the same dK, dV.
        Parallel.parallelForEach(sequences.lengths.count * kvHeads) { job in
            let sequence = job / kvHeads, group = job % kvHeads
            let length = sequences.lengths[sequence], start = sequences.starts[sequence]
            guard length > 0 else { return }
            let k = qkv + start * width + config.queryWidth + group * d
            let v = k + config.keyValueWidth
            let dK = qkvGradient + start * width + config.queryWidth + group * d
            let dV = dK + config.keyValueWidth
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * length * length)
            defer { scratch.deallocate() }
            let p = scratch + length * length
            for head in group * groupSize..<(group + 1) * groupSize {
                let q = qkv + start * width + head * d
                probabilities(q: q, k: k, rowStride: width, length: length, headDimension: d, scale: scale, into: p)
                let dQ = qkvGradient + start * width + head * d
                let dO = outputGradient + start * outputWidth + head * d
                // dP = dO·vᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)) / √d
                gemm(transposeB: true, m: length, n: length, k: d, dO, lda: outputWidth, v, ldb: width, scratch, ldc: length)
                for row in 0..<length {
                    let dS = scratch + row * length, probability = p + row * length
                    let visible = row + 1
                    let rowDot = Kernels.dot(dS, probability, visible)
                    for column in 0..<visible { dS[column] = probability[column] * (dS[column] - rowDot) * scale }
                    if length > visible { (dS + visible).update(repeating: 0, count: length - visible) }
                }
                gemm(m: length, n: d, k: length, scratch, lda: length, k, ldb: width, dQ, ldc: width)
                gemm(transposeA: true, m: length, n: d, k: length, scratch, lda: length, q, ldb: width, beta: 1, dK, ldc: width)
                gemm(transposeA: true, m: length, n: d, k: length, p, lda: length, dO, ldb: outputWidth, beta: 1, dV, ldc: width)
            }
        }
    }

    /// One new query row per sequence against its cached keys and values (the row's own k, v already
    /// appended). `cacheLengths[b]` counts the cached positions of row b, including the new one.
    /// The query heads of a group share one pass over their key/value head's cache.
    static func decode(qkv: UnsafePointer<Float>, rows: Int, slots: [Int], cacheLengths: [Int],
                       keys: UnsafePointer<Float>, values: UnsafePointer<Float>, cacheCapacity: Int,
                       config: TransformerConfig, output: UnsafeMutablePointer<Float>) {
        let kvHeads = config.keyValueHeadCount, groupSize = config.headCount / kvHeads
        let d = config.headDimension, kvWidth = config.keyValueWidth
        let scale = 1 / Float(d).squareRoot()
        Parallel.parallelFor(rows * kvHeads, minimumChunk: 8) { range in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: groupSize * cacheCapacity)
            defer { scores.deallocate() }
            for job in range {
                let row = job / kvHeads, group = job % kvHeads
                let length = cacheLengths[row]
                let queries = qkv + row * config.qkvWidth + group * groupSize * d
                let slotKeys = keys + slots[row] * cacheCapacity * kvWidth + group * d
                let slotValues = values + slots[row] * cacheCapacity * kvWidth + group * d
                for position in 0..<length {
                    let key = slotKeys + position * kvWidth
                    for head in 0..<groupSize {
                        scores[head * cacheCapacity + position] = Kernels.dot(queries + head * d, key, d) * scale
                    }
                }
                let outputs = output + row * config.queryWidth + group * groupSize * d
                outputs.update(repeating: 0, count: groupSize * d)
                for head in 0..<groupSize { causalSoftmax(scores + head * cacheCapacity, visible: length, total: length) }
                for position in 0..<length {
                    let value = slotValues + position * kvWidth
                    for head in 0..<groupSize {
                        Kernels.axpy(scores[head * cacheCapacity + position], value, outputs + head * d, d)
                    }
                }
            }
        }
    }
}
