import XCTest
@testable import GRPO
import PolicyModel
import ReferenceModel
import RewardSystem
import Tensors
import Tokenizers

/// Fraction of the completion's characters that are in `favoured`: a dense reward a tiny model can learn.
struct FavouredCharacters: RewardRule {
    let name = "favoured"
    let favoured: Set<Character>
    func score(_ completion: Completion, for sample: Sample) throws -> RewardOutcome {
        guard !completion.text.isEmpty else { return RewardOutcome(value: 0) }
        return RewardOutcome(value: Double(completion.text.filter { favoured.contains($0) }.count) / Double(completion.text.count))
    }
}

enum TrainerFixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    /// 93 printable characters after the 4 special tokens: ids line up with qwen2-tiny's 97 (EOS = 2).
    static let tokenizer = CharacterTokenizer(alphabet: String((33..<126).map { Character(UnicodeScalar(UInt8($0))) }))

    static func policy() throws -> Transformer {
        try Transformer.load(directory: root.appendingPathComponent("qwen2-tiny"))
    }

    static func rewards() throws -> RewardSet {
        try RewardSet([WeightedRule(FavouredCharacters(favoured: Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")))])
    }

    static func prompts(_ count: Int, offset: Int = 0) -> [TrainingPrompt] {
        (0..<count).map { index in
            let text = "Q\(index + offset):"
            return TrainingPrompt(index: index + offset, tokenIDs: tokenizer.encode(text).map(Int32.init), sample: Sample(prompt: text))
        }
    }

    static func config() -> GRPOConfig {
        var config = GRPOConfig()
        config.numGenerations = 8
        config.perDeviceTrainBatchSize = 16
        config.maxCompletionLength = 8
        config.learningRate = 3e-3
        config.lrSchedulerType = .constant
        config.beta = 0.04
        config.seed = 7
        return config
    }

    static func trainer(_ config: GRPOConfig = config(), policy: Transformer? = nil) throws -> GRPOTrainer {
        try GRPOTrainer(config: config, policy: policy ?? self.policy(), rewards: rewards(), tokenizer: tokenizer, eosTokenIDs: [2])
    }
}

final class TrainerTests: XCTestCase {
    func testTrainingRaisesTheRewardOfTheRuleItOptimizes() throws {
        let trainer = try TrainerFixture.trainer()
        var means: [Double] = []
        for step in 0..<30 {
            let result = try trainer.step(prompts: TrainerFixture.prompts(2, offset: 2 * step % 8))
            means.append(result.metrics.rewardMean)
            XCTAssertEqual(result.metrics.skippedUpdates, 0)
        }
        let first = means.prefix(5).reduce(0, +) / 5, last = means.suffix(5).reduce(0, +) / 5
        XCTAssertGreaterThan(last, first + 0.3, "reward went from \(first) to \(last): \(means)")
        XCTAssertEqual(trainer.optimizerSteps, 30)
        XCTAssertEqual(trainer.generationSteps, 30)
    }

    func testAStepReportsEveryPhaseAndEveryRollout() throws {
        var config = TrainerFixture.config()
        config.numIterations = 2
        config.gradientAccumulationSteps = 2
        config.perDeviceTrainBatchSize = 8
        let trainer = try TrainerFixture.trainer(config)
        let result = try trainer.step(prompts: TrainerFixture.prompts(2))
        XCTAssertEqual(result.prompts.map(\.index), [0, 1])
        XCTAssertEqual(result.rollouts.count, 16)
        XCTAssertEqual(result.rollouts.map(\.group), Array(repeating: 0, count: 8) + Array(repeating: 1, count: 8))
        for rollout in result.rollouts {
            XCTAssertEqual(rollout.oldLogProbs.count, rollout.tokenIDs.count)
            XCTAssertEqual(rollout.referenceLogProbs.count, rollout.tokenIDs.count)
            XCTAssertEqual(rollout.policyLogProbs.count, rollout.tokenIDs.count)
            XCTAssertEqual(rollout.text, TrainerFixture.tokenizer.decode(rollout.tokenIDs.map(Int.init), skipSpecialTokens: true))
            XCTAssertEqual(rollout.ruleRewards.count, 1)
            XCTAssertEqual(rollout.totalReward, rollout.ruleRewards[0])
            XCTAssertTrue(rollout.tokenIDs.count == 8 || rollout.tokenIDs.last == 2)
            XCTAssertEqual(rollout.finishReason == .length, rollout.tokenIDs.last != 2)
        }
        // Before any update the reference is the policy: old and reference log-probs agree.
        for rollout in result.rollouts {
            for (old, reference) in zip(rollout.oldLogProbs, rollout.referenceLogProbs) { XCTAssertEqual(old, reference, accuracy: 1e-5) }
        }
        let metrics = result.metrics
        XCTAssertEqual(metrics.optimizerSteps, 2, "two passes, one update each")
        XCTAssertTrue(metrics.loss.isFinite && metrics.gradNorm > 0 && metrics.kl >= 0 && metrics.entropy > 0, "\(metrics)")
        XCTAssertEqual(metrics.tokensGenerated, result.rollouts.reduce(0) { $0 + $1.tokenIDs.count })
        XCTAssertGreaterThan(metrics.seconds.sample, 0)
        XCTAssertGreaterThan(metrics.seconds.reference, 0)
        XCTAssertGreaterThan(metrics.seconds.policyUpdate, 0)
        XCTAssertGreaterThanOrEqual(metrics.seconds.total, metrics.seconds.sample + metrics.seconds.policyUpdate)
        XCTAssertEqual(metrics.ruleRewardMeans.count, 1)
        XCTAssertEqual(metrics.rewardMean, result.rollouts.map(\.totalReward).reduce(0, +) / 16, accuracy: 1e-12)
    }

    func testTheSameSeedGivesTheSameRunStepForStep() throws {
        var config = TrainerFixture.config()
        config.gradientAccumulationSteps = 2  // micro-batches are shuffled: that too must be seeded
        config.perDeviceTrainBatchSize = 8
        let first = try TrainerFixture.trainer(config), second = try TrainerFixture.trainer(config)
        for step in 0..<3 {
            let a = try first.step(prompts: TrainerFixture.prompts(2, offset: step))
            let b = try second.step(prompts: TrainerFixture.prompts(2, offset: step))
            XCTAssertEqual(a.rollouts.map(\.tokenIDs), b.rollouts.map(\.tokenIDs))
            XCTAssertEqual(a.rollouts.map(\.advantage), b.rollouts.map(\.advantage))
            XCTAssertEqual(a.metrics.loss, b.metrics.loss)
        }
        XCTAssertEqual(first.policy.parameters.tensor("lm_head.weight").scalars, second.policy.parameters.tensor("lm_head.weight").scalars)
    }

    func testWithoutKLNoReferenceModelIsBuilt() throws {
        var config = TrainerFixture.config()
        config.beta = 0
        let trainer = try TrainerFixture.trainer(config)
        XCTAssertNil(trainer.reference)
        let result = try trainer.step(prompts: TrainerFixture.prompts(2))
        XCTAssertTrue(result.rollouts.allSatisfy { $0.referenceLogProbs.isEmpty })
        XCTAssertTrue(result.metrics.kl.isNaN)
        XCTAssertEqual(result.metrics.seconds.reference, 0, accuracy: 1e-3)
    }

    func testANonFiniteLossSkipsTheUpdateAndLeavesWeightsAndOptimizerUntouched() throws {
        let trainer = try TrainerFixture.trainer()
        let before = trainer.policy.parameters.tensor("model.embed_tokens.weight").scalars
        let batch = TrainingBatch(sequences: [TokenSequence(prompt: [5, 6], completion: [7, 8, 2]), TokenSequence(prompt: [5], completion: [9])],
                                  advantages: [.infinity, -1])
        let report = try trainer.update(batch)
        XCTAssertEqual(report.updates.count, 1)
        XCTAssertTrue(report.updates[0].skipped)
        XCTAssertEqual(trainer.optimizerSteps, 0)
        XCTAssertEqual(trainer.optimizer.step, 0)
        XCTAssertEqual(trainer.policy.parameters.tensor("model.embed_tokens.weight").scalars, before)
        XCTAssertEqual(trainer.policy.parameters.gradient("lm_head.weight").scalars.allSatisfy { $0 == 0 }, true)

        var stopping = TrainerFixture.config()
        stopping.onNonfinite = .stop
        let strict = try TrainerFixture.trainer(stopping)
        XCTAssertThrowsError(try strict.update(batch)) { error in
            guard case GRPOError.nonFinite(let step, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(step, 1)
            XCTAssertTrue("\(error)".contains("not applied"))
        }
        XCTAssertEqual(strict.policy.parameters.tensor("model.embed_tokens.weight").scalars, before)
    }

    func testMaskedTruncatedCompletionsGetNoGradient() throws {
        var config = TrainerFixture.config()
        config.beta = 0
        config.learningRate = 0
        let trainer = try TrainerFixture.trainer(config)
        let truncatedOnly = TrainingBatch(sequences: [TokenSequence(prompt: [5, 6], completion: [7, 8, 9])], advantages: [1],
                                          includedInLoss: [false])
        let report = try trainer.update(truncatedOnly)
        XCTAssertEqual(report.updates[0].gradNorm, 0)
        XCTAssertEqual(report.statistics.tokens, 0)
    }

    func testDynamicSamplingDropsGroupsWhoseRewardsAreAllEqualAndRefills() throws {
        var config = TrainerFixture.config()
        config.dynamicSampling = true
        config.maxCompletionLength = 1
        config.numGenerations = 2
        config.perDeviceTrainBatchSize = 8  // 4 prompts
        config.maxNumGenBatches = 5
        let trainer = try TrainerFixture.trainer(config)
        var refills = 0
        let result = try trainer.step(prompts: TrainerFixture.prompts(4)) { count in
            refills += 1
            return TrainerFixture.prompts(count, offset: 100 * refills)
        }
        // One-token completions of two samples: many groups agree and are dropped.
        XCTAssertEqual(result.metrics.generationRounds, refills + 1)
        XCTAssertGreaterThan(result.metrics.droppedGroups, 0)
        XCTAssertEqual(result.metrics.zeroVarianceGroups, 0, "every kept group has a reward spread")
        XCTAssertLessThanOrEqual(result.prompts.count, 4)
        XCTAssertEqual(result.rollouts.count, 2 * result.prompts.count)
    }

    func testInvalidConfigsNameTheKey() throws {
        var config = TrainerFixture.config()
        config.perDeviceTrainBatchSize = 12  // not a multiple of num_generations 8
        XCTAssertThrowsError(try TrainerFixture.trainer(config)) { error in
            XCTAssertTrue("\(error)".contains("`num_generations`"), "\(error)")
        }
        config = TrainerFixture.config()
        config.delta = 1.1
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("`delta`"), "\($0)") }
        config = TrainerFixture.config()
        config.beta = 0
        config.syncRefModel = true
        XCTAssertThrowsError(try config.validate()) { XCTAssertTrue("\($0)".contains("`sync_ref_model`"), "\($0)") }
    }

    func testConfigDecodesTRLNamesAndKeepsDefaultsForTheRest() throws {
        let json = #"{"num_generations": 4, "loss_type": "dr_grpo", "scale_rewards": "leave_one_out", "epsilon_high": 0.28, "learning_rate": 1e-5}"#
        let config = try JSONDecoder().decode(GRPOConfig.self, from: Data(json.utf8))
        XCTAssertEqual(config.numGenerations, 4)
        XCTAssertEqual(config.lossType, .drGRPO)
        XCTAssertEqual(config.scaleRewards, .leaveOneOut)
        XCTAssertEqual(config.effectiveEpsilonHigh, 0.28)
        XCTAssertEqual(config.learningRate, 1e-5)
        XCTAssertEqual(config.beta, 0)
        XCTAssertEqual(config.maxCompletionLength, 512)
        XCTAssertTrue(config.useBiasCorrectionKL)
        XCTAssertTrue(GRPOConfig.keys.contains("mask_truncated_completions"))
        XCTAssertThrowsError(try JSONDecoder().decode(GRPOConfig.self, from: Data(#"{"loss_type": "ppo"}"#.utf8)))
    }

    func testWeightDecaySparesBiasesAndNorms() {
        XCTAssertTrue(GRPOTrainer.isDecayed("model.layers.0.self_attn.q_proj.weight"))
        XCTAssertTrue(GRPOTrainer.isDecayed("lm_head.weight"))
        XCTAssertTrue(GRPOTrainer.isDecayed("model.embed_tokens.weight"))
        XCTAssertFalse(GRPOTrainer.isDecayed("model.layers.0.self_attn.q_proj.bias"))
        XCTAssertFalse(GRPOTrainer.isDecayed("model.layers.0.input_layernorm.weight"))
        XCTAssertFalse(GRPOTrainer.isDecayed("model.layers.0.post_attention_layernorm.weight"))
        XCTAssertFalse(GRPOTrainer.isDecayed("model.norm.weight"))
    }

    func testMicroBatchesSplitInOrder() {
        XCTAssertEqual(GRPOTrainer.split(6, into: 2), [[0, 1, 2], [3, 4, 5]])
        XCTAssertEqual(GRPOTrainer.split(5, into: 2), [[0, 1], [2, 3, 4]])
        XCTAssertEqual(GRPOTrainer.split(2, into: 4), [[0], [1]])
    }
}

final class ReferenceModelTests: XCTestCase {
    func testTheReferenceIsASnapshotThatTrainingDoesNotMove() throws {
        let policy = try TrainerFixture.policy()
        let reference = try ReferenceModel(snapshotOf: policy)
        let batch = [TokenSequence(prompt: [4, 5, 6], completion: [7, 8])]
        let before = try reference.logProbs(of: batch)
        policy.parameters.values.pointer[0] += 1
        XCTAssertEqual(try reference.logProbs(of: batch), before)
        XCTAssertEqual(try reference.logProbs(of: batch), try policy.copy().logProbs(of: batch).logProbs.map { _ in before[0] })
    }

    func testMixupSyncMovesTheReferenceTowardThePolicyEveryNSteps() throws {
        let policy = try TrainerFixture.policy()
        let reference = try ReferenceModel(snapshotOf: policy, sync: .every(steps: 2, mixupAlpha: 0.25))
        let start = reference.weights("model.norm.weight")
        let norm = policy.parameters.tensor("model.norm.weight")
        for i in 0..<norm.count { norm.pointer[i] += 1 }
        XCTAssertFalse(try reference.synchronizeIfDue(with: policy, completedSteps: 1))
        XCTAssertEqual(reference.weights("model.norm.weight"), start)
        XCTAssertTrue(try reference.synchronizeIfDue(with: policy, completedSteps: 2))
        for (mixed, original) in zip(reference.weights("model.norm.weight"), start) {
            XCTAssertEqual(mixed, original + 0.25, accuracy: 1e-6)
        }
        let hard = try ReferenceModel(snapshotOf: try TrainerFixture.policy(), sync: .every(steps: 1, mixupAlpha: 1))
        try hard.synchronizeIfDue(with: policy, completedSteps: 1)
        XCTAssertEqual(hard.weights("model.norm.weight"), norm.scalars)
    }

    func testInvalidSyncSettingsAreRejected() throws {
        let policy = try TrainerFixture.policy()
        XCTAssertThrowsError(try ReferenceModel(snapshotOf: policy, sync: .every(steps: 0, mixupAlpha: 0.5)))
        XCTAssertThrowsError(try ReferenceModel(snapshotOf: policy, sync: .every(steps: 4, mixupAlpha: 1.5))) { error in
            XCTAssertTrue("\(error)".contains("ref_model_mixup_alpha"))
        }
    }
}
