import XCTest
@testable import PolicyModel
@testable import Tensors

final class SamplingTests: XCTestCase {
    func fixtureModel() throws -> Transformer { try PolicyFixture("qwen2-tiny").model() }
    let prompts: [[Int32]] = [[1, 5, 9, 14], [1, 22, 7], [3]]

    func testSameSeedGivesSameTokensAndOtherSeedsDiffer() throws {
        let model = try fixtureModel()
        let parameters = SamplingParameters(maxNewTokens: 20, temperature: 1.0, topP: 0.95)
        let first = try model.generate(prompts: prompts, parameters: parameters, seed: 7)
        let second = try model.generate(prompts: prompts, parameters: parameters, seed: 7)
        XCTAssertEqual(first, second)
        let other = try model.generate(prompts: prompts, parameters: parameters, seed: 8)
        XCTAssertNotEqual(first.map(\.tokens), other.map(\.tokens))
        XCTAssertTrue(first.allSatisfy { $0.tokens.count == 20 && $0.finishReason == .length })
    }

    /// GRPO samples G completions per prompt: a repeated prompt is prefilled once and its cache copied, and each
    /// copy then samples exactly as a batch without the repeats would.
    func testRepeatedPromptsSampleAsIfEachWereAlone() throws {
        let model = try fixtureModel()
        let p: [Int32] = [5, 17, 42, 8, 9], q: [Int32] = [33, 71, 9]
        let alone = try model.cachedLogits(prompts: [p, q], continuations: [[11, 12, 13], [14, 15]])
        let repeated = try model.cachedLogits(prompts: [p, q, p, p], continuations: [[11, 12, 13], [14, 15], [11, 12, 13], [11, 12, 13]])
        for (slot, original) in [(0, 0), (1, 1), (2, 0), (3, 0)] {
            for (a, b) in zip(repeated[slot], alone[original]) { assertClose(a, b, absolute: 1e-5, "slot \(slot)") }
        }
        let parameters = SamplingParameters(maxNewTokens: 6, temperature: 0.9)
        var generators = (0..<4).map { SeededGenerator(seed: 3, stream: UInt64($0)) }
        let together = try model.generate(prompts: [p, q, p, p], parameters: parameters, generators: &generators)
        for slot in [0, 2, 3] {
            var own = [SeededGenerator(seed: 3, stream: UInt64(slot))]
            XCTAssertEqual(try model.generate(prompts: [p], parameters: parameters, generators: &own)[0], together[slot])
        }
    }

    func testFiltersThatLeaveOneTokenEqualGreedy() throws {
        let model = try fixtureModel()
        let greedy = try model.generate(prompts: prompts, parameters: SamplingParameters(maxNewTokens: 10, greedy: true), seed: 0)
        for parameters in [SamplingParameters(maxNewTokens: 10, topK: 1), SamplingParameters(maxNewTokens: 10, topP: 1e-6),
                           SamplingParameters(maxNewTokens: 10, minP: 1)] {
            XCTAssertEqual(try model.generate(prompts: prompts, parameters: parameters, seed: 3).map(\.tokens), greedy.map(\.tokens), "\(parameters)")
        }
    }

    func testEOSAndStopSequencesEndASequenceAndAreKept() throws {
        let model = try fixtureModel()
        let greedy = try model.generate(prompts: [prompts[0]], parameters: SamplingParameters(maxNewTokens: 10, greedy: true), seed: 0)[0].tokens
        var parameters = SamplingParameters(maxNewTokens: 10, greedy: true, eosTokenIds: [greedy[2]])
        let stoppedAtEOS = try model.generate(prompts: [prompts[0]], parameters: parameters, seed: 0)[0]
        let firstEOS = greedy.firstIndex(of: greedy[2])!
        XCTAssertEqual(stoppedAtEOS.tokens, Array(greedy[...firstEOS]))
        XCTAssertEqual(stoppedAtEOS.finishReason, .eos)

        parameters = SamplingParameters(maxNewTokens: 10, greedy: true, stopSequences: [[greedy[3], greedy[4]], [999]])
        let stopped = try model.generate(prompts: [prompts[0]], parameters: parameters, seed: 0)[0]
        XCTAssertEqual(stopped.finishReason, .stop)
        XCTAssertEqual(Array(stopped.tokens.suffix(2)), [greedy[3], greedy[4]])
        XCTAssertEqual(Array(stopped.tokens), Array(greedy.prefix(stopped.tokens.count)))
        XCTAssertLessThanOrEqual(stopped.tokens.count, 5)
    }

    func testZeroNewTokensAndEmptyBatchesAreFine() throws {
        let model = try fixtureModel()
        XCTAssertEqual(try model.generate(prompts: [], parameters: SamplingParameters(maxNewTokens: 4), seed: 0), [])
        XCTAssertEqual(try model.generate(prompts: [[1]], parameters: SamplingParameters(maxNewTokens: 0), seed: 0)[0].tokens, [])
    }

    func testInvalidSamplingParametersAreRejected() throws {
        let model = try fixtureModel()
        for parameters in [SamplingParameters(maxNewTokens: 4, temperature: 0), SamplingParameters(maxNewTokens: 4, topK: -1),
                           SamplingParameters(maxNewTokens: 4, topP: 0), SamplingParameters(maxNewTokens: 4, minP: 2),
                           SamplingParameters(maxNewTokens: -1), SamplingParameters(maxNewTokens: 4, stopSequences: [[]])] {
            XCTAssertThrowsError(try model.generate(prompts: [[1]], parameters: parameters, seed: 0), "\(parameters)")
        }
    }

    /// Frequencies of 40 000 draws against the filtered, renormalized softmax.
    func frequencies(_ logits: [Float], _ parameters: SamplingParameters) -> [Float] {
        let sampler = TokenSampler(parameters: parameters)
        var generator = SeededGenerator(seed: 99)
        var candidates = [Int32](repeating: 0, count: logits.count)
        var counts = [Float](repeating: 0, count: logits.count)
        let draws = 40_000
        for _ in 0..<draws {
            var row = logits
            counts[Int(sampler.sample(&row, vocabularySize: logits.count, generator: &generator, candidates: &candidates))] += 1
        }
        return counts.map { $0 / Float(draws) }
    }

    func testSampledFrequenciesFollowTheFilteredDistribution() {
        let logits: [Float] = [2.0, 1.0, 0.5, 0.0, -1.0, 1.5]
        func softmax(_ x: [Float], temperature: Float = 1, keep: Set<Int>) -> [Float] {
            let e = x.enumerated().map { keep.contains($0.offset) ? exp($0.element / temperature) : 0 }
            let z = e.reduce(0, +)
            return e.map { $0 / z }
        }
        let all = Set(0..<6)
        let cases: [(SamplingParameters, [Float])] = [
            (SamplingParameters(maxNewTokens: 1), softmax(logits, keep: all)),
            (SamplingParameters(maxNewTokens: 1, temperature: 0.5), softmax(logits, temperature: 0.5, keep: all)),
            (SamplingParameters(maxNewTokens: 1, topK: 2), softmax(logits, keep: [0, 5])),
            // p = [.42, .15, .09, .06, .02, .25]: the nucleus of 0.6 is {0, 5} (.42 + .25 ≥ .6); HF's rule (drop
            // tokens whose ascending cumulative mass is ≤ 1 − p) keeps the same two.
            (SamplingParameters(maxNewTokens: 1, topP: 0.6), softmax(logits, keep: [0, 5])),
            (SamplingParameters(maxNewTokens: 1, topP: 0.7), softmax(logits, keep: [0, 5, 1])),
            (SamplingParameters(maxNewTokens: 1, topK: 3, topP: 0.8), softmax(logits, keep: [0, 5])),
            // min-p 0.3 keeps tokens with p ≥ 0.3 · p_max: logits within log(1/0.3) ≈ 1.2 of the max
            (SamplingParameters(maxNewTokens: 1, minP: 0.3), softmax(logits, keep: [0, 1, 5])),
        ]
        for (parameters, expected) in cases {
            let observed = frequencies(logits, parameters)
            for (o, e) in zip(observed, expected) { XCTAssertEqual(o, e, accuracy: 0.01, "\(parameters)") }
        }
    }
}
