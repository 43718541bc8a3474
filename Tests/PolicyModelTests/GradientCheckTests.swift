import XCTest
@testable import PolicyModel
@testable import Tensors

/// Every layer's backward against central finite differences of its forward, and the whole model's.
final class GradientCheckTests: XCTestCase {
    var generator = SeededGenerator(seed: 11)

    func randomArray(_ count: Int, scale: Float = 1) -> [Float] { (0..<count).map { _ in generator.nextNormal() * scale } }

    /// Central differences of `loss` with respect to `values[index]` for each checked index.
    func numericGradient(_ values: inout [Float], indices: [Int], step: Float = 1e-2, loss: ([Float]) -> Float) -> [Float] {
        indices.map { index in
            let saved = values[index]
            values[index] = saved + step
            let plus = loss(values)
            values[index] = saved - step
            let minus = loss(values)
            values[index] = saved
            return (plus - minus) / (2 * step)
        }
    }

    func assertGradientsAgree(_ analytic: [Float], _ numeric: [Float], tolerance: Float = 2e-2, _ what: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        let scale = max(numeric.map(abs).max() ?? 0, 1e-3)
        for (index, (a, n)) in zip(analytic, numeric).enumerated() {
            XCTAssertEqual(a, n, accuracy: tolerance * scale, "\(what): entry \(index)", file: file, line: line)
        }
    }

    func weightedSum(_ values: [Float], _ weights: [Float]) -> Float { zip(values, weights).reduce(0) { $0 + $1.0 * $1.1 } }

    func testRMSNormBackwardMatchesFiniteDifferences() {
        let rows = 3, width = 12
        var x = randomArray(rows * width), weight = randomArray(width, scale: 0.5).map { $0 + 1 }
        let coefficients = randomArray(rows * width)
        func forward(_ x: [Float], _ w: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: rows * width), r = [Float](repeating: 0, count: rows)
            RMSNorm.forward(x, weight: w, rows: rows, width: width, epsilon: 1e-5, output: &y, inverseRMS: &r)
            return y
        }
        var r = [Float](repeating: 0, count: rows), y = [Float](repeating: 0, count: rows * width)
        RMSNorm.forward(x, weight: weight, rows: rows, width: width, epsilon: 1e-5, output: &y, inverseRMS: &r)
        var dx = [Float](repeating: 0, count: rows * width), dw = [Float](repeating: 0, count: width)
        RMSNorm.backward(outputGradient: coefficients, input: x, weight: weight, inverseRMS: r, rows: rows, width: width,
                         inputGradient: &dx, weightGradient: &dw)
        let w0 = weight, x0 = x
        assertGradientsAgree(dx, numericGradient(&x, indices: Array(0..<rows * width)) { weightedSum(forward($0, w0), coefficients) }, "dx")
        assertGradientsAgree(dw, numericGradient(&weight, indices: Array(0..<width)) { weightedSum(forward(x0, $0), coefficients) }, "dw")
    }

    func testSwiGLUBackwardMatchesFiniteDifferences() {
        let rows = 3, width = 11
        var gateUp = randomArray(rows * 2 * width, scale: 2)
        let coefficients = randomArray(rows * width)
        func forward(_ gateUp: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: rows * width)
            SwiGLU.forward(gateUp: gateUp, rows: rows, width: width, output: &y)
            return y
        }
        var gradient = [Float](repeating: 0, count: rows * 2 * width)
        SwiGLU.backward(outputGradient: coefficients, gateUp: gateUp, rows: rows, width: width, gateUpGradient: &gradient)
        let numeric = numericGradient(&gateUp, indices: Array(0..<gateUp.count)) { weightedSum(forward($0), coefficients) }
        assertGradientsAgree(gradient, numeric, "d gate|up")
    }

    func testRotaryInverseIsTheTransposeOfTheRotation() {
        let config = TransformerConfig(vocabularySize: 4, hiddenSize: 8, intermediateSize: 4, layerCount: 1, headCount: 2,
                                       keyValueHeadCount: 1, headDimension: 8, ropeTheta: 1000)
        let rope = RotaryEmbedding(config: config)
        rope.reserve(positions: 40)
        let x = randomArray(16), y = randomArray(16)
        var rotated = x, back = y
        rope.rotate(&rotated, headCount: 2, position: 37)
        rope.rotate(&back, headCount: 2, position: 37, inverse: true)
        // ⟨R x, y⟩ = ⟨x, Rᵀ y⟩ and Rᵀ R = I
        XCTAssertEqual(weightedSum(rotated, y), weightedSum(x, back), accuracy: 1e-4)
        rope.rotate(&rotated, headCount: 2, position: 37, inverse: true)
        for (a, b) in zip(rotated, x) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    let attentionConfig = TransformerConfig(vocabularySize: 4, hiddenSize: 8, intermediateSize: 4, layerCount: 1, headCount: 4,
                                            keyValueHeadCount: 2, headDimension: 4)

    func attentionOutput(_ qkv: [Float], _ sequences: PackedSequences) -> [Float] {
        var output = [Float](repeating: 0, count: sequences.tokenCount * attentionConfig.queryWidth)
        qkv.withUnsafeBufferPointer {
            Attention.forward(qkv: $0.baseAddress!, sequences: sequences, config: attentionConfig, output: &output)
        }
        return output
    }

    /// Attention's backward at the entries `checked` of q|k|v against central differences of a weighted output sum.
    func assertAttentionBackwardMatchesFiniteDifferences(_ qkv: [Float], _ sequences: PackedSequences, checked: [Int]) {
        var qkv = qkv
        let coefficients = randomArray(sequences.tokenCount * attentionConfig.queryWidth)
        var gradient = [Float](repeating: 0, count: qkv.count)
        Attention.backward(outputGradient: coefficients, qkv: qkv, sequences: sequences, config: attentionConfig,
                           qkvGradient: &gradient)
        let numeric = numericGradient(&qkv, indices: checked) { weightedSum(attentionOutput($0, sequences), coefficients) }
        assertGradientsAgree(checked.map { gradient[$0] }, numeric, "d q|k|v")
    }

    func testAttentionBackwardMatchesFiniteDifferencesOverRaggedSequences() {
        let sequences = PackedSequences(lengths: [3, 1, 5])
        let qkv = randomArray(sequences.tokenCount * attentionConfig.qkvWidth)
        assertAttentionBackwardMatchesFiniteDifferences(qkv, sequences, checked: Array(0..<qkv.count))
    }

    /// Runs longer than two of attention's causal row blocks, one of them a shared prompt with two completions:
    /// forward equals attention written out row by row, backward equals finite differences.
    func testAttentionOverSeveralCausalBlocksMatchesDirectAttentionAndFiniteDifferences() {
        let config = attentionConfig, block = Attention.causalBlockRows
        let sequences = PackedSequences(runs: [(sharedPrompt: 0, completions: [2 * block + 22]), (sharedPrompt: 0, completions: [3]),
                                               (sharedPrompt: block - 5, completions: [block + 1, 30])])
        let t = sequences.tokenCount, width = config.qkvWidth, d = config.headDimension
        let qkv = randomArray(t * width)
        // Row i of a run sees column j ≤ i, except that a completion row sees only the prompt and its own completion.
        var direct = [Float](repeating: 0, count: t * config.queryWidth)
        for run in 0..<sequences.starts.count {
            let start = sequences.starts[run], visibility = sequences.visibility(of: run)
            for head in 0..<config.headCount {
                let group = head / (config.headCount / config.keyValueHeadCount)
                for i in 0..<sequences.lengths[run] {
                    let ownStart = visibility.ownStart(i)
                    let seen = (0...i).filter { ownStart == 0 || $0 < visibility.sharedPrompt || $0 >= ownStart }
                    let scores = seen.map { j in
                        (0..<d).reduce(Float(0)) { sum, c in
                            sum + qkv[(start + i) * width + head * d + c] * qkv[(start + j) * width + config.queryWidth + group * d + c]
                        } / Float(d).squareRoot()
                    }
                    let top = scores.max()!, weights = scores.map { exp($0 - top) }, total = weights.reduce(0, +)
                    for c in 0..<d {
                        direct[(start + i) * config.queryWidth + head * d + c] = zip(seen, weights).reduce(Float(0)) { sum, pair in
                            sum + pair.1 / total * qkv[(start + pair.0) * width + config.queryWidth + config.keyValueWidth + group * d + c]
                        }
                    }
                }
            }
        }
        for (index, (a, b)) in zip(attentionOutput(qkv, sequences), direct).enumerated() {
            XCTAssertEqual(a, b, accuracy: 1e-5, "output \(index)")
        }
        assertAttentionBackwardMatchesFiniteDifferences(qkv, sequences, checked: Array(stride(from: 0, to: qkv.count, by: 11)))
    }

    func testLogProbHeadBackwardMatchesFiniteDifferencesWithKeptAndRecomputedProbabilities() {
        let rows = 5, hidden = 6, vocabulary = 13
        let head = LogProbHead(vocabularySize: vocabulary, hiddenSize: hidden)
        var input = randomArray(rows * hidden), weight = randomArray(vocabulary * hidden)
        let targets: [Int32] = [0, 12, 5, 5, 7]
        let upstream = randomArray(rows)
        for budget in [1 << 20, 0] {
            func loss(_ input: [Float], _ weight: [Float]) -> Float {
                let output = head.forward(input: input, rows: rows, targets: targets, weight: weight, temperature: 0.7, keptBudgetBytes: 0)
                return weightedSum(output.logProbs, upstream)
            }
            let output = head.forward(input: input, rows: rows, targets: targets, weight: weight, temperature: 0.7, keptBudgetBytes: budget)
            XCTAssertEqual(output.keptProbabilities != nil, budget > 0)
            var dInput = [Float](repeating: 0, count: rows * hidden), dWeight = [Float](repeating: 0, count: vocabulary * hidden)
            head.backward(logProbGradients: upstream, input: input, rows: rows, targets: targets, weight: weight, temperature: 0.7,
                          keptProbabilities: output.keptProbabilities, inputGradient: &dInput, weightGradient: &dWeight)
            let w0 = weight, x0 = input
            assertGradientsAgree(dInput, numericGradient(&input, indices: Array(0..<input.count)) { loss($0, w0) }, "d input (budget \(budget))")
            assertGradientsAgree(dWeight, numericGradient(&weight, indices: Array(0..<weight.count)) { loss(x0, $0) }, "d weight (budget \(budget))")
        }
    }

    func testLogProbHeadEntropyIsTheEntropyOfTheSoftmax() {
        let head = LogProbHead(vocabularySize: 7, hiddenSize: 3)
        let input = randomArray(6), weight = randomArray(21)
        let output = head.forward(input: input, rows: 2, targets: [1, 2], weight: weight, temperature: 1, keptBudgetBytes: 1 << 20)
        for row in 0..<2 {
            let logits = (0..<7).map { v in (0..<3).reduce(Float(0)) { $0 + input[row * 3 + $1] * weight[v * 3 + $1] } }
            let m = logits.max()!
            let z = logits.map { exp($0 - m) }.reduce(0, +)
            let p = logits.map { exp($0 - m) / z }
            XCTAssertEqual(output.entropies[row], -p.map { $0 * log($0) }.reduce(0, +), accuracy: 1e-5)
            XCTAssertEqual(output.logProbs[row], log(p[row + 1]), accuracy: 1e-5)
        }
    }

    func testWholeModelBackwardMatchesFiniteDifferencesForEveryParameterTensor() throws {
        for (modelType, tied) in [(TransformerConfig.ModelType.qwen2, false), (.llama, true)] {
            let config = TransformerConfig(modelType: modelType, vocabularySize: 11, hiddenSize: 8, intermediateSize: 12, layerCount: 2,
                                           headCount: 2, keyValueHeadCount: 1, headDimension: 6, ropeTheta: 500,
                                           tieWordEmbeddings: tied, qkvBias: modelType == .qwen2, outputProjectionBias: modelType == .llama)
            let model = Transformer(config: config)
            model.parameters.initializeRandomly(seed: 5, standardDeviation: 0.4)
            let batch = [TokenSequence(prompt: [1, 4], completion: [7, 2, 9]), TokenSequence(prompt: [3], completion: [10, 0])]
            let coefficients: [[Float]] = [[0.7, -1.1, 0.4], [1.3, -0.6]]
            model.parameters.zeroGradients()
            let pass = try model.forward(batch)
            try model.backward(pass, logProbGradients: coefficients)
            let values = model.parameters.values.pointer
            func loss() -> Float {
                let result = try! model.logProbs(of: batch)
                return zip(result.logProbs, coefficients).reduce(0) { $0 + weightedSum($1.0, $1.1) }
            }
            for slot in model.parameters.slots {
                let checked = Array(Set([0, slot.count / 2, slot.count - 1, min(3, slot.count - 1)])).sorted()
                var numeric: [Float] = [], analytic: [Float] = []
                for index in checked {
                    let saved = values[slot.offset + index]
                    values[slot.offset + index] = saved + 1e-2
                    let plus = loss()
                    values[slot.offset + index] = saved - 1e-2
                    let minus = loss()
                    values[slot.offset + index] = saved
                    numeric.append((plus - minus) / 2e-2)
                    analytic.append(model.parameters.gradients.pointer[slot.offset + index])
                }
                for (a, n) in zip(analytic, numeric) {
                    XCTAssertEqual(a, n, accuracy: 2e-2 * max(abs(n), 0.05), "\(modelType) \(slot.name)")
                }
            }
        }
    }
}
