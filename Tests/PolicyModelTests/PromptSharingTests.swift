import XCTest
@testable import PolicyModel
@testable import Tensors

/// A prompt shared by several sequences of a batch, computed once, gives the log-probs, entropies and
/// gradients of the same sequences computed separately.
final class PromptSharingTests: XCTestCase {
    func model(_ modelType: TransformerConfig.ModelType = .qwen2, tied: Bool = false) -> Transformer {
        let config = TransformerConfig(modelType: modelType, vocabularySize: 13, hiddenSize: 16, intermediateSize: 24, layerCount: 2,
                                       headCount: 4, keyValueHeadCount: 2, headDimension: 6, ropeTheta: 500,
                                       tieWordEmbeddings: tied, qkvBias: modelType == .qwen2)
        let model = Transformer(config: config)
        model.parameters.initializeRandomly(seed: 9, standardDeviation: 0.3)
        return model
    }

    /// Two groups interleaved with a loner, an empty completion, and a one-token prompt.
    let batch = [
        TokenSequence(prompt: [1, 4, 5, 6, 2], completion: [7, 2, 9]),
        TokenSequence(prompt: [3], completion: [10, 0]),
        TokenSequence(prompt: [1, 4, 5, 6, 2], completion: [8]),
        TokenSequence(prompt: [1, 4, 5, 6, 2], completion: []),
        TokenSequence(prompt: [3], completion: [11, 12, 1, 0]),
        TokenSequence(prompt: [9, 9], completion: [4, 4]),
        TokenSequence(prompt: [1, 4, 5, 6, 2], completion: [7, 3, 3, 12]),
    ]
    let coefficients: [[Float]] = [[0.7, -1.1, 0.4], [1.3, -0.6], [0.9], [], [0.2, -0.3, 0.5, 1.0], [-0.8, 0.1], [0.6, -0.2, 1.4, -0.9]]

    func gradients(of model: Transformer, sharing: PromptSharing) throws -> (logProbs: [[Float]], entropies: [[Float]], gradients: [Float]) {
        model.parameters.zeroGradients()
        let pass = try model.forward(batch, promptSharing: sharing)
        try model.backward(pass, logProbGradients: coefficients)
        let gradients = model.parameters.gradients
        return (pass.logProbs, pass.entropies, Array(UnsafeBufferPointer(start: gradients.pointer, count: gradients.count)))
    }

    func testSharedPromptsGiveTheLogProbsEntropiesAndGradientsOfSeparateSequences() throws {
        for (modelType, tied) in [(TransformerConfig.ModelType.qwen2, false), (.llama, true)] {
            let model = model(modelType, tied: tied)
            let shared = try gradients(of: model, sharing: .always)
            let separate = try gradients(of: model, sharing: .never)
            for (s, (a, b)) in zip(shared.logProbs, separate.logProbs).enumerated() {
                XCTAssertEqual(a.count, b.count)
                for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-5, "\(modelType) sequence \(s) log-prob") }
            }
            for (a, b) in zip(shared.entropies.joined(), separate.entropies.joined()) { XCTAssertEqual(a, b, accuracy: 1e-5) }
            let scale = separate.gradients.map(abs).max()!
            XCTAssertGreaterThan(scale, 0)
            for (index, (a, b)) in zip(shared.gradients, separate.gradients).enumerated() {
                XCTAssertEqual(a, b, accuracy: 1e-5 * scale, "\(modelType) gradient \(index)")
            }
        }
    }

    func testSharedPromptsAreComputedOnce() {
        let model = model()
        let shared = model.pack(batch, promptSharing: .always)
        // Runs: the 5-token prompt with its 4 completions, [3] with its 2, [9, 9] alone.
        XCTAssertEqual(shared.sequences.lengths, [5 + 3 + 1 + 0 + 4, 1 + 2 + 4, 4])
        XCTAssertEqual(shared.sequences.sharedPromptLengths, [5, 1, 0])
        // The 4-token completion of the shared prompt continues its positions: 5, 6, 7, 8.
        XCTAssertEqual(Array(shared.sequences.positions[9..<13]), [5, 6, 7, 8])
        let separate = model.pack(batch, promptSharing: .never)
        XCTAssertEqual(separate.sequences.tokenCount, batch.reduce(0) { $0 + $1.tokens.count })
        XCTAssertEqual(shared.targets, separate.targets)
    }

    func testAutomaticSharingPicksTheCheaperLayout() {
        let model = model()
        XCTAssertTrue(model.sharingIsCheaper(prompt: 400, completions: Array(repeating: 60, count: 8)))
        // Pretraining-like: a one-token prompt before long texts is cheaper computed per sequence.
        XCTAssertFalse(model.sharingIsCheaper(prompt: 1, completions: Array(repeating: 511, count: 8)))
    }
}
