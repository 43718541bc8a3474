import Foundation

/// The GRPO objective of one micro-batch, per token:
///
///     r = exp(logp − logp_old)
///     loss_t = −min(r·A, clip(r, 1 − ε_low, 1 + ε_high)·A) + β·KL_t,   KL_t = exp(ref − logp) − (ref − logp) − 1
///
/// (with TRL's options: δ caps the unclipped ratio, and the bias correction multiplies KL_t by r),
/// aggregated over tokens as `loss_type` says. It sees only per-token log-probs and returns their
/// gradient: the model's backward does the rest. Computed in Double; TRL's formulas, TRL's tie rules.
public struct GRPOObjective: Sendable {
    public var lossType: LossType
    public var beta: Double
    public var epsilonLow: Double
    public var epsilonHigh: Double
    public var delta: Double?
    public var useBiasCorrectionKL: Bool
    public var maxCompletionLength: Int
    public var gradientAccumulationSteps: Int
    public var stepsPerGeneration: Int

    public init(lossType: LossType, beta: Double, epsilonLow: Double, epsilonHigh: Double, delta: Double? = nil,
                useBiasCorrectionKL: Bool = true, maxCompletionLength: Int, gradientAccumulationSteps: Int = 1,
                stepsPerGeneration: Int = 1) {
        self.lossType = lossType
        self.beta = beta
        self.epsilonLow = epsilonLow
        self.epsilonHigh = epsilonHigh
        self.delta = delta
        self.useBiasCorrectionKL = useBiasCorrectionKL
        self.maxCompletionLength = maxCompletionLength
        self.gradientAccumulationSteps = gradientAccumulationSteps
        self.stepsPerGeneration = stepsPerGeneration
    }

    public init(_ config: GRPOConfig) {
        self.init(lossType: config.lossType, beta: config.beta, epsilonLow: config.epsilonLow,
                  epsilonHigh: config.effectiveEpsilonHigh, delta: config.delta, useBiasCorrectionKL: config.useBiasCorrectionKL,
                  maxCompletionLength: config.maxCompletionLength, gradientAccumulationSteps: config.gradientAccumulationSteps,
                  stepsPerGeneration: config.effectiveStepsPerGeneration)
    }

    /// One micro-batch: per completion, the log-probs of its tokens under the current policy, the
    /// sampling policy (nil: this is the first pass, so they are the current ones, detached) and the
    /// reference (nil when β = 0); its advantage; whether it counts in the loss at all (false for a
    /// truncated completion under `mask_truncated_completions`).
    public struct Inputs {
        public var logProbs: [[Float]]
        public var oldLogProbs: [[Float]]?
        public var referenceLogProbs: [[Float]]?
        public var advantages: [Float]
        public var includedInLoss: [Bool]
        /// Loss tokens (of included completions) in the whole generation batch: DAPO's normalizer.
        public var generationBatchTokens: Int

        public init(logProbs: [[Float]], oldLogProbs: [[Float]]? = nil, referenceLogProbs: [[Float]]? = nil,
                    advantages: [Float], includedInLoss: [Bool]? = nil, generationBatchTokens: Int) {
            self.logProbs = logProbs
            self.oldLogProbs = oldLogProbs
            self.referenceLogProbs = referenceLogProbs
            self.advantages = advantages
            self.includedInLoss = includedInLoss ?? Array(repeating: true, count: logProbs.count)
            self.generationBatchTokens = generationBatchTokens
        }
    }

    /// The micro-batch's loss (already divided for gradient accumulation, as TRL returns it), ∂loss/∂logp
    /// per token, and token sums for the step's metrics.
    public struct Result {
        public var loss: Double
        public var logProbGradients: [[Float]]
        public var statistics: Statistics
    }

    /// Sums over the loss tokens of a micro-batch; add them up over a step and divide by `tokens`.
    public struct Statistics: Equatable, Sendable {
        public var tokens = 0
        public var klSum = 0.0
        public var lowClipped = 0
        public var highClipped = 0
        public var policyLossSum = 0.0

        public init() {}
        public static func + (lhs: Statistics, rhs: Statistics) -> Statistics {
            var sum = lhs
            sum.tokens += rhs.tokens
            sum.klSum += rhs.klSum
            sum.lowClipped += rhs.lowClipped
            sum.highClipped += rhs.highClipped
            sum.policyLossSum += rhs.policyLossSum
            return sum
        }
        /// Mean k3 KL (importance-weighted when the bias correction is on) per loss token.
        public var kl: Double { tokens == 0 ? 0 : klSum / Double(tokens) }
        /// Fraction of loss tokens whose ratio fell below 1 − ε_low with a negative advantage.
        public var clipRatioLow: Double { tokens == 0 ? 0 : Double(lowClipped) / Double(tokens) }
        /// Fraction of loss tokens whose ratio rose above 1 + ε_high with a positive advantage.
        public var clipRatioHigh: Double { tokens == 0 ? 0 : Double(highClipped) / Double(tokens) }
        public var clipRatioRegion: Double { clipRatioLow + clipRatioHigh }
    }

    public func evaluate(_ inputs: Inputs) throws -> Result {
        let rows = inputs.logProbs.count
        guard inputs.advantages.count == rows, inputs.includedInLoss.count == rows else {
            throw GRPOError.invalidBatch("advantages (\(inputs.advantages.count)) and loss masks (\(inputs.includedInLoss.count)) must match the \(rows) completions")
        }
        for (name, other) in [("old", inputs.oldLogProbs), ("reference", inputs.referenceLogProbs)] {
            guard let other else { continue }
            guard other.count == rows, zip(other, inputs.logProbs).allSatisfy({ $0.count == $1.count }) else {
                throw GRPOError.invalidBatch("\(name) log-probs must have one value per completion token, shaped like the policy's")
            }
        }
        if beta != 0, inputs.referenceLogProbs == nil {
            throw GRPOError.invalidBatch("beta is \(beta) but no reference log-probs were given")
        }

        // Per-token loss and its derivative, before aggregation.
        var tokenLoss = inputs.logProbs.map { [Double](repeating: 0, count: $0.count) }
        var tokenGradient = tokenLoss
        var statistics = Statistics()
        let low = 1 - epsilonLow, high = 1 + epsilonHigh
        for row in 0..<rows where inputs.includedInLoss[row] {
            let advantage = Double(inputs.advantages[row])
            for t in inputs.logProbs[row].indices {
                let logProb = Double(inputs.logProbs[row][t])
                let old = inputs.oldLogProbs.map { Double($0[row][t]) } ?? logProb
                let ratio = Foundation.exp(logProb - old)  // d ratio / d logp = ratio, also when it equals 1
                let clipped = min(max(ratio, low), high)
                let clippedSlope = ratio >= low && ratio <= high ? ratio : 0
                let capped = delta.map { min(ratio, $0) } ?? ratio
                let cappedSlope = delta.map { ratio <= $0 ? ratio : 0 } ?? ratio
                let unclippedTerm = capped * advantage, clippedTerm = clipped * advantage
                var loss = -min(unclippedTerm, clippedTerm)
                // torch.min sends the gradient to the smaller input, half to each on a tie.
                var gradient: Double
                if unclippedTerm < clippedTerm {
                    gradient = -advantage * cappedSlope
                } else if unclippedTerm > clippedTerm {
                    gradient = -advantage * clippedSlope
                } else {
                    gradient = -advantage * (cappedSlope + clippedSlope) / 2
                }
                statistics.policyLossSum += loss
                if beta != 0, let reference = inputs.referenceLogProbs {
                    let difference = Double(reference[row][t]) - logProb
                    let expDifference = Foundation.exp(difference)
                    var kl = expDifference - difference - 1
                    var klGradient = 1 - expDifference
                    if useBiasCorrectionKL {
                        klGradient = klGradient * ratio + kl * ratio
                        kl *= ratio
                    }
                    loss += beta * kl
                    gradient += beta * klGradient
                    statistics.klSum += kl
                }
                if capped < low && advantage < 0 { statistics.lowClipped += 1 }
                if capped > high && advantage > 0 { statistics.highClipped += 1 }
                statistics.tokens += 1
                tokenLoss[row][t] = loss
                tokenGradient[row][t] = gradient
            }
        }

        // Aggregation: loss = Σ_t weight_t · loss_t, so ∂loss/∂logp_t = weight_t · ∂loss_t/∂logp_t.
        let accumulation = Double(gradientAccumulationSteps)
        let tokenCounts = (0..<rows).map { inputs.includedInLoss[$0] ? inputs.logProbs[$0].count : 0 }
        var weights = [Double](repeating: 0, count: rows)
        switch lossType {
        case .grpo:
            for row in 0..<rows { weights[row] = 1 / (Double(max(tokenCounts[row], 1)) * Double(rows) * accumulation) }
        case .bnpo:
            let total = Double(max(tokenCounts.reduce(0, +), 1))
            weights = weights.map { _ in 1 / (total * accumulation) }
        case .drGRPO:
            weights = weights.map { _ in 1 / (Double(rows) * Double(maxCompletionLength) * accumulation) }
        case .dapo:
            // TRL: Σ / (num_items_in_batch · gradient_accumulation_steps / steps_per_generation).
            let normalizer = Double(max(inputs.generationBatchTokens, 1)) * accumulation / Double(stepsPerGeneration)
            weights = weights.map { _ in 1 / normalizer }
        }
        var loss = 0.0
        var gradients = inputs.logProbs.map { [Float](repeating: 0, count: $0.count) }
        for row in 0..<rows where inputs.includedInLoss[row] {
            for t in tokenLoss[row].indices {
                loss += weights[row] * tokenLoss[row][t]
                gradients[row][t] = Float(weights[row] * tokenGradient[row][t])
            }
        }
        return Result(loss: loss, logProbGradients: gradients, statistics: statistics)
    }
}
