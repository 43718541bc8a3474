import Tensors

/// Where each sequence of a batch lies in the packed token rows. Sequences are concatenated, not
/// padded: a row attends only to earlier rows of its own sequence, which is exactly what a padded
/// batch with an attention mask computes, without the work on padding.
///
/// A run of rows may also hold one prompt followed by several completions of it (GRPO's group): the
/// prompt rows are computed once, and each completion row sees the prompt and the earlier rows of its
/// own completion, never the other completions; its position continues from the end of the prompt.
/// That is the same computation as the separate sequences, with the prompt's work done once.
struct PackedSequences {
    /// Row ranges of the runs (a sequence, or a shared prompt with its completions).
    let starts: [Int]
    let lengths: [Int]
    let tokenCount: Int
    /// Each row's position in its own sequence (every sequence starts at 0).
    let positions: [Int]
    /// Per run: the length of the prompt its completions share (0 for a single sequence).
    let sharedPromptLengths: [Int]
    /// Per row, relative to its run: where the row's own completion begins (0 for prompt rows and single
    /// sequences, which see every earlier row of the run).
    let ownStarts: [Int]

    init(lengths: [Int]) {
        self.init(runs: lengths.map { (sharedPrompt: 0, completions: [$0]) })
    }

    /// Runs of a shared prompt (length 0 for a single sequence) and the lengths of the completions that follow it.
    init(runs: [(sharedPrompt: Int, completions: [Int])]) {
        var starts: [Int] = [], lengths: [Int] = [], positions: [Int] = [], ownStarts: [Int] = []
        var token = 0
        for run in runs {
            starts.append(token)
            positions.append(contentsOf: 0..<run.sharedPrompt)
            ownStarts.append(contentsOf: repeatElement(0, count: run.sharedPrompt))
            var local = run.sharedPrompt
            for completion in run.completions {
                positions.append(contentsOf: run.sharedPrompt..<run.sharedPrompt + completion)
                ownStarts.append(contentsOf: repeatElement(run.sharedPrompt == 0 ? 0 : local, count: completion))
                local += completion
            }
            lengths.append(local)
            token += local
        }
        self.starts = starts
        self.lengths = lengths
        self.tokenCount = token
        self.positions = positions
        self.sharedPromptLengths = runs.map(\.sharedPrompt)
        self.ownStarts = ownStarts
    }

    /// Whether the rows of run `run` see anything but a causal prefix of the run.
    func isBranched(_ run: Int) -> Bool { sharedPromptLengths[run] > 0 }
}

/// Which columns the rows of one run see (see `PackedSequences`).
struct RunVisibility {
    let sharedPrompt: Int
    /// `PackedSequences.ownStarts` (all rows) and this run's first row in it; nil for a causal run.
    let ownStarts: [Int]?
    let firstRow: Int

    /// Where row `row` of the run begins its own completion; 0 when the row sees every earlier row.
    @inline(__always) func ownStart(_ row: Int) -> Int { ownStarts?[firstRow + row] ?? 0 }
}

extension PackedSequences {
    func visibility(of run: Int) -> RunVisibility {
        RunVisibility(sharedPrompt: sharedPromptLengths[run], ownStarts: isBranched(run) ? ownStarts : nil, firstRow: starts[run])
    }
}

/// Grouped-query causal self-attention on the fused q|k|v rows: query head h reads key/value head
/// h / (heads / kv_heads).
///
/// The [L, L] attention probabilities are not kept between forward and backward: backward recomputes
/// them from q and k (one small GEMM per head), so training memory grows with tokens, not tokens².
/// Both go through the rows in blocks of `causalBlockRows`: rows [r0, r1) only see columns [0, r1), so
/// the products skip the blocks above the diagonal (40 % of the work at 160 tokens, nearly half for
/// long sequences).
enum Attention {
    static let causalBlockRows = 64

    /// One block of floats per pool thread, allocated once per call: a fresh [L, L] allocation per job is, above
    /// malloc's mmap threshold, a page fault per 4 KiB every time. Blocks and the regions `carve` cuts from them start
    /// on 64-byte boundaries (packed operands need them).
    struct ThreadScratch {
        let base: UnsafeMutablePointer<Float>
        let floatsPerThread: Int

        /// Room for regions of `sizes` floats in every thread's block.
        init(regionSizes sizes: [Int]) {
            floatsPerThread = sizes.reduce(0) { $0 + Self.aligned($1) }
            base = UnsafeMutableRawPointer.allocate(byteCount: max(1, floatsPerThread * Parallel.threadCount) * 4, alignment: 64)
                .bindMemory(to: Float.self, capacity: max(1, floatsPerThread * Parallel.threadCount))
        }

        static func aligned(_ floats: Int) -> Int { (floats + 15) / 16 * 16 }

        /// Thread `thread`'s regions, of the sizes given (at most those `init` made room for), in order.
        func carve(_ thread: Int, _ sizes: [Int]) -> [UnsafeMutablePointer<Float>] {
            var cursor = base + thread * floatsPerThread
            return sizes.map { size in
                defer { cursor += Self.aligned(size) }
                return cursor
            }
        }

        func deallocate() { base.deallocate() }
    }

    /// The row blocks [r0, r1) of a run of `length` rows.
    static func causalBlocks(_ length: Int) -> StrideTo<Int> { stride(from: 0, to: length, by: causalBlockRows) }

    /// Runs `body` once for every (sequence, key/value head) of the batch, in parallel: the run's first row and length,
    /// and scratch regions of `regionSizes(length)` floats of the running thread's block.
    static func forEachKeyValueGroup(
        _ sequences: PackedSequences, config: TransformerConfig, regionSizes: (_ length: Int) -> [Int],
        _ body: (_ sequence: Int, _ group: Int, _ start: Int, _ length: Int, _ regions: [UnsafeMutablePointer<Float>]) -> Void
    ) {
        let kvHeads = config.keyValueHeadCount
        let scratch = ThreadScratch(regionSizes: regionSizes(sequences.lengths.max() ?? 0))
        defer { scratch.deallocate() }
        Parallel.parallelForEach(sequences.lengths.count * kvHeads) { job, thread in
            let sequence = job / kvHeads, group = job % kvHeads, length = sequences.lengths[sequence]
            guard length > 0 else { return }
            body(sequence, group, sequences.starts[sequence], length, scratch.carve(thread, regionSizes(length)))
        }
    }

    /// Key/value head `group`'s keys and values of the `length` fused q|k|v rows from `start`, as contiguous rows.
    static func copyKeysAndValues(_ qkv: UnsafePointer<Float>, start: Int, length: Int, group: Int, config: TransformerConfig,
                                  keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>) {
        let d = config.headDimension, width = config.qkvWidth, first = qkv + start * width + config.queryWidth + group * d
        copyRows(first, stride: width, rows: length, width: d, into: keys)
        copyRows(first + config.keyValueWidth, stride: width, rows: length, width: d, into: values)
    }

    /// softmax(q·kᵀ/√d + causal mask)·v for every sequence and head. One job per sequence and key/value head: its
    /// keys and values are copied (and packed, see `PackedOperand`) once for all the group's query heads and blocks.
    static func forward(qkv: UnsafePointer<Float>, sequences: PackedSequences, config: TransformerConfig,
                        output: UnsafeMutablePointer<Float>) {
        let groupSize = config.headCount / config.keyValueHeadCount
        let d = config.headDimension, width = config.qkvWidth, outputWidth = config.queryWidth
        let scale = 1 / Float(d).squareRoot()
        func regionSizes(_ length: Int) -> [Int] {
            [length * length, length * d, length * d, length * d,
             PackedOperand.packedFloats(rows: length, columns: d, transposed: true),
             PackedOperand.packedFloats(rows: length, columns: d, transposed: false)]
        }
        forEachKeyValueGroup(sequences, config: config, regionSizes: regionSizes) { sequence, group, start, length, regions in
            let visibility = sequences.visibility(of: sequence)
            let p = regions[0], q = regions[1], k = regions[2], v = regions[3]
            copyKeysAndValues(qkv, start: start, length: length, group: group, config: config, keys: k, values: v)
            let keys = PackedOperand(k, rows: length, columns: d, ldb: d, transposed: true, buffer: regions[4])
            let values = PackedOperand(v, rows: length, columns: d, ldb: d, transposed: false, buffer: regions[5])
            for head in group * groupSize..<(group + 1) * groupSize {
                copyRows(qkv + start * width + head * d, stride: width, rows: length, width: d, into: q)
                for r0 in causalBlocks(length) {
                    let r1 = min(length, r0 + causalBlockRows)
                    probabilities(rows: r0..<r1, q: q, keys: keys, length: length, headDimension: d, scale: scale,
                                  visibility: visibility, into: p)
                    values.multiply(m: r1 - r0, n: d, k: r1, p + r0 * length, lda: length,
                                    output + (start + r0) * outputWidth + head * d, ldc: outputWidth)
                }
            }
        }
    }

    /// One head's `width` columns of `rows` rows, `stride` apart, into contiguous rows. The products of a head
    /// run on these copies: in the fused q|k|v rows a head's rows can lie a multiple of 4 KiB apart (1024 floats
    /// in the medium benchmark model), so they fall into the same few L1 sets and evict each other (a 128 × 64 × 64
    /// product read that way ran at 60 GFLOP/s against 91 from rows 5 KiB apart).
    @inline(__always)
    static func copyRows(_ source: UnsafePointer<Float>, stride: Int, rows: Int, width: Int, into target: UnsafeMutablePointer<Float>) {
        for row in 0..<rows { (target + row * width).update(from: source + row * stride, count: width) }
    }

    /// `rows` contiguous rows of `width` into rows `stride` apart.
    @inline(__always)
    static func storeRows(_ source: UnsafePointer<Float>, rows: Int, width: Int, into target: UnsafeMutablePointer<Float>, stride: Int) {
        for row in 0..<rows { (target + row * stride).update(from: source + row * width, count: width) }
    }

    /// Rows `rows` of P = causal softmax(q·kᵀ · scale) for one head of one run, [length, length], each over
    /// the columns [0, rows.upperBound) (the later ones are not written). In a branched run a completion row's
    /// other-completion columns are 0, like its future ones. `q` holds the run's rows contiguously; `keys` is kᵀ.
    @inline(__always)
    static func probabilities(rows: Range<Int>, q: UnsafePointer<Float>, keys: PackedOperand, length: Int,
                              headDimension d: Int, scale: Float, visibility: RunVisibility, into p: UnsafeMutablePointer<Float>) {
        let columns = rows.upperBound
        keys.multiply(m: rows.count, n: columns, k: d, alpha: scale, q + rows.lowerBound * d, lda: d,
                      p + rows.lowerBound * length, ldc: length)
        for row in rows {
            let ownStart = visibility.ownStart(row)
            if ownStart == 0 {
                causalSoftmax(p + row * length, visible: row + 1, total: columns)
            } else {
                branchSoftmax(p + row * length, prompt: visibility.sharedPrompt, ownStart: ownStart, row: row, total: columns)
            }
        }
    }

    /// Softmax over columns [0, prompt) and [ownStart, row]; every other column becomes 0.
    @inline(__always)
    static func branchSoftmax(_ scores: UnsafeMutablePointer<Float>, prompt: Int, ownStart: Int, row: Int, total: Int) {
        let own = scores + ownStart, ownCount = row - ownStart + 1
        let maximum = max(Kernels.maximum(scores, prompt), Kernels.maximum(own, ownCount))
        let sum = Kernels.expInPlace(scores, prompt, subtracting: maximum) + Kernels.expInPlace(own, ownCount, subtracting: maximum)
        Kernels.scale(scores, by: 1 / sum, prompt)
        Kernels.scale(own, by: 1 / sum, ownCount)
        (scores + prompt).update(repeating: 0, count: ownStart - prompt)
        if total > row + 1 { (scores + row + 1).update(repeating: 0, count: total - row - 1) }
    }

    /// Softmax over the first `visible` entries of a row; the rest (future positions) become 0.
    @inline(__always)
    static func causalSoftmax(_ scores: UnsafeMutablePointer<Float>, visible: Int, total: Int) {
        let maximum = Kernels.maximum(scores, visible)
        let sum = Kernels.expInPlace(scores, visible, subtracting: maximum)
        Kernels.scale(scores, by: 1 / sum, visible)
        if total > visible { (scores + visible).update(repeating: 0, count: total - visible) }
    }

    /// Overwrites `qkvGradient` [tokens, q|k|v] with the gradient of the attention output (every entry: each job
    /// writes its group's dK, dV and its query heads' dQ).
    static func backward(outputGradient: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
                         sequences: PackedSequences, config: TransformerConfig, qkvGradient: UnsafeMutablePointer<Float>) {
        let groupSize = config.headCount / config.keyValueHeadCount
        let d = config.headDimension, width = config.qkvWidth, outputWidth = config.queryWidth
        let scale = 1 / Float(d).squareRoot()
        func regionSizes(_ length: Int) -> [Int] {
            [length * length, length * length, length * d, length * d, length * d, length * d, length * d, length * d,
             length * d,
             PackedOperand.packedFloats(rows: length, columns: d, transposed: true),
             PackedOperand.packedFloats(rows: length, columns: d, transposed: true),
             PackedOperand.packedFloats(rows: length, columns: d, transposed: false)]
        }
        // One job per (sequence, kv head): the query heads of a group add into the same dK, dV.
        forEachKeyValueGroup(sequences, config: config, regionSizes: regionSizes) { sequence, group, start, length, regions in
            let visibility = sequences.visibility(of: sequence)
            let scores = regions[0], p = regions[1], k = regions[2], v = regions[3], q = regions[4], dO = regions[5]
            let dQ = regions[6], dK = regions[7], dV = regions[8]
            copyKeysAndValues(qkv, start: start, length: length, group: group, config: config, keys: k, values: v)
            // kᵀ for the scores, vᵀ for dP = dO·vᵀ, k for dQ = dS·k.
            let keysTransposed = PackedOperand(k, rows: length, columns: d, ldb: d, transposed: true, buffer: regions[9])
            let valuesTransposed = PackedOperand(v, rows: length, columns: d, ldb: d, transposed: true, buffer: regions[10])
            let keys = PackedOperand(k, rows: length, columns: d, ldb: d, transposed: false, buffer: regions[11])
            dK.update(repeating: 0, count: length * d)
            dV.update(repeating: 0, count: length * d)
            for head in group * groupSize..<(group + 1) * groupSize {
                copyRows(qkv + start * width + head * d, stride: width, rows: length, width: d, into: q)
                copyRows(outputGradient + start * outputWidth + head * d, stride: outputWidth, rows: length, width: d, into: dO)
                for r0 in causalBlocks(length) {
                    let r1 = min(length, r0 + causalBlockRows), rows = r1 - r0
                    probabilities(rows: r0..<r1, q: q, keys: keysTransposed, length: length, headDimension: d, scale: scale,
                                  visibility: visibility, into: p)
                    // dP = dO·vᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)) / √d
                    let dS = scores + r0 * length, block = p + r0 * length
                    valuesTransposed.multiply(m: rows, n: r1, k: d, dO + r0 * d, lda: d, dS, ldc: length)
                    for row in r0..<r1 {
                        let dSRow = scores + row * length, probability = p + row * length
                        // Masked columns of a branched run have P = 0, so they get dS = 0 here too.
                        let visible = row + 1
                        let rowDot = Kernels.dot(dSRow, probability, visible)
                        for column in 0..<visible { dSRow[column] = probability[column] * (dSRow[column] - rowDot) * scale }
                        if r1 > visible { (dSRow + visible).update(repeating: 0, count: r1 - visible) }
                    }
                    keys.multiply(m: rows, n: d, k: r1, dS, lda: length, dQ + r0 * d, ldc: d)
                    gemm(transposeA: true, m: r1, n: d, k: rows, dS, lda: length, q + r0 * d, ldb: d, beta: 1, dK, ldc: d)
                    gemm(transposeA: true, m: r1, n: d, k: rows, block, lda: length, dO + r0 * d, ldb: d, beta: 1, dV, ldc: d)
                }
                storeRows(dQ, rows: length, width: d, into: qkvGradient + start * width + head * d, stride: width)
            }
            storeRows(dK, rows: length, width: d, into: qkvGradient + start * width + config.queryWidth + group * d, stride: width)
            storeRows(dV, rows: length, width: d,
                      into: qkvGradient + start * width + config.queryWidth + config.keyValueWidth + group * d, stride: width)
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
