import Foundation

/// The learning rate at each optimizer step, as `transformers.get_scheduler` computes it.
public struct LearningRateSchedule: Equatable, Sendable {
    public var type: LearningRateScheduleType
    public var baseLearningRate: Double
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(type: LearningRateScheduleType, baseLearningRate: Double, warmupSteps: Int = 0, totalSteps: Int) {
        self.type = type
        self.baseLearningRate = baseLearningRate
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    public init(_ config: GRPOConfig) {
        self.init(type: config.lrSchedulerType, baseLearningRate: config.learningRate,
                  warmupSteps: config.effectiveWarmupSteps, totalSteps: config.maxSteps)
    }

    /// The rate of optimizer step `step` (0-based: the first update uses step 0).
    public func learningRate(atStep step: Int) -> Double {
        baseLearningRate * multiplier(atStep: step)
    }

    /// The schedule's factor at `step`: 0…1 (warmup), then 1 (constant) or decaying to 0 at `totalSteps`.
    public func multiplier(atStep step: Int) -> Double {
        let step = Double(step), warmup = Double(warmupSteps), total = Double(totalSteps)
        if type != .constant, step < warmup { return step / max(1, warmup) }
        switch type {
        case .constant, .constantWithWarmup:
            return 1
        case .linear:
            return max(0, (total - step) / max(1, total - warmup))
        case .cosine:
            let progress = (step - warmup) / max(1, total - warmup)
            return max(0, 0.5 * (1 + cos(Double.pi * progress)))
        }
    }
}
