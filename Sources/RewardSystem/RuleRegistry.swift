import Foundation

/// Rules by name, so that YAML and `grpo score` can name rules and their options.
///
/// ```swift
/// var registry = RuleRegistry.builtIn
/// try registry.register(contentsOf: UserRewards.rules)
/// let rules = try registry.makeRewardSet([
///     RuleSpec(name: "accuracy", weight: 1, options: ["extraction": "boxed_or_fallback"]),
///     RuleSpec(name: "format", weight: 0.2),
/// ])
/// ```
public struct RuleRegistry: Sendable {
    /// The option every rule accepts: the value recorded when the rule throws on a completion.
    public static let onErrorOption = "on_error"

    public private(set) var ruleTypes: [any ConfigurableRule.Type] = []

    public init() {}

    public init(_ types: [any ConfigurableRule.Type]) throws {
        try register(contentsOf: types)
    }

    /// Every built-in rule.
    public static let builtInRules: [any ConfigurableRule.Type] = [
        AccuracyRule.self, FormatRule.self, TagCountRule.self, ThinkFormatRule.self,
        CountdownRule.self, CosineLengthRule.self, RepetitionRule.self, OverlongRule.self,
    ]

    public static var builtIn: RuleRegistry {
        var registry = RuleRegistry()
        registry.ruleTypes = builtInRules
        return registry
    }

    public mutating func register(_ type: any ConfigurableRule.Type) throws {
        guard !ruleTypes.contains(where: { $0.ruleName == type.ruleName }) else {
            throw RewardError.duplicateRule(type.ruleName)
        }
        ruleTypes.append(type)
    }

    public mutating func register(contentsOf types: [any ConfigurableRule.Type]) throws {
        for type in types { try register(type) }
    }

    public var names: [String] { ruleTypes.map { $0.ruleName } }

    public func type(named name: String) -> (any ConfigurableRule.Type)? {
        ruleTypes.first(where: { $0.ruleName == name })
    }

    /// Makes one rule; rejects unknown option keys with the list of the rule's options.
    public func makeRule(named name: String, options: [String: String] = [:]) throws -> any RewardRule {
        guard let type = type(named: name) else { throw RewardError.unknownRule(name, known: names) }
        let known = type.optionHelp.map(\.key)
        for key in options.keys.sorted() where !known.contains(key) && key != RuleRegistry.onErrorOption {
            throw RewardError.unknownOption(rule: name, key: key, known: known + [RuleRegistry.onErrorOption])
        }
        var ruleOptions = RuleOptions(rule: name, options)
        ruleOptions[RuleRegistry.onErrorOption] = nil
        return try type.init(options: ruleOptions)
    }

    /// Makes a weighted rule set from specs (the `on_error` option sets the value recorded on errors).
    public func makeRewardSet(_ specs: [RuleSpec]) throws -> RewardSet {
        var entries: [WeightedRule] = []
        for spec in specs {
            let rule = try makeRule(named: spec.name, options: spec.options)
            let onError = try RuleOptions(rule: spec.name, spec.options).double(RuleRegistry.onErrorOption, default: 0)
            entries.append(WeightedRule(rule, weight: spec.weight, valueOnError: onError))
        }
        return try RewardSet(entries)
    }
}

/// A rule named with its weight and options, as YAML or the command line gives it.
public struct RuleSpec: Sendable, Equatable {
    public var name: String
    public var weight: Double
    public var options: [String: String]

    public init(name: String, weight: Double = 1, options: [String: String] = [:]) {
        self.name = name
        self.weight = weight
        self.options = options
    }

    /// Parses `NAME` or `NAME:WEIGHT` (weight a finite number, default 1).
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0]).trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw RewardError.invalidRuleSpec(text, expected: "NAME or NAME:WEIGHT") }
        var weight = 1.0
        if parts.count == 2 {
            let raw = parts[1].trimmingCharacters(in: .whitespaces)
            guard let w = Double(raw), w.isFinite else {
                throw RewardError.invalidRuleSpec(text, expected: "NAME:WEIGHT with a finite number as WEIGHT, e.g. accuracy:0.5")
            }
            weight = w
        }
        self.init(name: name, weight: weight)
    }
}

extension RuleRegistry {
    /// A human-readable list of the rules and their options (for `grpo score --list-rules`).
    public func helpText() -> String {
        var lines: [String] = []
        for type in ruleTypes {
            lines.append("\(type.ruleName): \(type.summary)")
            for option in type.optionHelp {
                lines.append("    \(type.ruleName).\(option.key) (default \(option.defaultValue)): \(option.meaning)")
            }
            lines.append("    \(type.ruleName).\(RuleRegistry.onErrorOption) (default 0): value recorded when the rule fails on a completion")
        }
        return lines.joined(separator: "\n")
    }
}
