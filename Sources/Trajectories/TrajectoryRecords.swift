import Foundation

/// What a run file says about the whole run, written once as root attributes when the file is created.
public struct RunMetadata: Equatable, Sendable {
    /// The experiment file's full text, exactly as the run read it.
    public var experiment: String
    public var seed: UInt64
    public var swiftGRPOVersion: String
    public var modelPath: String
    /// A content hash of the model weights (e.g. "sha256:…"); empty when unknown.
    public var modelHash: String
    public var tokenizerPath: String
    public var tokenizerHash: String
    /// Reward rule names in column order: every per-rule column of the file follows this order.
    public var rewardRules: [String]
    public var rewardWeights: [Double]
    /// Names of trainer-specific per-step metrics stored in `steps/extra`, in column order.
    public var extraStepMetrics: [String]
    /// ISO 8601, UTC, e.g. "2026-11-24T22:40:18Z".
    public var startTime: String

    public init(experiment: String, seed: UInt64, swiftGRPOVersion: String, modelPath: String, modelHash: String,
                tokenizerPath: String, tokenizerHash: String, rewardRules: [String], rewardWeights: [Double],
                extraStepMetrics: [String] = [], startTime: String = RunMetadata.timestamp()) {
        self.experiment = experiment
        self.seed = seed
        self.swiftGRPOVersion = swiftGRPOVersion
        self.modelPath = modelPath
        self.modelHash = modelHash
        self.tokenizerPath = tokenizerPath
        self.tokenizerHash = tokenizerHash
        self.rewardRules = rewardRules
        self.rewardWeights = rewardWeights
        self.extraStepMetrics = extraStepMetrics
        self.startTime = startTime
    }

    /// Now (or `date`) as ISO 8601 in UTC, to the second.
    public static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

/// Wall-clock seconds of the phases of one step that the trainer measures (the store adds its own write time).
public struct PhaseSeconds: Equatable, Sendable {
    public var sample: Double
    public var score: Double
    public var reference: Double
    public var policyUpdate: Double

    public init(sample: Double = 0, score: Double = 0, reference: Double = 0, policyUpdate: Double = 0) {
        self.sample = sample
        self.score = score
        self.reference = reference
        self.policyUpdate = policyUpdate
    }
}

/// The trainer's scalar metrics of one step. Reward means and standard deviations are not here: the store
/// computes them from the step's completions, so they always agree with the stored rewards.
public struct StepMetrics: Equatable, Sendable {
    public var step: Int
    public var learningRate: Double
    public var loss: Double
    public var kl: Double
    public var clipFractionLow: Double
    public var clipFractionHigh: Double
    public var entropy: Double
    public var gradNorm: Double
    /// Groups whose rewards were all equal (their advantages are zero).
    public var zeroVarianceGroups: Int
    public var tokensGenerated: Int
    public var seconds: PhaseSeconds
    /// Values of `RunMetadata.extraStepMetrics`, in the same order.
    public var extra: [Double]

    public init(step: Int, learningRate: Double = .nan, loss: Double = .nan, kl: Double = .nan,
                clipFractionLow: Double = .nan, clipFractionHigh: Double = .nan, entropy: Double = .nan,
                gradNorm: Double = .nan, zeroVarianceGroups: Int = 0, tokensGenerated: Int = 0,
                seconds: PhaseSeconds = PhaseSeconds(), extra: [Double] = []) {
        self.step = step
        self.learningRate = learningRate
        self.loss = loss
        self.kl = kl
        self.clipFractionLow = clipFractionLow
        self.clipFractionHigh = clipFractionHigh
        self.entropy = entropy
        self.gradNorm = gradNorm
        self.zeroVarianceGroups = zeroVarianceGroups
        self.tokensGenerated = tokensGenerated
        self.seconds = seconds
        self.extra = extra
    }

    /// NaN-aware equality (a metric the trainer did not compute is NaN), so a row read back equals the one written.
    public static func == (lhs: StepMetrics, rhs: StepMetrics) -> Bool {
        let left = [lhs.learningRate, lhs.loss, lhs.kl, lhs.clipFractionLow, lhs.clipFractionHigh, lhs.entropy, lhs.gradNorm]
        let right = [rhs.learningRate, rhs.loss, rhs.kl, rhs.clipFractionLow, rhs.clipFractionHigh, rhs.entropy, rhs.gradNorm]
        return lhs.step == rhs.step && lhs.zeroVarianceGroups == rhs.zeroVarianceGroups
            && lhs.tokensGenerated == rhs.tokensGenerated && lhs.seconds == rhs.seconds
            && zip(left, right).allSatisfy(sameValue) && lhs.extra.count == rhs.extra.count
            && zip(lhs.extra, rhs.extra).allSatisfy(sameValue)
    }
}

/// One prompt of a step: the group of completions sampled for it points here.
public struct PromptRecord: Equatable, Sendable {
    /// Index of the problem in the task's dataset (not its position in the step).
    public var promptIndex: Int
    public var text: String
    /// The gold answer the reward rules compared against; empty when the task has none.
    public var answer: String

    public init(promptIndex: Int, text: String, answer: String = "") {
        self.promptIndex = promptIndex
        self.text = text
        self.answer = answer
    }
}

/// Why sampling of a completion stopped.
public enum FinishReason: String, Equatable, Sendable, CaseIterable {
    /// The model produced its end-of-sequence token.
    case eos
    /// A stop string matched.
    case stop
    /// `max_completion_length` was reached.
    case length
}

/// One completion with everything the step computed about it.
public struct CompletionRecord: Equatable, Sendable {
    /// Position of its prompt in the step's `prompts` (its group).
    public var group: Int
    public var text: String
    public var tokenIDs: [Int32]
    public var finishReason: FinishReason
    /// One reward per rule, in `RunMetadata.rewardRules` order.
    public var rewards: [Float]
    /// The weighted total the advantages were computed from.
    public var totalReward: Float
    public var advantage: Float
    /// One message per rule ("" when the rule did not fail), in rule order; an empty array means no errors.
    public var ruleErrors: [String]
    /// Per-token log-probabilities under the sampling policy, the reference model and the updated policy.
    /// Each has one value per token, or is empty when the step did not compute it (stored as NaN).
    public var oldLogProbs: [Float]
    public var referenceLogProbs: [Float]
    public var newLogProbs: [Float]

    public init(group: Int, text: String, tokenIDs: [Int32], finishReason: FinishReason, rewards: [Float],
                totalReward: Float, advantage: Float, ruleErrors: [String] = [], oldLogProbs: [Float] = [],
                referenceLogProbs: [Float] = [], newLogProbs: [Float] = []) {
        self.group = group
        self.text = text
        self.tokenIDs = tokenIDs
        self.finishReason = finishReason
        self.rewards = rewards
        self.totalReward = totalReward
        self.advantage = advantage
        self.ruleErrors = ruleErrors
        self.oldLogProbs = oldLogProbs
        self.referenceLogProbs = referenceLogProbs
        self.newLogProbs = newLogProbs
    }

    public var length: Int { tokenIDs.count }
}

/// Everything one training step appends to the run file.
public struct StepRecord: Equatable, Sendable {
    public var metrics: StepMetrics
    public var prompts: [PromptRecord]
    public var completions: [CompletionRecord]

    public init(metrics: StepMetrics, prompts: [PromptRecord], completions: [CompletionRecord]) {
        self.metrics = metrics
        self.prompts = prompts
        self.completions = completions
    }
}

/// Mean and standard deviation (population, ddof 0) of rewards over a step's completions.
public struct RewardStatistics: Equatable, Sendable {
    public var ruleMeans: [Double]
    public var ruleStandardDeviations: [Double]
    public var totalMean: Double
    public var totalStandardDeviation: Double

    public init(ruleMeans: [Double], ruleStandardDeviations: [Double], totalMean: Double, totalStandardDeviation: Double) {
        self.ruleMeans = ruleMeans
        self.ruleStandardDeviations = ruleStandardDeviations
        self.totalMean = totalMean
        self.totalStandardDeviation = totalStandardDeviation
    }

    /// The statistics of `completions`, `ruleCount` rules each.
    public init(of completions: [CompletionRecord], ruleCount: Int) {
        func meanAndDeviation(_ values: [Float]) -> (Double, Double) {
            guard !values.isEmpty else { return (.nan, .nan) }
            let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
            let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count)
            return (mean, variance.squareRoot())
        }
        var means: [Double] = []
        var deviations: [Double] = []
        for rule in 0..<ruleCount {
            let (mean, deviation) = meanAndDeviation(completions.map { $0.rewards[rule] })
            means.append(mean)
            deviations.append(deviation)
        }
        let (mean, deviation) = meanAndDeviation(completions.map(\.totalReward))
        self.init(ruleMeans: means, ruleStandardDeviations: deviations, totalMean: mean, totalStandardDeviation: deviation)
    }
}

/// One row of the step table as read back: the trainer's metrics plus what the store computed and measured.
public struct StepSummary: Equatable, Sendable {
    public var metrics: StepMetrics
    public var rewards: RewardStatistics
    public var completionLengthMean: Double
    /// Seconds the store spent writing and flushing the step's prompts, completions and tokens.
    public var writeSeconds: Double
    /// Unix time (seconds) when the step was written.
    public var wallTime: Double
    /// Row ranges of this step in the prompts, completions and tokens tables.
    public var promptRows: Range<Int>
    public var completionRows: Range<Int>
    public var tokenRows: Range<Int>
}

/// One problem's result in an evaluation.
public struct EvaluationProblem: Equatable, Sendable {
    /// Index of the problem in the evaluation split.
    public var problemIndex: Int
    /// Whether the greedy (pass@1) answer was correct.
    public var correct: Bool
    /// How many of the k samples were correct.
    public var correctSamples: Int

    public init(problemIndex: Int, correct: Bool, correctSamples: Int) {
        self.problemIndex = problemIndex
        self.correct = correct
        self.correctSamples = correctSamples
    }
}

/// An evaluation of the policy at a step: pass@1 (greedy), pass@k, maj@k and per-problem correctness.
public struct EvaluationRecord: Equatable, Sendable {
    public var step: Int
    public var k: Int
    public var passAt1: Double
    public var passAtK: Double
    /// NaN when the evaluation did not compute it.
    public var majAtK: Double
    public var problems: [EvaluationProblem]

    public init(step: Int, k: Int, passAt1: Double, passAtK: Double, majAtK: Double = .nan, problems: [EvaluationProblem]) {
        self.step = step
        self.k = k
        self.passAt1 = passAt1
        self.passAtK = passAtK
        self.majAtK = majAtK
        self.problems = problems
    }

    /// NaN-aware equality, so a record read back equals the one written.
    public static func == (lhs: EvaluationRecord, rhs: EvaluationRecord) -> Bool {
        lhs.step == rhs.step && lhs.k == rhs.k && sameValue(lhs.passAt1, rhs.passAt1) && sameValue(lhs.passAtK, rhs.passAtK)
            && sameValue(lhs.majAtK, rhs.majAtK) && lhs.problems == rhs.problems
    }
}

func sameValue(_ a: Double, _ b: Double) -> Bool { a == b || (a.isNaN && b.isNaN) }
