import XCTest
@testable import GRPO
import PolicyModel
import RewardSystem
import Tokenizers

/// Reference values from Tests/Fixtures/make_grpo_fixtures.py: TRL 1.16's own `_compute_loss`, torch's
/// AdamW, transformers' schedules, and whole updates of the qwen2-tiny checkpoint with PyTorch.
enum GRPOFixture {
    static let directory = TrainerFixture.root.appendingPathComponent("grpo")

    static func json(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent(name))) as! [String: Any]
    }
}

private func floats(_ value: Any?) -> [Float] { (value as! [Double]).map(Float.init) }
private func matrix(_ value: Any?) -> [[Double]]? { value as? [[Double]] }

final class TRLParityTests: XCTestCase {
    func testObjectiveMatchesTRLsLossAndAutogradForEveryCase() throws {
        let cases = try GRPOFixture.json("loss_cases.json")["cases"] as! [[String: Any]]
        XCTAssertGreaterThanOrEqual(cases.count, 32)
        var lossTypesSeen = Set<LossType>()
        for item in cases {
            let name = item["name"] as! String
            let lossType = LossType(rawValue: item["loss_type"] as! String)!
            lossTypesSeen.insert(lossType)
            let objective = GRPOObjective(
                lossType: lossType, beta: item["beta"] as! Double, epsilonLow: item["epsilon"] as! Double,
                epsilonHigh: (item["epsilon_high"] as? Double) ?? (item["epsilon"] as! Double), delta: item["delta"] as? Double,
                useBiasCorrectionKL: item["use_bias_correction_kl"] as! Bool, maxCompletionLength: item["max_completion_length"] as! Int,
                gradientAccumulationSteps: item["gradient_accumulation_steps"] as! Int, stepsPerGeneration: item["steps_per_generation"] as! Int)
            // TRL pads on the right with a 0/1 mask; we take ragged rows. A row whose mask is all zero keeps
            // its full length and is left out of the loss.
            let mask = matrix(item["mask"])!
            let lengths = mask.map { row -> Int in
                let ones = row.filter { $0 == 1 }.count
                XCTAssertEqual(Array(row.prefix(ones)), Array(repeating: 1, count: ones), "\(name): mask is not right-padded")
                return ones == 0 ? row.count : ones
            }
            func ragged(_ key: String) -> [[Float]]? {
                matrix(item[key]).map { rows in zip(rows, lengths).map { $0.prefix($1).map(Float.init) } }
            }
            let inputs = GRPOObjective.Inputs(
                logProbs: ragged("logps")!, oldLogProbs: ragged("old_logps"), referenceLogProbs: ragged("ref_logps"),
                advantages: floats(item["advantages"]), includedInLoss: mask.map { $0.contains(1) },
                generationBatchTokens: Int(item["num_items_in_batch"] as! Double))
            let result = try objective.evaluate(inputs)
            let expected = item["expected"] as! [String: Any]
            XCTAssertEqual(result.loss, expected["loss"] as! Double, accuracy: 1e-6, name)
            let expectedGradients = matrix(expected["grad_logps"])!
            for (row, length) in lengths.enumerated() {
                for t in 0..<mask[row].count {
                    let actual = t < length ? Double(result.logProbGradients[row][t]) : 0
                    XCTAssertEqual(actual, expectedGradients[row][t], accuracy: 1e-6, "\(name) row \(row) token \(t)")
                }
            }
            let statistics = result.statistics
            if let kl = expected["kl"] as? Double { XCTAssertEqual(statistics.kl, kl, accuracy: 1e-6, name) }
            XCTAssertEqual(statistics.clipRatioLow, expected["clip_ratio_low"] as! Double, accuracy: 1e-6, name)
            XCTAssertEqual(statistics.clipRatioHigh, expected["clip_ratio_high"] as! Double, accuracy: 1e-6, name)
            XCTAssertEqual(statistics.clipRatioRegion, expected["clip_ratio_region"] as! Double, accuracy: 1e-6, name)
        }
        XCTAssertEqual(lossTypesSeen, Set(LossType.allCases))
    }

    func testAdamWMatchesTorchOverTenSteps() throws {
        let configs = try GRPOFixture.json("adamw.json")["configs"] as! [[String: Any]]
        for config in configs {
            let betas = config["betas"] as! [Double]
            var values = floats(config["initial"])
            let optimizer = AdamW(parameterCount: values.count, beta1: betas[0], beta2: betas[1], epsilon: config["eps"] as! Double,
                                  weightDecay: config["weight_decay"] as! Double)
            let learningRates = config["lrs"] as! [Double]
            let gradients = (config["gradients"] as! [[Double]]).map { $0.map(Float.init) }
            let expected = (config["expected"] as! [[Double]]).map { $0.map(Float.init) }
            for step in 0..<10 {
                gradients[step].withUnsafeBufferPointer { gradient in
                    optimizer.update(values: &values, gradients: gradient.baseAddress!, learningRate: learningRates[step])
                }
                let worst = zip(values, expected[step]).map { abs($0 - $1) }.max()!
                XCTAssertLessThanOrEqual(worst, 1e-6, "\(config["name"]!) step \(step + 1)")
            }
            XCTAssertEqual(optimizer.step, 10)
        }
    }

    func testSchedulesMatchTransformers() throws {
        let fixture = try GRPOFixture.json("schedules.json")
        for item in fixture["cases"] as! [[String: Any]] {
            let type = LearningRateScheduleType(rawValue: item["name"] as! String)!
            let schedule = LearningRateSchedule(type: type, baseLearningRate: item["base_lr"] as! Double,
                                                warmupSteps: item["num_warmup_steps"] as! Int, totalSteps: item["num_training_steps"] as! Int)
            for (step, expected) in (item["lrs"] as! [Double]).enumerated() {
                XCTAssertEqual(schedule.learningRate(atStep: step), expected, accuracy: 1e-12, "\(type) warmup \(schedule.warmupSteps) step \(step)")
            }
        }
        for example in fixture["warmup_ratio_examples"] as! [[String: Any]] {
            guard let ratio = example["warmup_ratio"] as? Double else { continue }
            var config = GRPOConfig()
            config.warmupRatio = ratio
            config.maxSteps = example["max_steps"] as! Int
            XCTAssertEqual(config.effectiveWarmupSteps, example["warmup_steps"] as! Int, "ratio \(ratio)")
        }
    }

    func testAWholeDAPOUpdateMatchesPyTorch() throws { try checkWholeUpdate("dapo") }
    func testAWholeGRPOUpdateWithMaskedTruncationMatchesPyTorch() throws { try checkWholeUpdate("grpo") }

    /// Teacher-forced: fixed completions and advantages through old/reference log-probs, micro-batches,
    /// backward, clipping and AdamW; every gradient (before clipping) and every updated weight compared.
    func checkWholeUpdate(_ name: String) throws {
        let fixture = try GRPOFixture.json("whole_update_\(name).json")
        let settings = fixture["config"] as! [String: Any]
        var config = try JSONDecoder().decode(GRPOConfig.self, from: JSONSerialization.data(withJSONObject: settings.filter {
            GRPOConfig.keys.contains($0.key) && !($0.value is NSNull)
        }))
        config.maxSteps = 10
        XCTAssertEqual(config.lrSchedulerType, .constant)
        let policy = try TrainerFixture.policy()
        let trainer = try GRPOTrainer(config: config, policy: policy, rewards: TrainerFixture.rewards(),
                                      tokenizer: TrainerFixture.tokenizer, eosTokenIDs: [2])
        XCTAssertEqual(Set(policy.parameters.slots.map(\.name).filter(GRPOTrainer.isDecayed)),
                       Set(fixture["decayed_parameters"] as! [String]))

        let prompts = (fixture["prompts"] as! [[Int]]).map { $0.map(Int32.init) }
        let completions = fixture["completions"] as! [[String: Any]]
        let batch = TrainingBatch(
            sequences: completions.map { TokenSequence(prompt: prompts[$0["prompt"] as! Int], completion: ($0["completion_ids"] as! [Int]).map(Int32.init)) },
            advantages: floats(fixture["advantages"]),
            includedInLoss: completions.map { !(config.maskTruncatedCompletions && ($0["truncated"] as! Bool)) })

        let expected = try SafetensorsFile(url: GRPOFixture.directory.appendingPathComponent("whole_update_\(name).safetensors"))
        func tensor(_ key: String, count: Int) throws -> [Float] {
            var values = [Float](repeating: 0, count: count)
            try expected.read(key, into: &values, count: count)
            return values
        }
        func compare(_ actual: UnsafeMutablePointer<Float>, _ key: String, count: Int, tolerance: Float,
                     looserWhere looser: [Bool] = [], looserTolerance: Float = 0) throws {
            let reference = try tensor(key, count: count)
            let worst = (0..<count).map { abs(actual[$0] - reference[$0]) - (looser.isEmpty || !looser[$0] ? tolerance : looserTolerance) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 0, "\(name): \(key) (by how much the worst element exceeds its tolerance)")
        }
        // AdamW divides by √v + ε: where a clipped gradient is within 10 ε of 0, float32 rounding of the gradient (its
        // last bits, which depend on the order of summation, in PyTorch's products as in OpenBLAS's and ours) moves
        // that element's step by up to a few percent of the learning rate. Those elements are held to the size of the
        // steps taken instead; every other one to 1e-5.
        let references = fixture["updates"] as! [[String: Any]]
        let learningRate = Float(settings["learning_rate"] as! Double), adamEpsilon = Float(settings["adam_epsilon"] as! Double)
        var nearZeroGradient: [String: [Bool]] = [:]
        func weightTolerance(afterUpdates updates: Int) -> Float { 2 * learningRate * Float(updates) }
        var update = 0
        var failures: [String] = []
        trainer.willApplyUpdate = { parameters in
            do {
                let clip = Float(references[update]["clip_coefficient"] as! Double)
                for slot in parameters.slots {
                    let key = "update\(update).gradient.\(slot.name)"
                    try compare(parameters.gradients.pointer + slot.offset, key, count: slot.count, tolerance: 1e-5)
                    let nearZero = try tensor(key, count: slot.count).map { abs($0 * clip) < 10 * adamEpsilon }
                    nearZeroGradient[slot.name] = zip(nearZeroGradient[slot.name] ?? nearZero, nearZero).map { $0 || $1 }
                    if update > 0 {
                        try compare(parameters.values.pointer + slot.offset, "update\(update - 1).weight.\(slot.name)", count: slot.count,
                                    tolerance: 1e-5, looserWhere: nearZeroGradient[slot.name]!, looserTolerance: weightTolerance(afterUpdates: update))
                    }
                }
            } catch {
                failures.append("\(error)")
            }
            update += 1
        }
        let report = try trainer.update(batch)
        XCTAssertEqual(failures, [])
        XCTAssertEqual(report.updates.count, references.count)
        for (actual, reference) in zip(report.updates, references) {
            XCTAssertEqual(actual.loss, reference["loss"] as! Double, accuracy: 1e-5, "\(name) loss")
            XCTAssertEqual(actual.gradNorm, reference["grad_norm"] as! Double, accuracy: 1e-5 * (reference["grad_norm"] as! Double), "\(name) grad norm")
            XCTAssertFalse(actual.skipped)
        }
        for slot in policy.parameters.slots {
            try compare(policy.parameters.values.pointer + slot.offset, "update\(references.count - 1).weight.\(slot.name)", count: slot.count,
                        tolerance: 1e-5, looserWhere: nearZeroGradient[slot.name]!, looserTolerance: weightTolerance(afterUpdates: references.count))
        }
        if let old = fixture["old_logps"] as? [[Double]] {
            for (actual, reference) in zip(report.oldLogProbs, old) {
                for (a, r) in zip(actual, reference) { XCTAssertEqual(Double(a), r, accuracy: 1e-5, "\(name) old log-prob") }
            }
        }
    }
}
