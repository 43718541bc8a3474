import Foundation
import Tensors

/// Keys and values of every layer for a batch of sequences, each in its own slot of `capacity` positions.
final class KVCache {
    let capacity: Int
    let width: Int
    let keys: [TensorStorage]
    let values: [TensorStorage]
    var lengths: [Int]

    init(config: TransformerConfig, slots: Int, capacity: Int) {
        self.capacity = capacity
        width = config.keyValueWidth
        keys = (0..<config.layerCount).map { _ in TensorStorage(count: slots * capacity * config.keyValueWidth, zeroed: false) }
        values = (0..<config.layerCount).map { _ in TensorStorage(count: slots * capacity * config.keyValueWidth, zeroed: false) }
        lengths = Array(repeating: 0, count: slots)
    }

    /// Copies the k and v parts of a q|k|v row into slot `slot` at `position`.
    @inline(__always)
    func store(layer: Int, slot: Int, position: Int, qkvRow: UnsafePointer<Float>, config: TransformerConfig) {
        let offset = (slot * capacity + position) * width
        (keys[layer].pointer + offset).update(from: qkvRow + config.queryWidth, count: width)
        (values[layer].pointer + offset).update(from: qkvRow + config.queryWidth + width, count: width)
    }
}

extension Transformer {
    /// Samples a completion for every prompt, all in one batch with a KV cache.
    ///
    /// Sequence i draws from its own random stream `SeededGenerator(seed: seed, stream: i)`, so its tokens
    /// do not depend on the other sequences of the batch or on the thread count.
    public func generate(prompts: [[Int32]], parameters: SamplingParameters, seed: UInt64) throws -> [Generation] {
        var generators = prompts.indices.map { SeededGenerator(seed: seed, stream: UInt64($0)) }
        return try generate(prompts: prompts, parameters: parameters, generators: &generators)
    }

    /// As `generate(prompts:parameters:seed:)` with one generator per prompt, advanced in place (so a
    /// trainer can save and restore them).
    public func generate(prompts: [[Int32]], parameters: SamplingParameters,
                         generators: inout [SeededGenerator]) throws -> [Generation] {
        try parameters.validate()
        precondition(generators.count == prompts.count, "one generator per prompt")
        try validate(prompts.map { TokenSequence(prompt: $0, completion: []) })
        for (index, prompt) in prompts.enumerated() {
            if prompt.isEmpty { throw PolicyModelError.emptyPrompt(sequence: index) }
            let length = prompt.count + parameters.maxNewTokens
            if length > config.maxPositionEmbeddings {
                throw PolicyModelError.sequenceTooLong(sequence: index, length: length, maximum: config.maxPositionEmbeddings)
            }
        }
        guard !prompts.isEmpty else { return [] }
        var results = prompts.map { _ in Generation(tokens: [], finishReason: .length) }
        guard parameters.maxNewTokens > 0 else { return results }

        let capacity = prompts.map(\.count).max()! + parameters.maxNewTokens
        let cache = KVCache(config: config, slots: prompts.count, capacity: capacity)
        rope.reserve(positions: capacity)
        let sampler = TokenSampler(parameters: parameters)
        let v = config.vocabularySize
        var candidates = (0..<Parallel.threadCount).map { _ in [Int32](repeating: 0, count: v) }

        var active = Array(prompts.indices)
        var logits = prefill(prompts, cache: cache)
        while !active.isEmpty {
            // Sample one token for every active sequence, in parallel (each has its own generator).
            var next = [Int32](repeating: 0, count: active.count)
            generators.withUnsafeMutableBufferPointer { generatorBuffer in
                next.withUnsafeMutableBufferPointer { nextBuffer in
                    candidates.withUnsafeMutableBufferPointer { candidateBuffers in
                        let chunks = min(active.count, candidateBuffers.count)
                        Parallel.parallelFor(chunks) { range in
                            for chunk in range {
                                var row = chunk * active.count / chunks
                                let end = (chunk + 1) * active.count / chunks
                                while row < end {
                                    nextBuffer[row] = sampler.sample(logits.pointer + row * v, vocabularySize: v,
                                                                     generator: &generatorBuffer[active[row]],
                                                                     candidates: &candidateBuffers[chunk])
                                    row += 1
                                }
                            }
                        }
                    }
                }
            }
            var stillActive: [Int] = [], stillActiveTokens: [Int32] = []
            for (row, sequence) in active.enumerated() {
                let token = next[row]
                results[sequence].tokens.append(token)
                let generated = results[sequence].tokens
                if parameters.eosTokenIds.contains(token) {
                    results[sequence].finishReason = .eos
                } else if parameters.stopSequences.contains(where: { generated.count >= $0.count && generated.suffix($0.count).elementsEqual($0) }) {
                    results[sequence].finishReason = .stop
                } else if generated.count >= parameters.maxNewTokens {
                    results[sequence].finishReason = .length
                } else {
                    stillActive.append(sequence)
                    stillActiveTokens.append(token)
                }
            }
            active = stillActive
            if !active.isEmpty { logits = decode(stillActiveTokens, slots: active, cache: cache) }
        }
        return results
    }

    /// Runs the prompts through the model, fills the cache, and returns the next-token logits [prompts, V].
    /// A prompt that appears several times (GRPO samples G completions of each) is run once; its keys,
    /// values and logits are copied to the other slots.
    func prefill(_ prompts: [[Int32]], cache: KVCache) -> Tensor {
        let groups = identicalPromptGroups(prompts)
        let distinct = groups.map { $0[0] }
        var representative = [Int](repeating: 0, count: prompts.count)
        for group in groups { for slot in group { representative[slot] = group[0] } }
        let sequences = PackedSequences(lengths: distinct.map { prompts[$0].count })
        let tokens = distinct.flatMap { prompts[$0] }
        let positions = sequences.positions
        var slotOfRow: [Int] = []
        for (index, length) in sequences.lengths.enumerated() { slotOfRow.append(contentsOf: repeatElement(distinct[index], count: length)) }
        let distinctLogits = runLayers(tokens, positions: positions, scoreRows: sequences.starts.indices.map {
            sequences.starts[$0] + sequences.lengths[$0] - 1
        }) { layer, qkv, attention in
            for row in 0..<tokens.count {
                cache.store(layer: layer, slot: slotOfRow[row], position: positions[row], qkvRow: qkv + row * config.qkvWidth, config: config)
            }
            Attention.forward(qkv: qkv, sequences: sequences, config: config, output: attention)
        }
        for (slot, prompt) in prompts.enumerated() { cache.lengths[slot] = prompt.count }
        guard distinct.count < prompts.count else { return distinctLogits }

        let v = config.vocabularySize
        let rowOfDistinct = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
        let logits = Tensor(zeros: [prompts.count, v])
        for slot in prompts.indices {
            let source = representative[slot]
            (logits.pointer + slot * v).update(from: distinctLogits.pointer + rowOfDistinct[source]! * v, count: v)
            guard source != slot else { continue }
            let count = prompts[slot].count * cache.width
            for layer in 0..<config.layerCount {
                (cache.keys[layer].pointer + slot * cache.capacity * cache.width)
                    .update(from: cache.keys[layer].pointer + source * cache.capacity * cache.width, count: count)
                (cache.values[layer].pointer + slot * cache.capacity * cache.width)
                    .update(from: cache.values[layer].pointer + source * cache.capacity * cache.width, count: count)
            }
        }
        return logits
    }

    /// Feeds one token per active slot (at the slot's next position) and returns logits [slots, V].
    func decode(_ tokens: [Int32], slots: [Int], cache: KVCache) -> Tensor {
        let m = tokens.count
        let positions = slots.map { cache.lengths[$0] }
        let cacheLengths = positions.map { $0 + 1 }
        let logits = runLayers(tokens, positions: positions, scoreRows: Array(0..<m)) { layer, qkv, attention in
            for row in 0..<m {
                cache.store(layer: layer, slot: slots[row], position: positions[row], qkvRow: qkv + row * config.qkvWidth, config: config)
            }
            Attention.decode(qkv: qkv, rows: m, slots: slots, cacheLengths: cacheLengths,
                             keys: cache.keys[layer].pointer, values: cache.values[layer].pointer,
                             cacheCapacity: cache.capacity, config: config, output: attention)
        }
        for slot in slots { cache.lengths[slot] += 1 }
        return logits
    }

    /// Embeds `tokens`, runs every layer with `attend` as its attention step (which also fills the cache),
    /// and returns the next-token logits at `scoreRows`, without keeping activations.
    private func runLayers(_ tokens: [Int32], positions: [Int], scoreRows: [Int],
                           attend: (_ layer: Int, _ qkv: UnsafeMutablePointer<Float>, _ attention: UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        let t = tokens.count
        let activations = takeActivations(tokens: t)
        defer { recycle([activations]) }
        embed(tokens, into: activations.input.pointer)
        for layer in 0..<config.layerCount {
            // Each layer's output overwrites its input (see layerForward).
            layerForward(layer, activations: activations, rows: t, positions: positions, output: activations.input.pointer) { qkv, attention in
                attend(layer, qkv, attention)
            }
        }
        return nextTokenLogits(stream: activations.input.pointer, rows: scoreRows)
    }

    /// Final norm and head at the given rows of the residual stream: logits [rows, V].
    func nextTokenLogits(stream: UnsafePointer<Float>, rows: [Int]) -> Tensor {
        let d = config.hiddenSize, r = rows.count
        let gathered = Tensor(zeros: [r, d]), normed = Tensor(zeros: [r, d]), inverseRMS = Tensor(zeros: [r])
        for (row, source) in rows.enumerated() { (gathered.pointer + row * d).update(from: stream + source * d, count: d) }
        RMSNorm.forward(gathered.pointer, weight: parameters.tensor("model.norm.weight").pointer, rows: r, width: d,
                        epsilon: config.rmsNormEpsilon, output: normed.pointer, inverseRMS: inverseRMS.pointer)
        let logits = Tensor(zeros: [r, config.vocabularySize])
        gemm(transposeB: true, m: r, n: config.vocabularySize, k: d, normed.pointer, lda: d,
             parameters.tensor(headWeightName).pointer, ldb: d, logits.pointer, ldc: config.vocabularySize)
        return logits
    }

    /// Next-token logits after each full sequence, without a cache (for tests and checks).
    public func logits(after sequences: [[Int32]]) throws -> [[Float]] {
        try validate(sequences.map { TokenSequence(prompt: $0, completion: []) })
        let cache = KVCache(config: config, slots: sequences.count, capacity: sequences.map(\.count).max() ?? 0)
        rope.reserve(positions: cache.capacity + 1)
        let logits = prefill(sequences, cache: cache)
        return (0..<sequences.count).map { Array(logits.rows($0..<$0 + 1).buffer) }
    }

    /// Logits after each prompt, then after each token of `continuations` fed one at a time through the
    /// KV cache: [sequence][step][vocabulary]. Lets tests check cached decoding against a full forward.
    public func cachedLogits(prompts: [[Int32]], continuations: [[Int32]]) throws -> [[[Float]]] {
        precondition(prompts.count == continuations.count)
        try validate(zip(prompts, continuations).map { TokenSequence(prompt: $0, completion: $1) })
        let capacity = zip(prompts, continuations).map { $0.count + $1.count }.max() ?? 0
        let cache = KVCache(config: config, slots: prompts.count, capacity: capacity)
        rope.reserve(positions: capacity + 1)
        var first = prefill(prompts, cache: cache)
        var result = (0..<prompts.count).map { [Array(first.rows($0..<$0 + 1).buffer)] }
        let steps = continuations.map(\.count).max() ?? 0
        for step in 0..<steps {
            let slots = continuations.indices.filter { step < continuations[$0].count }
            first = decode(slots.map { continuations[$0][step] }, slots: slots, cache: cache)
            for (row, slot) in slots.enumerated() { result[slot].append(Array(first.rows(row..<row + 1).buffer)) }
        }
        return result
    }
}
