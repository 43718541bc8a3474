import Foundation
import XCTest
@testable import PolicyModel
@testable import Tensors

/// The Swift model against PyTorch + transformers on tiny random Qwen2 and Llama checkpoints.
final class ReferenceParityTests: XCTestCase {
    let models = ["qwen2-tiny", "llama-tiny"]

    func testCompletionLogProbsAndEntropiesMatchTransformers() throws {
        for name in models {
            let fixture = try PolicyFixture(name)
            let model = try fixture.model()
            let result = try model.logProbs(of: fixture.batch)
            for (index, expected) in fixture.floats("logprobs").enumerated() {
                assertClose(result.logProbs[index], expected, absolute: 1e-4, "\(name) log-probs of sequence \(index)")
            }
            for (index, expected) in fixture.floats("entropies").enumerated() {
                assertClose(result.entropies[index], expected, absolute: 1e-4, "\(name) entropies of sequence \(index)")
            }
        }
    }

    func testLogProbsAtTemperatureDivideTheLogitsAsTRLDoes() throws {
        for name in models {
            let fixture = try PolicyFixture(name)
            let result = try fixture.model().logProbs(of: fixture.batch, temperature: 0.7)
            for (index, expected) in fixture.floats("logprobs_temperature_0.7").enumerated() {
                assertClose(result.logProbs[index], expected, absolute: 1e-4, "\(name) sequence \(index)")
            }
            for (index, expected) in fixture.floats("entropies_temperature_0.7").enumerated() {
                assertClose(result.entropies[index], expected, absolute: 1e-4, "\(name) sequence \(index)")
            }
        }
    }

    func testLogitsAtChosenPositionsMatchTransformers() throws {
        for name in models {
            let fixture = try PolicyFixture(name)
            let model = try fixture.model()
            let batch = fixture.batch
            for entry in fixture.json["logits"] as! [[String: Any]] {
                let sequence = entry["sequence"] as! Int, position = entry["position"] as! Int
                let prefix = Array(batch[sequence].tokens[...position])
                let logits = try model.logits(after: [prefix])[0]
                assertClose(logits, (entry["values"] as! [Double]).map(Float.init), absolute: 1e-4,
                            "\(name) sequence \(sequence) position \(position)")
            }
        }
    }

    func testGradientsOfWeightedLogProbLossMatchTorchAutograd() throws {
        for name in models {
            for keptBudget in [512 << 20, 0] { // probabilities kept from forward, and recomputed chunk by chunk
                let fixture = try PolicyFixture(name)
                let model = try fixture.model()
                model.keptProbabilitiesBudgetBytes = keptBudget
                let gradients = try SafetensorsFile(url: fixture.directory.appendingPathComponent("expected_gradients.safetensors"))
                model.parameters.zeroGradients()
                let pass = try model.forward(fixture.batch)
                let loss = zip(pass.logProbs, fixture.coefficients).reduce(Float(0)) { total, pair in
                    total + zip(pair.0, pair.1).reduce(0) { $0 + $1.0 * $1.1 }
                }
                XCTAssertEqual(loss, Float(fixture.json["loss"] as! Double), accuracy: 1e-3)
                try model.backward(pass, logProbGradients: fixture.coefficients)
                XCTAssertEqual(Set(gradients.entries.keys), Set(model.parameters.slots.map(\.name)), "\(name): every parameter has a reference gradient")
                for slot in model.parameters.slots {
                    var reference = [Float](repeating: 0, count: slot.count)
                    try reference.withUnsafeMutableBufferPointer { try gradients.read(slot.name, into: $0.baseAddress!, count: slot.count) }
                    let ours = model.parameters.gradient(slot.name).scalars
                    let error = relativeError(ours, reference)
                    XCTAssertLessThan(error, 1e-3, "\(name) (kept budget \(keptBudget)): gradient of \(slot.name), relative error \(error)")
                }
            }
        }
    }

    func testGreedyDecodingEqualsTransformersGenerate() throws {
        for name in models {
            let fixture = try PolicyFixture(name)
            let model = try fixture.model()
            let cases = fixture.json["greedy"] as! [[String: Any]]
            let prompts = cases.map { ($0["prompt_ids"] as! [Int]).map(Int32.init) }
            let generations = try model.generate(prompts: prompts, parameters: SamplingParameters(maxNewTokens: 12, greedy: true), seed: 0)
            for (generation, expected) in zip(generations, cases) {
                XCTAssertEqual(generation.tokens, (expected["completion_ids"] as! [Int]).map(Int32.init), "\(name) greedy tokens")
                XCTAssertEqual(generation.finishReason, .length)
            }
        }
    }

    func testKVCachedLogitsEqualFullForwardLogits() throws {
        for name in models {
            let fixture = try PolicyFixture(name)
            let model = try fixture.model()
            let batch = fixture.batch
            let prompts = batch.map(\.prompt), continuations = batch.map(\.completion)
            let cached = try model.cachedLogits(prompts: prompts, continuations: continuations)
            for (sequence, steps) in cached.enumerated() {
                for (step, logits) in steps.enumerated() {
                    let prefix = prompts[sequence] + continuations[sequence].prefix(step)
                    let full = try model.logits(after: [prefix])[0]
                    assertClose(logits, full, absolute: 1e-4, "\(name) sequence \(sequence) after \(step) cached tokens")
                }
            }
        }
    }

    func testBF16AndShardedCheckpointsLoad() throws {
        let bf16 = try PolicyFixture("qwen2-tiny-bf16", file: "expected_bf16.json")
        let result = try bf16.model().logProbs(of: bf16.batch)
        assertClose(result.logProbs[0], bf16.floats("logprobs")[0], absolute: 1e-4, "bf16 checkpoint")

        let fixture = try PolicyFixture("qwen2-tiny")
        let sharded = try Transformer.load(directory: PolicyFixture.root.appendingPathComponent("qwen2-tiny-sharded"))
        let single = try fixture.model()
        XCTAssertTrue(allValues(sharded.parameters) == allValues(single.parameters), "sharded and single-file weights differ")
    }

    func testSavedCheckpointReloadsToTheSameModel() throws {
        for name in models {
            let model = try PolicyFixture(name).model()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-save-\(name)-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            try model.save(to: directory)
            let reloaded = try Transformer.load(directory: directory)
            XCTAssertEqual(reloaded.config, model.config)
            XCTAssertTrue(allValues(reloaded.parameters) == allValues(model.parameters), "\(name): reloaded weights differ")
        }
    }
}
