import Foundation

/// One rule in a `RewardSet`, with its weight and the value it contributes when it throws.
public struct WeightedRule: Sendable {
    public var rule: any RewardRule
    public var weight: Double
    /// The value recorded for this rule when it throws on a completion (default 0).
    public var valueOnError: Double

    public init(_ rule: any RewardRule, weight: Double = 1, valueOnError: Double = 0) {
        self.rule = rule
        self.weight = weight
        self.valueOnError = valueOnError
    }

    public var name: String { rule.name }
}

/// The rewards of one completion: every rule's value, the weighted total, extracted answers and errors.
public struct ScoredCompletion: Sendable, Equatable {
    /// Rule name → value, in the order the rules were given.
    public var values: [(rule: String, value: Double)]
    /// Σ weight × value.
    public var total: Double
    /// Rule name → extracted answer (`nil`: the rule found none), for rules that extract answers.
    public var extracted: [(rule: String, answer: String?)]
    /// Rule name → error message, for rules that threw on this completion.
    public var errors: [(rule: String, message: String)]

    public func value(of rule: String) -> Double? { values.first(where: { $0.rule == rule })?.value }
    public func extracted(by rule: String) -> String?? {
        guard let entry = extracted.first(where: { $0.rule == rule }) else { return nil }
        return .some(entry.answer)
    }
    public func error(of rule: String) -> String? { errors.first(where: { $0.rule == rule })?.message }

    public static func == (lhs: ScoredCompletion, rhs: ScoredCompletion) -> Bool {
        lhs.total == rhs.total
            && lhs.values.map(\.rule) == rhs.values.map(\.rule) && lhs.values.map(\.value) == rhs.values.map(\.value)
            && lhs.extracted.map(\.rule) == rhs.extracted.map(\.rule) && lhs.extracted.map(\.answer) == rhs.extracted.map(\.answer)
            && lhs.errors.map(\.rule) == rhs.errors.map(\.rule) && lhs.errors.map(\.message) == rhs.errors.map(\.message)
    }
}

/// Per-rule counts over everything a `RewardSet` scored: how many completions, how many errors, mean value.
public struct RewardMetrics: Sendable, Equatable {
    public struct RuleMetrics: Sendable, Equatable {
        public var rule: String
        public var scored = 0
        public var errors = 0
        public var sum = 0.0
        /// The most recent error message, to show the user what went wrong.
        public var lastError: String?
        public var mean: Double { scored == 0 ? 0 : sum / Double(scored) }
    }

    public var rules: [RuleMetrics]
    public var completions = 0
    public var totalSum = 0.0
    public var meanTotal: Double { completions == 0 ? 0 : totalSum / Double(completions) }
    public var errorCount: Int { rules.reduce(0) { $0 + $1.errors } }

    public init(rules: [String]) {
        self.rules = rules.map { RuleMetrics(rule: $0) }
    }

    public mutating func record(_ scored: ScoredCompletion) {
        completions += 1
        totalSum += scored.total
        for i in rules.indices {
            let name = rules[i].rule
            if let v = scored.value(of: name) {
                rules[i].scored += 1
                rules[i].sum += v
            }
            if let message = scored.error(of: name) {
                rules[i].errors += 1
                rules[i].lastError = message
            }
        }
    }

    public subscript(rule: String) -> RuleMetrics? { rules.first(where: { $0.rule == rule }) }
}

/// Named rules with weights: scores every completion with every rule and forms the weighted total.
///
/// A rule that throws (or returns a non-finite value) gets its `valueOnError` for that completion, its
/// message is recorded in `ScoredCompletion.errors`, and it is counted in `metrics`: never swallowed,
/// never a crash of the run.
public struct RewardSet: Sendable {
    public let rules: [WeightedRule]
    public private(set) var metrics: RewardMetrics

    public init(_ rules: [WeightedRule]) throws {
        var seen = Set<String>()
        for entry in rules {
            guard seen.insert(entry.name).inserted else { throw RewardError.duplicateRule(entry.name) }
            guard entry.weight.isFinite else {
                throw RewardError.invalidRuleSpec("\(entry.name):\(entry.weight)", expected: "a finite weight")
            }
        }
        self.rules = rules
        self.metrics = RewardMetrics(rules: rules.map(\.name))
    }

    /// Scores one completion without touching the metrics.
    public func evaluate(_ completion: Completion, for sample: Sample) -> ScoredCompletion {
        var values: [(rule: String, value: Double)] = []
        var extracted: [(rule: String, answer: String?)] = []
        var errors: [(rule: String, message: String)] = []
        var total = 0.0
        values.reserveCapacity(rules.count)
        for entry in rules {
            var value: Double
            do {
                let outcome = try entry.rule.score(completion, for: sample)
                value = outcome.value
                if !value.isFinite { throw RewardError.nonFiniteValue(rule: entry.name, value: value) }
                if entry.rule.extractsAnswer { extracted.append((entry.name, outcome.extracted)) }
            } catch {
                value = entry.valueOnError
                errors.append((entry.name, String(describing: error)))
                if entry.rule.extractsAnswer { extracted.append((entry.name, nil)) }
            }
            values.append((entry.name, value))
            total += entry.weight * value
        }
        return ScoredCompletion(values: values, total: total, extracted: extracted, errors: errors)
    }

    /// Scores one completion and records it in the metrics.
    public mutating func score(_ completion: Completion, for sample: Sample) -> ScoredCompletion {
        let result = evaluate(completion, for: sample)
        metrics.record(result)
        return result
    }

    /// Scores completions against their samples (`completions[i]` answers `samples[i]`).
    public mutating func score(_ completions: [Completion], against samples: [Sample]) throws -> [ScoredCompletion] {
        guard completions.count == samples.count else {
            throw RewardError.countMismatch(completions: completions.count, samples: samples.count)
        }
        return zip(completions, samples).map { score($0, for: $1) }
    }

    public mutating func resetMetrics() {
        metrics = RewardMetrics(rules: rules.map(\.name))
    }
}
