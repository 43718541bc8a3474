import Advantages
import Foundation

/// How the per-token losses of a batch are averaged (TRL's `loss_type`).
public enum LossType: String, CaseIterable, Codable, Sendable {
    /// Mean over each completion's tokens, then over completions (DeepSeekMath GRPO): long completions
    /// weigh less per token.
    case grpo
    /// Mean over the micro-batch's tokens.
    case bnpo
    /// Sum over tokens divided by (completions × max_completion_length): a constant normalizer (Dr. GRPO).
    case drGRPO = "dr_grpo"
    /// Sum over tokens divided by the token count of the whole generation batch (DAPO; TRL's default).
    case dapo
}

/// The learning-rate schedule (Hugging Face's `lr_scheduler_type`).
public enum LearningRateScheduleType: String, CaseIterable, Codable, Sendable {
    case constant
    case constantWithWarmup = "constant_with_warmup"
    case linear
    case cosine
}

/// What a non-finite loss or gradient does: the update is never applied either way.
public enum NonFiniteAction: String, CaseIterable, Codable, Sendable {
    /// Drop the update, count it in the metrics, go on.
    case skip
    /// Drop the update and stop the run with `GRPOError.nonFinite` (the runner checkpoints first).
    case stop
}

/// Everything the GRPO trainer needs to know, under TRL's `GRPOConfig` names where TRL has one.
///
/// Batch arithmetic, as TRL: one generation step samples `generationBatchSize` completions
/// (`generationBatchSize / numGenerations` prompts × `numGenerations`), splits them into
/// `stepsPerGeneration` micro-batches of `perDeviceTrainBatchSize`, and makes an optimizer update every
/// `gradientAccumulationSteps` micro-batches, over `numIterations` passes.
public struct GRPOConfig: Codable, Equatable, Sendable {
    // Batching
    public var numGenerations = 8
    public var perDeviceTrainBatchSize = 8
    public var gradientAccumulationSteps = 1
    /// Micro-batches per generation step; nil means `gradientAccumulationSteps` (TRL's default).
    public var stepsPerGeneration: Int?
    /// Passes over each generation batch (μ in the GRPO paper); > 1 needs the old policy's log-probs.
    public var numIterations = 1

    // Sampling
    public var maxCompletionLength = 512
    public var temperature: Float = 1
    public var topP: Float = 1
    public var topK = 0
    public var minP: Float?
    public var maskTruncatedCompletions = false

    // Objective
    public var lossType = LossType.dapo
    public var beta = 0.0
    public var epsilon = 0.2
    /// Upper clip ε_high; nil means `epsilon` (DAPO's clip-higher uses 0.28).
    public var epsilonHigh: Double?
    /// Two-sided clipping: the ratio of the unclipped term is capped at δ (> 1 + ε_high). nil: off.
    public var delta: Double?
    /// Multiply the KL term by the importance ratio (TRL's default, from DeepSeek-V3.2).
    public var useBiasCorrectionKL = true
    public var scaleRewards = AdvantageNormalization.group
    /// DAPO's dynamic sampling: groups whose rewards are all equal are dropped and more prompts sampled.
    public var dynamicSampling = false
    /// Generation rounds dynamic sampling may use per step before training on what it has.
    public var maxNumGenBatches = 10

    // Reference model
    public var syncRefModel = false
    public var refModelMixupAlpha = 0.6
    public var refModelSyncSteps = 512

    // Optimizer
    public var learningRate = 1e-6
    public var adamBeta1 = 0.9
    public var adamBeta2 = 0.999
    public var adamEpsilon = 1e-8
    public var weightDecay = 0.0
    public var maxGradNorm = 1.0
    public var lrSchedulerType = LearningRateScheduleType.linear
    /// Warmup as a fraction of `maxSteps` (rounded up); used when `warmupSteps` is 0.
    public var warmupRatio = 0.0
    public var warmupSteps = 0
    /// Optimizer steps of the whole run (TRL's `max_steps`): the schedule's horizon.
    public var maxSteps = 1000
    public var onNonfinite = NonFiniteAction.skip
    public var seed: UInt64 = 42

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case numGenerations = "num_generations"
        case perDeviceTrainBatchSize = "per_device_train_batch_size"
        case gradientAccumulationSteps = "gradient_accumulation_steps"
        case stepsPerGeneration = "steps_per_generation"
        case numIterations = "num_iterations"
        case maxCompletionLength = "max_completion_length"
        case temperature
        case topP = "top_p"
        case topK = "top_k"
        case minP = "min_p"
        case maskTruncatedCompletions = "mask_truncated_completions"
        case lossType = "loss_type"
        case beta, epsilon
        case epsilonHigh = "epsilon_high"
        case delta
        case useBiasCorrectionKL = "use_bias_correction_kl"
        case scaleRewards = "scale_rewards"
        case dynamicSampling = "dynamic_sampling"
        case maxNumGenBatches = "max_num_gen_batches"
        case syncRefModel = "sync_ref_model"
        case refModelMixupAlpha = "ref_model_mixup_alpha"
        case refModelSyncSteps = "ref_model_sync_steps"
        case learningRate = "learning_rate"
        case adamBeta1 = "adam_beta1"
        case adamBeta2 = "adam_beta2"
        case adamEpsilon = "adam_epsilon"
        case weightDecay = "weight_decay"
        case maxGradNorm = "max_grad_norm"
        case lrSchedulerType = "lr_scheduler_type"
        case warmupRatio = "warmup_ratio"
        case warmupSteps = "warmup_steps"
        case maxSteps = "max_steps"
        case onNonfinite = "on_nonfinite"
        case seed
    }

    /// Every key an experiment file may set, in declaration order.
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try container.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        let defaults = GRPOConfig()
        numGenerations = try value(.numGenerations, defaults.numGenerations)
        perDeviceTrainBatchSize = try value(.perDeviceTrainBatchSize, defaults.perDeviceTrainBatchSize)
        gradientAccumulationSteps = try value(.gradientAccumulationSteps, defaults.gradientAccumulationSteps)
        stepsPerGeneration = try container.decodeIfPresent(Int.self, forKey: .stepsPerGeneration)
        numIterations = try value(.numIterations, defaults.numIterations)
        maxCompletionLength = try value(.maxCompletionLength, defaults.maxCompletionLength)
        temperature = try value(.temperature, defaults.temperature)
        topP = try value(.topP, defaults.topP)
        topK = try value(.topK, defaults.topK)
        minP = try container.decodeIfPresent(Float.self, forKey: .minP)
        maskTruncatedCompletions = try value(.maskTruncatedCompletions, defaults.maskTruncatedCompletions)
        lossType = try value(.lossType, defaults.lossType)
        beta = try value(.beta, defaults.beta)
        epsilon = try value(.epsilon, defaults.epsilon)
        epsilonHigh = try container.decodeIfPresent(Double.self, forKey: .epsilonHigh)
        delta = try container.decodeIfPresent(Double.self, forKey: .delta)
        useBiasCorrectionKL = try value(.useBiasCorrectionKL, defaults.useBiasCorrectionKL)
        scaleRewards = try value(.scaleRewards, defaults.scaleRewards)
        dynamicSampling = try value(.dynamicSampling, defaults.dynamicSampling)
        maxNumGenBatches = try value(.maxNumGenBatches, defaults.maxNumGenBatches)
        syncRefModel = try value(.syncRefModel, defaults.syncRefModel)
        refModelMixupAlpha = try value(.refModelMixupAlpha, defaults.refModelMixupAlpha)
        refModelSyncSteps = try value(.refModelSyncSteps, defaults.refModelSyncSteps)
        learningRate = try value(.learningRate, defaults.learningRate)
        adamBeta1 = try value(.adamBeta1, defaults.adamBeta1)
        adamBeta2 = try value(.adamBeta2, defaults.adamBeta2)
        adamEpsilon = try value(.adamEpsilon, defaults.adamEpsilon)
        weightDecay = try value(.weightDecay, defaults.weightDecay)
        maxGradNorm = try value(.maxGradNorm, defaults.maxGradNorm)
        lrSchedulerType = try value(.lrSchedulerType, defaults.lrSchedulerType)
        warmupRatio = try value(.warmupRatio, defaults.warmupRatio)
        warmupSteps = try value(.warmupSteps, defaults.warmupSteps)
        maxSteps = try value(.maxSteps, defaults.maxSteps)
        onNonfinite = try value(.onNonfinite, defaults.onNonfinite)
        seed = try value(.seed, defaults.seed)
    }

    // MARK: Derived quantities

    public var epsilonLow: Double { epsilon }
    public var effectiveEpsilonHigh: Double { epsilonHigh ?? epsilon }
    public var effectiveStepsPerGeneration: Int { stepsPerGeneration ?? gradientAccumulationSteps }
    /// Completions sampled per generation step.
    public var generationBatchSize: Int { perDeviceTrainBatchSize * effectiveStepsPerGeneration }
    public var promptsPerStep: Int { generationBatchSize / numGenerations }
    /// Optimizer updates one generation step makes.
    public var updatesPerGeneration: Int { numIterations * effectiveStepsPerGeneration / gradientAccumulationSteps }
    /// The sampling policy's log-probs need a pass of their own when the policy changes before the last
    /// micro-batch of the generation batch is trained on (TRL's rule); otherwise the first pass gives them.
    public var needsOldLogProbs: Bool {
        gradientAccumulationSteps % (effectiveStepsPerGeneration * numIterations) != 0
    }
    public var effectiveWarmupSteps: Int {
        warmupSteps > 0 ? warmupSteps : Int((warmupRatio * Double(maxSteps)).rounded(.up))
    }

    /// Checks every value and their combinations; the error names the key and what was expected.
    public func validate() throws {
        func require(_ condition: Bool, _ key: CodingKeys, _ expected: String, _ actual: Any) throws {
            if !condition { throw GRPOError.invalidConfig(key: key.rawValue, message: "expected \(expected), got \(actual)") }
        }
        try require(numGenerations >= 1, .numGenerations, "at least 1", numGenerations)
        try require(perDeviceTrainBatchSize >= 1, .perDeviceTrainBatchSize, "at least 1", perDeviceTrainBatchSize)
        try require(gradientAccumulationSteps >= 1, .gradientAccumulationSteps, "at least 1", gradientAccumulationSteps)
        if let steps = stepsPerGeneration {
            try require(steps >= 1, .stepsPerGeneration, "at least 1", steps)
            try require(steps % gradientAccumulationSteps == 0, .stepsPerGeneration,
                        "a multiple of gradient_accumulation_steps (\(gradientAccumulationSteps))", steps)
        }
        try require(generationBatchSize % numGenerations == 0, .numGenerations,
                    "a divisor of the generation batch (per_device_train_batch_size × steps_per_generation = \(generationBatchSize))",
                    numGenerations)
        try require(numIterations >= 1, .numIterations, "at least 1", numIterations)
        try require(maxCompletionLength >= 1, .maxCompletionLength, "at least 1", maxCompletionLength)
        try require(temperature > 0 && temperature.isFinite, .temperature, "a positive number", temperature)
        try require(topP > 0 && topP <= 1, .topP, "a number in (0, 1]", topP)
        try require(topK >= 0, .topK, "0 (off) or a positive count", topK)
        if let minP { try require(minP >= 0 && minP <= 1, .minP, "a number in [0, 1]", minP) }
        try require(beta >= 0 && beta.isFinite, .beta, "a number ≥ 0", beta)
        try require(epsilon >= 0 && epsilon < 1, .epsilon, "a number in [0, 1)", epsilon)
        if let epsilonHigh { try require(epsilonHigh >= 0 && epsilonHigh.isFinite, .epsilonHigh, "a number ≥ 0", epsilonHigh) }
        if let delta { try require(delta > 1 + effectiveEpsilonHigh, .delta, "a number > 1 + epsilon_high (\(1 + effectiveEpsilonHigh))", delta) }
        try require(maxNumGenBatches >= 1, .maxNumGenBatches, "at least 1", maxNumGenBatches)
        try require(refModelMixupAlpha > 0 && refModelMixupAlpha <= 1, .refModelMixupAlpha, "a number in (0, 1]", refModelMixupAlpha)
        try require(refModelSyncSteps >= 1, .refModelSyncSteps, "at least 1", refModelSyncSteps)
        try require(!syncRefModel || beta > 0, .syncRefModel, "false when beta is 0 (there is no reference model to sync)", syncRefModel)
        try require(learningRate >= 0 && learningRate.isFinite, .learningRate, "a number ≥ 0", learningRate)
        try require(adamBeta1 >= 0 && adamBeta1 < 1, .adamBeta1, "a number in [0, 1)", adamBeta1)
        try require(adamBeta2 >= 0 && adamBeta2 < 1, .adamBeta2, "a number in [0, 1)", adamBeta2)
        try require(adamEpsilon > 0, .adamEpsilon, "a positive number", adamEpsilon)
        try require(weightDecay >= 0, .weightDecay, "a number ≥ 0", weightDecay)
        try require(maxGradNorm > 0, .maxGradNorm, "a positive number (use a large value to disable clipping)", maxGradNorm)
        try require(warmupRatio >= 0 && warmupRatio <= 1, .warmupRatio, "a number in [0, 1]", warmupRatio)
        try require(warmupSteps >= 0, .warmupSteps, "a number ≥ 0", warmupSteps)
        try require(maxSteps >= 1, .maxSteps, "at least 1", maxSteps)
    }
}
