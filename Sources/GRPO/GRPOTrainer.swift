import Advantages
import Foundation
import PolicyModel
import ReferenceModel
import RewardSystem
import Tensors
import Tokenizers

/// A prompt to train on: its tokens and the task item the reward rules check completions against.
public struct TrainingPrompt: Sendable {
    /// Index of the problem in its dataset (for the run file).
    public var index: Int
    public var tokenIDs: [Int32]
    public var sample: Sample

    public init(index: Int, tokenIDs: [Int32], sample: Sample) {
        self.index = index
        self.tokenIDs = tokenIDs
        self.sample = sample
    }
}

/// One sampled completion with everything the step computed about it.
public struct Rollout: Sendable {
    /// Position of its prompt in `StepResult.prompts`.
    public var group: Int
    public var tokenIDs: [Int32]
    public var text: String
    public var finishReason: FinishReason
    /// One reward per rule, in the reward set's order.
    public var ruleRewards: [Double]
    public var totalReward: Double
    /// One message per rule ("" when the rule scored it); empty when no rule failed.
    public var ruleErrors: [String]
    public var advantage: Float
    /// False for a truncated completion under `mask_truncated_completions`.
    public var includedInLoss: Bool
    /// Per-token log-probs under the sampling policy, the reference (empty when β = 0), and the policy
    /// of the last pass over the batch.
    public var oldLogProbs: [Float]
    public var referenceLogProbs: [Float]
    public var policyLogProbs: [Float]
}

/// Completions with fixed advantages, for one update (`GRPOTrainer.update`).
public struct TrainingBatch: Sendable {
    public var sequences: [TokenSequence]
    public var advantages: [Float]
    public var includedInLoss: [Bool]

    public init(sequences: [TokenSequence], advantages: [Float], includedInLoss: [Bool]? = nil) {
        self.sequences = sequences
        self.advantages = advantages
        self.includedInLoss = includedInLoss ?? Array(repeating: true, count: sequences.count)
    }
}

/// What one optimizer update did.
public struct OptimizerUpdate: Equatable, Sendable {
    /// The objective over the update's micro-batches (the sum of the losses TRL returns per micro-batch).
    public var loss: Double
    /// Norm of the accumulated gradient before clipping.
    public var gradNorm: Double
    public var learningRate: Double
    /// True when the loss or gradient was not finite and the update was dropped.
    public var skipped: Bool
}

/// What `GRPOTrainer.update` computed over a batch.
public struct UpdateReport {
    public var updates: [OptimizerUpdate]
    /// Token sums of the objective over every pass.
    public var statistics: GRPOObjective.Statistics
    public var entropy: Double
    public var oldLogProbs: [[Float]]
    public var referenceLogProbs: [[Float]]?
    public var policyLogProbs: [[Float]]
    public var referenceSeconds: Double
    public var policySeconds: Double
}

/// Wall-clock seconds of a step's phases.
public struct StepSeconds: Equatable, Sendable {
    public var sample = 0.0
    public var score = 0.0
    /// Reference log-probs, plus the old policy's when `num_iterations` > 1.
    public var reference = 0.0
    /// Forward, objective, backward, clipping and AdamW over every pass.
    public var policyUpdate = 0.0
    public var total = 0.0
}

/// The metrics of one generation step.
public struct TrainingMetrics: Sendable {
    public var generationStep = 0
    /// Optimizer updates completed so far in the run, this step's included.
    public var optimizerSteps = 0
    public var learningRate = 0.0
    /// Mean over this step's updates of each update's objective.
    public var loss = Double.nan
    public var gradNorm = Double.nan
    public var skippedUpdates = 0
    public var kl = Double.nan
    public var entropy = Double.nan
    public var clipRatioLow = 0.0
    public var clipRatioHigh = 0.0
    public var clipRatioRegion = 0.0
    public var rewardMean = 0.0
    public var rewardStandardDeviation = 0.0
    /// Mean reward of each rule, in the reward set's order.
    public var ruleRewardMeans: [Double] = []
    /// Completions each rule failed to score.
    public var ruleErrorCounts: [Int] = []
    public var zeroVarianceGroups = 0
    /// Groups dropped by dynamic sampling, and the generation rounds it used.
    public var droppedGroups = 0
    public var generationRounds = 1
    public var completionLengthMean = 0.0
    public var completionLengthMin = 0
    public var completionLengthMax = 0
    /// Fraction of completions that hit `max_completion_length`.
    public var truncatedFraction = 0.0
    public var tokensGenerated = 0
    public var seconds = StepSeconds()
}

public struct StepResult: Sendable {
    public var prompts: [TrainingPrompt]
    public var rollouts: [Rollout]
    public var metrics: TrainingMetrics
}

/// GRPO, one generation step at a time: sample G completions per prompt → score them → group-relative
/// advantages → old and reference log-probs → `num_iterations` passes of forward → objective →
/// backward → clip → AdamW over micro-batches.
public final class GRPOTrainer {
    public let config: GRPOConfig
    public let policy: Transformer
    /// The frozen reference; nil when β = 0 (it is then never built or run).
    public let reference: ReferenceModel?
    public private(set) var rewards: RewardSet
    public let tokenizer: any Tokenizer
    public let optimizer: AdamW
    public let schedule: LearningRateSchedule
    public let objective: GRPOObjective
    public let sampling: SamplingParameters
    /// Generation steps and optimizer updates completed (a checkpoint restores both).
    public var generationSteps = 0
    public var optimizerSteps = 0
    /// Called before each optimizer update with the accumulated, not yet clipped gradients (and the weights
    /// the update will change): for inspecting a run, and for the parity tests.
    public var willApplyUpdate: ((ModelParameters) -> Void)?

    /// `reference`: the model for the KL term; nil means a snapshot of `policy` now. Ignored when β = 0.
    public init(config: GRPOConfig, policy: Transformer, reference: ReferenceModel? = nil, rewards: RewardSet,
                tokenizer: any Tokenizer, eosTokenIDs: Set<Int32>, stopSequences: [[Int32]] = []) throws {
        try config.validate()
        self.config = config
        self.policy = policy
        self.rewards = rewards
        self.tokenizer = tokenizer
        if config.beta == 0 {
            self.reference = nil
        } else {
            let sync: ReferenceSync = config.syncRefModel
                ? .every(steps: config.refModelSyncSteps, mixupAlpha: config.refModelMixupAlpha) : .never
            self.reference = try reference ?? ReferenceModel(snapshotOf: policy, sync: sync)
        }
        optimizer = AdamW(parameterCount: policy.parameters.count,
                          decayedRanges: policy.parameters.slots.filter { GRPOTrainer.isDecayed($0.name) }
                              .map { $0.offset..<($0.offset + $0.count) },
                          beta1: config.adamBeta1, beta2: config.adamBeta2, epsilon: config.adamEpsilon,
                          weightDecay: config.weightDecay)
        schedule = LearningRateSchedule(config)
        objective = GRPOObjective(config)
        sampling = SamplingParameters(maxNewTokens: config.maxCompletionLength, temperature: config.temperature,
                                      topK: config.topK, topP: config.topP, minP: config.minP ?? 0,
                                      eosTokenIds: eosTokenIDs, stopSequences: stopSequences)
        try sampling.validate()
    }

    /// Hugging Face's Trainer decays every weight except biases and norm weights.
    public static func isDecayed(_ parameterName: String) -> Bool {
        let name = parameterName.lowercased()
        let parts = name.split(separator: ".")
        return !(name.contains("bias") || name.contains("layernorm") || name.contains("rmsnorm")
            || parts.contains("norm") || parts.contains { $0.hasSuffix("_norm") })
    }

    // MARK: One generation step

    /// Trains on `prompts` (`promptsPerStep` of them). With dynamic sampling, `morePrompts(n)` supplies
    /// further prompts when groups whose rewards are all equal were dropped.
    public func step(prompts: [TrainingPrompt], morePrompts: ((Int) throws -> [TrainingPrompt])? = nil) throws -> StepResult {
        guard !prompts.isEmpty else { throw GRPOError.invalidBatch("a step needs at least one prompt") }
        let stepStart = DispatchTime.now().uptimeNanoseconds
        var metrics = TrainingMetrics()
        metrics.generationStep = generationSteps + 1

        // 1–2. Sample G completions per prompt and score them; with dynamic sampling, keep only groups
        // that teach something and sample more prompts until the batch is full.
        var groups: [SampledGroup] = []
        var pending = prompts
        var round = 0
        while true {
            let sampled = try sampleAndScore(pending, round: round, seconds: &metrics.seconds)
            round += 1
            metrics.tokensGenerated += sampled.reduce(0) { $0 + $1.generations.reduce(0) { $0 + $1.tokens.count } }
            if config.dynamicSampling {
                let informative = sampled.filter { !$0.rewardsAreAllEqual }
                metrics.droppedGroups += sampled.count - informative.count
                groups += informative
                if groups.count >= prompts.count || round >= config.maxNumGenBatches { break }
                guard let morePrompts else { break }
                pending = try morePrompts(prompts.count)
                if pending.isEmpty { break }
            } else {
                groups = sampled
                break
            }
        }
        groups = Array(groups.prefix(prompts.count))
        metrics.generationRounds = round

        // 3. Group-relative advantages.
        let advantages = try Advantages.groupRelative(rewards: groups.flatMap { $0.scores.map(\.total) },
                                                      groupSize: config.numGenerations, normalization: config.scaleRewards)
        metrics.zeroVarianceGroups = advantages.zeroVarianceGroups

        // 4–5. Reference (and old) log-probs, then the passes over micro-batches. TRL shuffles the
        // generation batch before splitting it; so do we, from the step's seed.
        var order = Array(0..<(groups.count * config.numGenerations))
        if config.effectiveStepsPerGeneration > 1 {
            var generator = SeededGenerator(seed: config.seed, stream: 1 << 32 | UInt64(metrics.generationStep))
            order.shuffle(using: &generator)
        }
        let flat = groups.enumerated().flatMap { index, group in
            group.generations.map { (group: index, prompt: group.prompt, generation: $0) }
        }
        let included = flat.map { !(config.maskTruncatedCompletions && $0.generation.finishReason == .length) }
        let batch = TrainingBatch(sequences: order.map { TokenSequence(prompt: flat[$0].prompt.tokenIDs, completion: flat[$0].generation.tokens) },
                                  advantages: order.map { advantages.values[$0] }, includedInLoss: order.map { included[$0] })
        let report = groups.isEmpty ? nil : try update(batch)
        generationSteps += 1

        // 6. Rollouts in sampling order, and the step's metrics.
        var position = [Int](repeating: 0, count: order.count)
        for (shuffled, original) in order.enumerated() { position[original] = shuffled }
        let scores = groups.flatMap(\.scores)
        let rollouts = flat.indices.map { index in
            Rollout(group: flat[index].group, tokenIDs: flat[index].generation.tokens, text: scores[index].text,
                    finishReason: flat[index].generation.finishReason, ruleRewards: scores[index].ruleRewards,
                    totalReward: scores[index].total, ruleErrors: scores[index].ruleErrors,
                    advantage: advantages.values[index], includedInLoss: included[index],
                    oldLogProbs: report?.oldLogProbs[position[index]] ?? [],
                    referenceLogProbs: report?.referenceLogProbs?[position[index]] ?? [],
                    policyLogProbs: report?.policyLogProbs[position[index]] ?? [])
        }
        summarize(rollouts, report: report, into: &metrics)
        metrics.seconds.total = Double(DispatchTime.now().uptimeNanoseconds - stepStart) / 1e9
        return StepResult(prompts: groups.map(\.prompt), rollouts: rollouts, metrics: metrics)
    }

    struct Score {
        var text: String
        var ruleRewards: [Double]
        var total: Double
        var ruleErrors: [String]
    }

    struct SampledGroup {
        var prompt: TrainingPrompt
        var generations: [Generation]
        var scores: [Score]
        var rewardsAreAllEqual: Bool { scores.allSatisfy { $0.total == scores[0].total } }
    }

    func sampleAndScore(_ prompts: [TrainingPrompt], round: Int, seconds: inout StepSeconds) throws -> [SampledGroup] {
        let g = config.numGenerations
        let started = DispatchTime.now().uptimeNanoseconds
        // Sequence i of round r of step s draws from its own stream: same seed, same run.
        var seeds = SeededGenerator(seed: config.seed, stream: UInt64(generationSteps + 1) << 8 | UInt64(round & 0xff))
        let seed = seeds.next()
        let generations = try policy.generate(prompts: prompts.flatMap { Array(repeating: $0.tokenIDs, count: g) },
                                              parameters: sampling, seed: seed)
        let sampled = DispatchTime.now().uptimeNanoseconds
        seconds.sample += Double(sampled - started) / 1e9

        let texts = generations.map { tokenizer.decode($0.tokens.map(Int.init), skipSpecialTokens: true) }
        let completions = zip(texts, generations).map { text, generation in
            Completion(text: text, tokenCount: generation.tokens.count, truncated: generation.finishReason == .length)
        }
        let scored = try rewards.score(completions, against: prompts.flatMap { Array(repeating: $0.sample, count: g) })
        let ruleNames = rewards.rules.map(\.name)
        let scores = zip(texts, scored).map { text, score -> Score in
            let errors = ruleNames.map { score.error(of: $0) ?? "" }
            return Score(text: text, ruleRewards: ruleNames.map { score.value(of: $0) ?? 0 }, total: score.total,
                         ruleErrors: errors.allSatisfy(\.isEmpty) ? [] : errors)
        }
        seconds.score += Double(DispatchTime.now().uptimeNanoseconds - sampled) / 1e9
        return prompts.indices.map { index in
            SampledGroup(prompt: prompts[index], generations: Array(generations[index * g..<(index + 1) * g]),
                         scores: Array(scores[index * g..<(index + 1) * g]))
        }
    }

    // MARK: One update over fixed completions

    /// The training half of a step, on completions whose advantages are known: old log-probs (only when
    /// the policy moves before the batch's last micro-batch: `num_iterations` > 1 or several updates per
    /// generation) and reference log-probs, then `num_iterations` passes over the batch split in
    /// order into `steps_per_generation` micro-batches, with an optimizer update every
    /// `gradient_accumulation_steps` of them.
    public func update(_ batch: TrainingBatch) throws -> UpdateReport {
        let count = batch.sequences.count
        guard count > 0, batch.advantages.count == count, batch.includedInLoss.count == count else {
            throw GRPOError.invalidBatch("\(count) sequences, \(batch.advantages.count) advantages and \(batch.includedInLoss.count) loss masks must agree and be non-empty")
        }
        let microBatches = GRPOTrainer.split(count, into: config.effectiveStepsPerGeneration)
        let lossTokens = zip(batch.sequences, batch.includedInLoss).reduce(0) { $0 + ($1.1 ? $1.0.completion.count : 0) }
        let temperature = config.temperature

        let referenceStart = DispatchTime.now().uptimeNanoseconds
        func scored(by logProbs: ([TokenSequence]) throws -> [[Float]]) throws -> [[Float]] {
            try microBatches.flatMap { try logProbs($0.map { batch.sequences[$0] }) }
        }
        var old: [[Float]]? = config.needsOldLogProbs
            ? try scored { try policy.logProbs(of: $0, temperature: temperature).logProbs } : nil
        let referenceLogProbs = try reference.map { model in try scored { try model.logProbs(of: $0, temperature: temperature) } }
        let referenceSeconds = Double(DispatchTime.now().uptimeNanoseconds - referenceStart) / 1e9

        let policyStart = DispatchTime.now().uptimeNanoseconds
        policy.parameters.zeroGradients()
        var updates: [OptimizerUpdate] = []
        var statistics = GRPOObjective.Statistics()
        var entropySum = 0.0
        var policyLogProbs = [[Float]](repeating: [], count: count)
        var windowLoss = 0.0
        for iteration in 0..<config.numIterations {
            for (index, rows) in microBatches.enumerated() {
                let pass = try policy.forward(rows.map { batch.sequences[$0] }, temperature: temperature)
                let result = try objective.evaluate(GRPOObjective.Inputs(
                    logProbs: pass.logProbs, oldLogProbs: old.map { old in rows.map { old[$0] } },
                    referenceLogProbs: referenceLogProbs.map { reference in rows.map { reference[$0] } },
                    advantages: rows.map { batch.advantages[$0] }, includedInLoss: rows.map { batch.includedInLoss[$0] },
                    generationBatchTokens: lossTokens))
                try policy.backward(pass, logProbGradients: result.logProbGradients)
                windowLoss += result.loss
                statistics = statistics + result.statistics
                for (row, sequence) in zip(rows, pass.entropies) where batch.includedInLoss[row] {
                    entropySum += sequence.reduce(0.0) { $0 + Double($1) }
                }
                for (row, logProbs) in zip(rows, pass.logProbs) { policyLogProbs[row] = logProbs }
                if (index + 1) % config.gradientAccumulationSteps == 0 {
                    updates.append(try applyUpdate(loss: windowLoss))
                    windowLoss = 0
                }
            }
            // On the first pass the policy is still the sampling policy: its log-probs are the old ones.
            if iteration == 0, old == nil { old = policyLogProbs }
        }
        return UpdateReport(updates: updates, statistics: statistics,
                            entropy: statistics.tokens == 0 ? .nan : entropySum / Double(statistics.tokens),
                            oldLogProbs: old ?? policyLogProbs, referenceLogProbs: referenceLogProbs,
                            policyLogProbs: policyLogProbs, referenceSeconds: referenceSeconds,
                            policySeconds: Double(DispatchTime.now().uptimeNanoseconds - policyStart) / 1e9)
    }

    /// Clip, AdamW, zero the gradients; or, when the loss or gradient is not finite, drop the update
    /// without touching the weights or the optimizer's moments.
    func applyUpdate(loss: Double) throws -> OptimizerUpdate {
        let parameters = policy.parameters
        willApplyUpdate?(parameters)
        let norm = gradientNorm(parameters.gradients.pointer, count: parameters.count)
        let learningRate = schedule.learningRate(atStep: optimizerSteps)
        defer { parameters.zeroGradients() }
        guard loss.isFinite, norm.isFinite else {
            if config.onNonfinite == .stop {
                throw GRPOError.nonFinite(optimizerStep: optimizerSteps + 1, loss: loss, gradNorm: norm)
            }
            return OptimizerUpdate(loss: loss, gradNorm: norm, learningRate: learningRate, skipped: true)
        }
        let factor = min(config.maxGradNorm / (norm + 1e-6), 1)
        if factor < 1 { Kernels.scale(parameters.gradients.pointer, by: Float(factor), parameters.count) }
        optimizer.update(values: parameters.values.pointer, gradients: parameters.gradients.pointer, learningRate: learningRate)
        optimizerSteps += 1
        try reference?.synchronizeIfDue(with: policy, completedSteps: optimizerSteps)
        return OptimizerUpdate(loss: loss, gradNorm: norm, learningRate: learningRate, skipped: false)
    }

    /// `count` items split in order into `parts` nearly equal, non-empty ranges (fewer when count < parts).
    static func split(_ count: Int, into parts: Int) -> [[Int]] {
        let parts = max(1, min(parts, count))
        return (0..<parts).map { Array((count * $0 / parts)..<(count * ($0 + 1) / parts)) }
    }

    func summarize(_ rollouts: [Rollout], report: UpdateReport?, into metrics: inout TrainingMetrics) {
        metrics.optimizerSteps = optimizerSteps
        if let report {
            let applied = report.updates.filter { !$0.skipped }
            metrics.skippedUpdates = report.updates.count - applied.count
            metrics.learningRate = report.updates.last?.learningRate ?? schedule.learningRate(atStep: optimizerSteps)
            metrics.loss = report.updates.map(\.loss).reduce(0, +) / Double(max(report.updates.count, 1))
            metrics.gradNorm = report.updates.map(\.gradNorm).reduce(0, +) / Double(max(report.updates.count, 1))
            metrics.kl = reference == nil ? .nan : report.statistics.kl
            metrics.entropy = report.entropy
            metrics.clipRatioLow = report.statistics.clipRatioLow
            metrics.clipRatioHigh = report.statistics.clipRatioHigh
            metrics.clipRatioRegion = report.statistics.clipRatioRegion
            metrics.seconds.reference = report.referenceSeconds
            metrics.seconds.policyUpdate = report.policySeconds
        }
        guard !rollouts.isEmpty else { return }
        let totals = rollouts.map(\.totalReward)
        metrics.rewardMean = totals.reduce(0, +) / Double(totals.count)
        metrics.rewardStandardDeviation = (totals.reduce(0) { $0 + ($1 - metrics.rewardMean) * ($1 - metrics.rewardMean) } / Double(totals.count)).squareRoot()
        let ruleCount = rewards.rules.count
        metrics.ruleRewardMeans = (0..<ruleCount).map { rule in rollouts.reduce(0) { $0 + $1.ruleRewards[rule] } / Double(rollouts.count) }
        metrics.ruleErrorCounts = (0..<ruleCount).map { rule in rollouts.filter { !$0.ruleErrors.isEmpty && !$0.ruleErrors[rule].isEmpty }.count }
        let lengths = rollouts.map(\.tokenIDs.count)
        metrics.completionLengthMean = Double(lengths.reduce(0, +)) / Double(lengths.count)
        metrics.completionLengthMin = lengths.min() ?? 0
        metrics.completionLengthMax = lengths.max() ?? 0
        metrics.truncatedFraction = Double(rollouts.filter { $0.finishReason == .length }.count) / Double(rollouts.count)
    }
}
