import Foundation

/// How rewards become advantages within each prompt's group of completions.
public enum AdvantageNormalization: String, CaseIterable, Codable, Sendable {
    /// (r − group mean) / (group std + ε): GRPO (DeepSeekMath), TRL's `scale_rewards: group`.
    case group
    /// r − group mean, not scaled: Dr. GRPO, TRL's `scale_rewards: none`.
    case none
    /// (r − group mean) / (std over the whole batch + ε): TRL's `scale_rewards: batch`.
    case batch
    /// r − mean of the other completions of the group: RLOO. Not scaled.
    case leaveOneOut = "leave_one_out"
}

/// The advantages of one step's completions, with what was learned about their groups on the way.
public struct GroupAdvantages: Equatable, Sendable {
    /// One advantage per completion, in the order of the rewards.
    public var values: [Float]
    public var groupMeans: [Double]
    /// Sample standard deviation (Bessel-corrected, as TRL) of each group; 0 for a group of one.
    public var groupStandardDeviations: [Double]
    /// True for each group whose rewards are all equal: its completions get advantage 0 and teach nothing.
    public var isZeroVariance: [Bool]
    public var zeroVarianceGroups: Int { isZeroVariance.filter { $0 }.count }
}

public enum AdvantageError: Error, CustomStringConvertible, Equatable {
    case invalidGroupSize(groupSize: Int, completions: Int)
    case nonFiniteReward(index: Int, value: Double)

    public var description: String {
        switch self {
        case .invalidGroupSize(let size, let count):
            return "group size must be positive and divide the number of completions (\(count)), got \(size)"
        case .nonFiniteReward(let index, let value):
            return "reward of completion \(index) is \(value); advantages need finite rewards"
        }
    }
}

public enum Advantages {
    /// TRL's ε: keeps the division finite for groups whose rewards barely differ.
    public static let defaultEpsilon = 1e-4

    /// Group-relative advantages of `rewards`, where completions `g·groupSize ..< (g+1)·groupSize`
    /// answer the same prompt.
    public static func groupRelative(rewards: [Double], groupSize: Int, normalization: AdvantageNormalization = .group,
                                     epsilon: Double = defaultEpsilon) throws -> GroupAdvantages {
        guard groupSize > 0, rewards.count % groupSize == 0 else {
            throw AdvantageError.invalidGroupSize(groupSize: groupSize, completions: rewards.count)
        }
        if let index = rewards.firstIndex(where: { !$0.isFinite }) {
            throw AdvantageError.nonFiniteReward(index: index, value: rewards[index])
        }
        let groups = stride(from: 0, to: rewards.count, by: groupSize).map { Array(rewards[$0..<($0 + groupSize)]) }
        let means = groups.map(mean)
        let deviations = groups.map(sampleStandardDeviation)
        let batchDeviation = sampleStandardDeviation(rewards)

        let isZeroVariance = groups.map { group in group.allSatisfy { $0 == group[0] } }
        var values: [Float] = []
        values.reserveCapacity(rewards.count)
        for (group, members) in groups.enumerated() {
            let groupMean = means[group]
            for reward in members {
                // Exactly 0, not the rounding error of (r − mean) / ε.
                if isZeroVariance[group] {
                    values.append(0)
                    continue
                }
                let advantage: Double
                switch normalization {
                case .group: advantage = (reward - groupMean) / (deviations[group] + epsilon)
                case .none: advantage = reward - groupMean
                case .batch: advantage = (reward - groupMean) / (batchDeviation + epsilon)
                case .leaveOneOut:
                    // r − (sum − r)/(G − 1) = G/(G − 1)·(r − mean); a lone completion has no baseline.
                    advantage = groupSize > 1 ? Double(groupSize) / Double(groupSize - 1) * (reward - groupMean) : 0
                }
                values.append(Float(advantage))
            }
        }
        return GroupAdvantages(values: values, groupMeans: means, groupStandardDeviations: deviations,
                               isZeroVariance: isZeroVariance)
    }

    static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }

    static func sampleStandardDeviation(_ values: [Double]) -> Double {
        guard values.count > 1 else { return 0 }
        let center = mean(values)
        let squares = values.reduce(0) { $0 + ($1 - center) * ($1 - center) }
        return (squares / Double(values.count - 1)).squareRoot()
    }
}
