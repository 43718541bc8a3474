import Foundation
import Tensors

/// A prompt and the completion whose tokens are scored.
public struct TokenSequence: Sendable, Equatable {
    public var prompt: [Int32]
    public var completion: [Int32]
    public init(prompt: [Int32], completion: [Int32]) {
        self.prompt = prompt
        self.completion = completion
    }
    public var tokens: [Int32] { prompt + completion }
}

/// A decoder-only transformer of the Qwen2/Llama family: token embedding, `layerCount` blocks of
/// (RMSNorm → grouped-query attention with RoPE → residual, RMSNorm → SwiGLU MLP → residual),
/// a final RMSNorm and the language-model head (tied to the embedding or not).
public final class Transformer: @unchecked Sendable {
    public let config: TransformerConfig
    public let parameters: ModelParameters
    let rope: RotaryEmbedding
    let head: LogProbHead
    /// Keep softmax(logits) of the scored rows from forward to backward while it fits this many bytes;
    /// above it, backward recomputes the logits chunk by chunk.
    public var keptProbabilitiesBudgetBytes = 512 << 20
    /// Activation buffers of finished forward passes, reused by the next ones: a training step would
    /// otherwise map (and page-fault) fresh gigabytes every time.
    private var spareActivations: [LayerActivations] = []
    private let spareLock = NSLock()

    public init(config: TransformerConfig, parameters: ModelParameters? = nil) {
        self.config = config
        self.parameters = parameters ?? ModelParameters(config: config)
        precondition(self.parameters.config == config, "parameters were laid out for another config")
        rope = RotaryEmbedding(config: config)
        head = LogProbHead(vocabularySize: config.vocabularySize, hiddenSize: config.hiddenSize)
    }

    /// A model with the same weights and no shared state: a frozen reference, or another thread's copy.
    public func copy() -> Transformer {
        let copy = Transformer(config: config)
        copy.parameters.copyValues(from: parameters)
        copy.keptProbabilitiesBudgetBytes = keptProbabilitiesBudgetBytes
        return copy
    }

    /// An activation set for at least `tokens` rows, from the spares when one is big enough.
    func takeActivations(tokens: Int) -> LayerActivations {
        spareLock.lock()
        defer { spareLock.unlock() }
        if let index = spareActivations.indices.filter({ spareActivations[$0].capacity >= tokens })
            .min(by: { spareActivations[$0].capacity < spareActivations[$1].capacity }) {
            return spareActivations.remove(at: index)
        }
        return LayerActivations(tokens: tokens, config: config)
    }

    func recycle(_ activations: [LayerActivations]) {
        spareLock.lock()
        defer { spareLock.unlock() }
        spareActivations.append(contentsOf: activations)
        // Keep at most one full set of layers (plus one for no-grad passes).
        if spareActivations.count > config.layerCount + 1 {
            spareActivations.sort { $0.capacity > $1.capacity }
            spareActivations.removeLast(spareActivations.count - config.layerCount - 1)
        }
    }

    /// Frees the activation buffers kept for reuse.
    public func releaseCachedBuffers() {
        spareLock.lock()
        spareActivations.removeAll()
        spareLock.unlock()
    }

    var headWeightName: String { config.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight" }

    // MARK: Weights of one layer, as pointers into the parameter buffer

    struct LayerWeights {
        let inputNorm, qkv, qkvBias, outputProjection, outputBias, postAttentionNorm, gateUp, down: UnsafeMutablePointer<Float>?
    }

    func weights(layer: Int, in storage: TensorStorage) -> LayerWeights {
        let p = "model.layers.\(layer)."
        func at(_ name: String) -> UnsafeMutablePointer<Float>? {
            parameters.slot(p + name).map { storage.pointer + $0.offset }
        }
        return LayerWeights(
            inputNorm: at("input_layernorm.weight"), qkv: at("self_attn.q_proj.weight"), qkvBias: at("self_attn.q_proj.bias"),
            outputProjection: at("self_attn.o_proj.weight"), outputBias: at("self_attn.o_proj.bias"),
            postAttentionNorm: at("post_attention_layernorm.weight"), gateUp: at("mlp.gate_proj.weight"),
            down: at("mlp.down_proj.weight"))
    }

    // MARK: Checks

    func validate(_ batch: [TokenSequence]) throws {
        for (index, sequence) in batch.enumerated() {
            if sequence.prompt.isEmpty && !sequence.completion.isEmpty { throw PolicyModelError.emptyPrompt(sequence: index) }
            let length = sequence.prompt.count + sequence.completion.count
            if length > config.maxPositionEmbeddings {
                throw PolicyModelError.sequenceTooLong(sequence: index, length: length, maximum: config.maxPositionEmbeddings)
            }
            for (position, token) in sequence.tokens.enumerated() where token < 0 || Int(token) >= config.vocabularySize {
                throw PolicyModelError.tokenOutOfVocabulary(sequence: index, position: position, token: Int(token),
                                                            vocabularySize: config.vocabularySize)
            }
        }
    }
}

/// What one layer's forward keeps for its backward, for up to `capacity` rows. Every buffer is written
/// before it is read, so none is zero-filled.
final class LayerActivations {
    let capacity: Int
    let input: Tensor          // [T, D] residual stream entering the layer
    let inverseRMS1: Tensor    // [T]
    let normed1: Tensor        // [T, D]
    let qkv: Tensor            // [T, q|k|v] after RoPE
    let attention: Tensor      // [T, heads·d] before the output projection
    let middle: Tensor         // [T, D] residual stream after attention
    let inverseRMS2: Tensor    // [T]
    let normed2: Tensor        // [T, D]
    let gateUp: Tensor         // [T, 2I]
    let activation: Tensor     // [T, I]

    init(tokens: Int, config: TransformerConfig) {
        let d = config.hiddenSize
        capacity = tokens
        func buffer(_ shape: [Int]) -> Tensor {
            Tensor(view: TensorStorage(count: shape.reduce(1, *), zeroed: false), offset: 0, shape: shape)
        }
        input = buffer([tokens, d])
        inverseRMS1 = buffer([tokens])
        normed1 = buffer([tokens, d])
        qkv = buffer([tokens, config.qkvWidth])
        attention = buffer([tokens, config.queryWidth])
        middle = buffer([tokens, d])
        inverseRMS2 = buffer([tokens])
        normed2 = buffer([tokens, d])
        gateUp = buffer([tokens, 2 * config.intermediateSize])
        activation = buffer([tokens, config.intermediateSize])
    }
}

/// Whether a forward pass computes a prompt that several sequences of the batch share once for all of them.
public enum PromptSharing: Sendable {
    /// When that costs less (long prompts, short completions: GRPO's groups), estimated from the model's shape.
    case automatic
    case always
    case never
}

/// The result of a forward pass over a batch: per-token log-probs and entropies of every completion
/// token and, when asked for, everything `Transformer.backward` needs.
public final class ForwardPass {
    /// logProbs[s][j] = log p(completion[s][j] | prompt[s], completion[s][..<j]).
    public let logProbs: [[Float]]
    public let entropies: [[Float]]
    public let temperature: Float

    let sequences: PackedSequences
    let tokens: [Int32]
    let scoredRows: [Int]
    let targets: [Int32]
    let layers: [LayerActivations]
    let finalInput: Tensor       // [R, D] residual stream at the scored rows
    let finalInverseRMS: Tensor  // [R]
    let headInput: Tensor        // [R, D]
    var keptProbabilities: TensorStorage?
    var consumed = false
    private let model: Transformer

    deinit { model.recycle(layers) }

    init(model: Transformer, logProbs: [[Float]], entropies: [[Float]], temperature: Float, sequences: PackedSequences, tokens: [Int32],
         scoredRows: [Int], targets: [Int32], layers: [LayerActivations], finalInput: Tensor, finalInverseRMS: Tensor,
         headInput: Tensor, keptProbabilities: TensorStorage?) {
        self.model = model
        self.logProbs = logProbs
        self.entropies = entropies
        self.temperature = temperature
        self.sequences = sequences
        self.tokens = tokens
        self.scoredRows = scoredRows
        self.targets = targets
        self.layers = layers
        self.finalInput = finalInput
        self.finalInverseRMS = finalInverseRMS
        self.headInput = headInput
        self.keptProbabilities = keptProbabilities
    }
}

extension Transformer {
    /// Log-probs and entropies of every completion token, without keeping activations (old-policy and
    /// reference log-probs). `temperature` divides the logits first, as TRL does when scoring.
    public func logProbs(of batch: [TokenSequence], temperature: Float = 1) throws -> (logProbs: [[Float]], entropies: [[Float]]) {
        let pass = try forward(batch, temperature: temperature, keepActivations: false)
        return (pass.logProbs, pass.entropies)
    }

    /// The forward pass over a batch of ragged sequences, packed without padding. Sequences with the same
    /// prompt (GRPO's groups) share one computation of it when that is cheaper (`promptSharing`).
    public func forward(_ batch: [TokenSequence], temperature: Float = 1, keepActivations: Bool = true,
                        promptSharing: PromptSharing = .automatic) throws -> ForwardPass {
        try validate(batch)
        guard temperature > 0 else { throw PolicyModelError.invalidArgument("temperature must be positive, got \(temperature)") }
        let (sequences, tokens, scoredRows, targets) = pack(batch, promptSharing: promptSharing)
        let positions = sequences.positions
        let t = tokens.count, d = config.hiddenSize
        rope.reserve(positions: (positions.max() ?? 0) + 1)

        // Activations: one set per layer when backward will need them; otherwise one set reused.
        let layers = (0..<(keepActivations ? config.layerCount : 1)).map { _ in takeActivations(tokens: t) }
        embed(tokens, into: layers[0].input.pointer)
        var finalStream = layers[0].input
        for layer in 0..<config.layerCount {
            let activations = layers[keepActivations ? layer : 0]
            // Kept: the output is the next layer's input. Not kept: it overwrites this layer's input.
            let output: Tensor
            if !keepActivations {
                output = activations.input
            } else if layer + 1 < config.layerCount {
                output = layers[layer + 1].input
            } else {
                output = Tensor(view: TensorStorage(count: t * d, zeroed: false), offset: 0, shape: [t, d])
            }
            layerForward(layer, activations: activations, rows: t, positions: positions, output: output.pointer) { qkv, attention in
                Attention.forward(qkv: qkv, sequences: sequences, config: config, output: attention)
            }
            finalStream = output
        }

        // Final norm and head, only at the rows that predict a completion token.
        let r = scoredRows.count
        let finalInput = Tensor(zeros: [r, d]), finalInverseRMS = Tensor(zeros: [r]), headInput = Tensor(zeros: [r, d])
        for (row, source) in scoredRows.enumerated() {
            (finalInput.pointer + row * d).update(from: finalStream.pointer + source * d, count: d)
        }
        let normWeight = parameters.tensor("model.norm.weight").pointer
        RMSNorm.forward(finalInput.pointer, weight: normWeight, rows: r, width: d, epsilon: config.rmsNormEpsilon,
                        output: headInput.pointer, inverseRMS: finalInverseRMS.pointer)
        let headOutput = head.forward(input: headInput.pointer, rows: r, targets: targets,
                                      weight: parameters.tensor(headWeightName).pointer, temperature: temperature,
                                      keptBudgetBytes: keepActivations ? keptProbabilitiesBudgetBytes : 0)
        var logProbs: [[Float]] = [], entropies: [[Float]] = []
        var cursor = 0
        for sequence in batch {
            let count = sequence.completion.count
            logProbs.append(Array(headOutput.logProbs[cursor..<cursor + count]))
            entropies.append(Array(headOutput.entropies[cursor..<cursor + count]))
            cursor += count
        }
        if !keepActivations { recycle(layers) }
        return ForwardPass(model: self, logProbs: logProbs, entropies: entropies, temperature: temperature, sequences: sequences,
                           tokens: tokens, scoredRows: scoredRows, targets: targets,
                           layers: keepActivations ? layers : [], finalInput: finalInput,
                           finalInverseRMS: finalInverseRMS, headInput: headInput,
                           keptProbabilities: headOutput.keptProbabilities)
    }

    /// Packed rows of a batch, their tokens, and the row that predicts each completion token (in batch order).
    func pack(_ batch: [TokenSequence], promptSharing: PromptSharing)
        -> (sequences: PackedSequences, tokens: [Int32], scoredRows: [Int], targets: [Int32]) {
        // Runs in order of first appearance: a shared prompt with the batch indices of its completions, or one sequence.
        let runs: [(prompt: [Int32], members: [Int])] = promptSharing == .never
            ? batch.indices.map { (batch[$0].prompt, [$0]) }
            : identicalPromptGroups(batch.map(\.prompt)).map { (batch[$0[0]].prompt, $0) }
        var layout: [(sharedPrompt: Int, completions: [Int])] = []
        var tokens: [Int32] = []
        var scoredRow = [[Int]](repeating: [], count: batch.count)
        for run in runs {
            let completions = run.members.map { batch[$0].completion.count }
            let shared = run.members.count > 1 && (promptSharing == .always || sharingIsCheaper(prompt: run.prompt.count, completions: completions))
            if shared {
                let promptEnd = tokens.count + run.prompt.count
                tokens += run.prompt
                layout.append((run.prompt.count, completions))
                for member in run.members {
                    let completionStart = tokens.count
                    tokens += batch[member].completion
                    // The first completion token is predicted by the prompt's last row, the others by their predecessor.
                    scoredRow[member] = batch[member].completion.indices.map { $0 == 0 ? promptEnd - 1 : completionStart + $0 - 1 }
                }
            } else {
                for member in run.members {
                    let start = tokens.count + batch[member].prompt.count - 1
                    tokens += batch[member].tokens
                    layout.append((0, [batch[member].tokens.count]))
                    scoredRow[member] = batch[member].completion.indices.map { start + $0 }
                }
            }
        }
        return (PackedSequences(runs: layout), tokens, scoredRow.flatMap { $0 }, batch.flatMap(\.completion))
    }

    /// Indices of equal prompts, one group per distinct prompt, groups in order of first appearance.
    func identicalPromptGroups(_ prompts: [[Int32]]) -> [[Int]] {
        var groups: [[Int]] = []
        var groupOfPrompt: [[Int32]: Int] = [:]
        for (index, prompt) in prompts.enumerated() {
            if let group = groupOfPrompt[prompt] {
                groups[group].append(index)
            } else {
                groupOfPrompt[prompt] = groups.count
                groups.append([index])
            }
        }
        return groups
    }

    /// Whether computing a prompt once for its completions costs less than once per completion: fewer rows
    /// through the linear layers, but one attention over the whole run (quadratic in its length).
    func sharingIsCheaper(prompt: Int, completions: [Int]) -> Bool {
        let d = config.hiddenSize
        let perRow = Double(config.qkvWidth * d + d * config.queryWidth + 3 * d * config.intermediateSize)
        let perPair = Double(2 * config.headCount * config.headDimension)
        func cost(rows: Int) -> Double { Double(rows) * perRow + Double(rows * rows) * perPair }
        let separate = completions.reduce(0) { $0 + cost(rows: prompt + $1) }
        return cost(rows: prompt + completions.reduce(0, +)) < separate
    }

    func embed(_ tokens: [Int32], into output: UnsafeMutablePointer<Float>) {
        let d = config.hiddenSize
        let table = parameters.tensor("model.embed_tokens.weight").pointer
        Parallel.parallelFor(tokens.count, minimumChunk: 64) { range in
            for row in range { (output + row * d).update(from: table + Int(tokens[row]) * d, count: d) }
        }
    }

    /// One transformer block over `t` rows: writes `output` = input + attention + MLP. `attend` turns the
    /// rotated q|k|v rows into attention outputs: packed causal attention, or attention over a KV cache.
    /// `output` may be `a.input` itself: the input is last read (into `a.middle`) before output is written.
    func layerForward(_ layer: Int, activations a: LayerActivations, rows t: Int, positions: [Int],
                      output: UnsafeMutablePointer<Float>,
                      attend: (_ qkv: UnsafeMutablePointer<Float>, _ attention: UnsafeMutablePointer<Float>) -> Void) {
        let w = weights(layer: layer, in: parameters.values)
        let d = config.hiddenSize, i = config.intermediateSize
        RMSNorm.forward(a.input.pointer, weight: w.inputNorm!, rows: t, width: d, epsilon: config.rmsNormEpsilon,
                        output: a.normed1.pointer, inverseRMS: a.inverseRMS1.pointer)
        projectQKV(a.normed1.pointer, rows: t, weights: w, output: a.qkv.pointer)
        applyRotary(a.qkv.pointer, rows: t, positions: positions)
        attend(a.qkv.pointer, a.attention.pointer)
        a.middle.pointer.update(from: a.input.pointer, count: t * d)
        addBias(w.outputBias, to: a.middle.pointer, rows: t, width: d)
        gemm(transposeB: true, m: t, n: d, k: config.queryWidth, a.attention.pointer, lda: config.queryWidth,
             w.outputProjection!, ldb: config.queryWidth, beta: 1, a.middle.pointer, ldc: d)
        RMSNorm.forward(a.middle.pointer, weight: w.postAttentionNorm!, rows: t, width: d, epsilon: config.rmsNormEpsilon,
                        output: a.normed2.pointer, inverseRMS: a.inverseRMS2.pointer)
        gemm(transposeB: true, m: t, n: 2 * i, k: d, a.normed2.pointer, lda: d, w.gateUp!, ldb: d, a.gateUp.pointer, ldc: 2 * i)
        SwiGLU.forward(gateUp: a.gateUp.pointer, rows: t, width: i, output: a.activation.pointer)
        output.update(from: a.middle.pointer, count: t * d)
        gemm(transposeB: true, m: t, n: d, k: i, a.activation.pointer, lda: i, w.down!, ldb: i, beta: 1, output, ldc: d)
    }

    func projectQKV(_ input: UnsafePointer<Float>, rows t: Int, weights w: LayerWeights, output: UnsafeMutablePointer<Float>) {
        let d = config.hiddenSize, width = config.qkvWidth
        if let bias = w.qkvBias {
            for row in 0..<t { (output + row * width).update(from: bias, count: width) }
            gemm(transposeB: true, m: t, n: width, k: d, input, lda: d, w.qkv!, ldb: d, beta: 1, output, ldc: width)
        } else {
            gemm(transposeB: true, m: t, n: width, k: d, input, lda: d, w.qkv!, ldb: d, output, ldc: width)
        }
    }

    func addBias(_ bias: UnsafeMutablePointer<Float>?, to rows: UnsafeMutablePointer<Float>, rows count: Int, width: Int) {
        guard let bias else { return }
        for row in 0..<count { Kernels.add(bias, into: rows + row * width, width) }
    }

    /// Rotates the q and k parts of every row to its position (or back, for gradients).
    func applyRotary(_ qkv: UnsafeMutablePointer<Float>, rows t: Int, positions: [Int], inverse: Bool = false) {
        let width = config.qkvWidth
        Parallel.parallelFor(t, minimumChunk: 32) { range in
            for row in range {
                let base = qkv + row * width
                rope.rotate(base, headCount: config.headCount, position: positions[row], inverse: inverse)
                rope.rotate(base + config.queryWidth, headCount: config.keyValueHeadCount, position: positions[row], inverse: inverse)
            }
        }
    }

    // MARK: Backward

    /// Accumulates into `parameters.gradients` the gradient of a loss whose derivative with respect to
    /// each completion token's log-prob is `logProbGradients[s][j]`. Consumes the forward pass.
    public func backward(_ pass: ForwardPass, logProbGradients: [[Float]]) throws {
        guard !pass.layers.isEmpty || config.layerCount == 0 else {
            throw PolicyModelError.invalidArgument("backward needs a forward pass made with keepActivations: true")
        }
        guard !pass.consumed else { throw PolicyModelError.invalidArgument("this forward pass was already used for a backward pass") }
        guard logProbGradients.count == pass.logProbs.count,
              zip(logProbGradients, pass.logProbs).allSatisfy({ $0.count == $1.count }) else {
            throw PolicyModelError.invalidArgument("logProbGradients must have one value per completion token, shaped like logProbs")
        }
        pass.consumed = true
        let t = pass.sequences.tokenCount, d = config.hiddenSize, i = config.intermediateSize, width = config.qkvWidth
        let r = pass.scoredRows.count
        let gradients = parameters.gradients

        // Head and final norm, at the scored rows; then scatter into the residual-stream gradient.
        let headInputGradient = Tensor(zeros: [r, d])
        head.backward(logProbGradients: logProbGradients.flatMap { $0 }, input: pass.headInput.pointer, rows: r,
                      targets: pass.targets, weight: parameters.tensor(headWeightName).pointer, temperature: pass.temperature,
                      keptProbabilities: pass.keptProbabilities, inputGradient: headInputGradient.pointer,
                      weightGradient: parameters.gradient(headWeightName).pointer)
        pass.keptProbabilities = nil
        let finalGradient = Tensor(zeros: [r, d])
        RMSNorm.backward(outputGradient: headInputGradient.pointer, input: pass.finalInput.pointer,
                         weight: parameters.tensor("model.norm.weight").pointer, inverseRMS: pass.finalInverseRMS.pointer,
                         rows: r, width: d, inputGradient: finalGradient.pointer,
                         weightGradient: parameters.gradient("model.norm.weight").pointer)
        let streamGradient = Tensor(zeros: [t, d])
        for (row, target) in pass.scoredRows.enumerated() {
            Kernels.add(finalGradient.pointer + row * d, into: streamGradient.pointer + target * d, d)
        }

        // Scratch that every step overwrites whole (gemm with beta 0, or zeroed where it accumulates).
        func scratch(_ shape: [Int]) -> Tensor { Tensor(view: TensorStorage(count: shape.reduce(1, *), zeroed: false), offset: 0, shape: shape) }
        let normedGradient = scratch([t, d])
        let activationGradient = scratch([t, i])
        let gateUpGradient = scratch([t, 2 * i])
        let attentionGradient = scratch([t, config.queryWidth])
        let qkvGradient = scratch([t, width])
        let dx = streamGradient.pointer
        for layer in stride(from: config.layerCount - 1, through: 0, by: -1) {
            let a = pass.layers[layer]
            let w = weights(layer: layer, in: parameters.values)
            let g = weights(layer: layer, in: gradients)
            // MLP: output = middle + down(SwiGLU(gate_up(norm2(middle))))
            gemm(m: t, n: i, k: d, dx, lda: d, w.down!, ldb: i, activationGradient.pointer, ldc: i)
            gemm(transposeA: true, m: d, n: i, k: t, dx, lda: d, a.activation.pointer, ldb: i, beta: 1, g.down!, ldc: i)
            SwiGLU.backward(outputGradient: activationGradient.pointer, gateUp: a.gateUp.pointer, rows: t, width: i,
                            gateUpGradient: gateUpGradient.pointer)
            gemm(m: t, n: d, k: 2 * i, gateUpGradient.pointer, lda: 2 * i, w.gateUp!, ldb: d, normedGradient.pointer, ldc: d)
            gemm(transposeA: true, m: 2 * i, n: d, k: t, gateUpGradient.pointer, lda: 2 * i, a.normed2.pointer, ldb: d,
                 beta: 1, g.gateUp!, ldc: d)
            RMSNorm.backward(outputGradient: normedGradient.pointer, input: a.middle.pointer, weight: w.postAttentionNorm!,
                             inverseRMS: a.inverseRMS2.pointer, rows: t, width: d, inputGradient: dx,
                             weightGradient: g.postAttentionNorm!)
            // Attention: middle = input + o_proj(attention(rope(qkv(norm1(input)))))
            gemm(m: t, n: config.queryWidth, k: d, dx, lda: d, w.outputProjection!, ldb: config.queryWidth,
                 attentionGradient.pointer, ldc: config.queryWidth)
            gemm(transposeA: true, m: d, n: config.queryWidth, k: t, dx, lda: d, a.attention.pointer, ldb: config.queryWidth,
                 beta: 1, g.outputProjection!, ldc: config.queryWidth)
            if let outputBiasGradient = g.outputBias { addColumnSums(of: dx, rows: t, width: d, into: outputBiasGradient) }
            Attention.backward(outputGradient: attentionGradient.pointer, qkv: a.qkv.pointer, sequences: pass.sequences,
                               config: config, qkvGradient: qkvGradient.pointer)
            applyRotary(qkvGradient.pointer, rows: t, positions: pass.sequences.positions, inverse: true)
            if let qkvBiasGradient = g.qkvBias { addColumnSums(of: qkvGradient.pointer, rows: t, width: width, into: qkvBiasGradient) }
            gemm(m: t, n: d, k: width, qkvGradient.pointer, lda: width, w.qkv!, ldb: d, normedGradient.pointer, ldc: d)
            gemm(transposeA: true, m: width, n: d, k: t, qkvGradient.pointer, lda: width, a.normed1.pointer, ldb: d,
                 beta: 1, g.qkv!, ldc: d)
            RMSNorm.backward(outputGradient: normedGradient.pointer, input: a.input.pointer, weight: w.inputNorm!,
                             inverseRMS: a.inverseRMS1.pointer, rows: t, width: d, inputGradient: dx,
                             weightGradient: g.inputNorm!)
        }
        // Embedding: scatter-add each row's gradient into its token's row (columns in parallel: no races).
        let tableGradient = parameters.gradient("model.embed_tokens.weight").pointer
        Parallel.parallelFor(d, minimumChunk: 64) { columns in
            for (row, token) in pass.tokens.enumerated() {
                let source = dx + row * d, target = tableGradient + Int(token) * d
                for column in columns { target[column] += source[column] }
            }
        }
    }

    func addColumnSums(of matrix: UnsafePointer<Float>, rows: Int, width: Int, into sums: UnsafeMutablePointer<Float>) {
        Parallel.parallelFor(width, minimumChunk: 64) { columns in
            for row in 0..<rows {
                let source = matrix + row * width
                for column in columns { sums[column] += source[column] }
            }
        }
    }
}
