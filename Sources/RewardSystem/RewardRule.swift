import Foundation

/// One sampled completion, as a reward rule sees it.
public struct Completion: Sendable, Equatable {
    /// The generated text (the completion only, not the prompt).
    public var text: String
    /// Number of generated tokens, when known (always known during training; optional for `grpo score`).
    public var tokenCount: Int?
    /// True when generation stopped because it reached the length limit rather than EOS or a stop string.
    public var truncated: Bool

    public init(text: String, tokenCount: Int? = nil, truncated: Bool = false) {
        self.text = text
        self.tokenCount = tokenCount
        self.truncated = truncated
    }
}

/// The task item a completion answers: its prompt, gold answer and whatever else the task carries.
public struct Sample: Sendable, Equatable {
    public var prompt: String
    /// The gold answer, if the task has one: bare (`\frac{3}{4}`), `$`-delimited, a full solution whose last
    /// `\boxed{}` holds it, or GSM8K's `#### 18`.
    public var answer: String?
    /// Task fields such as `numbers` and `target` (countdown); any JSON value.
    public var metadata: [String: JSONValue]

    public init(prompt: String = "", answer: String? = nil, metadata: [String: JSONValue] = [:]) {
        self.prompt = prompt
        self.answer = answer
        self.metadata = metadata
    }
}

/// What a rule returns for one completion.
public struct RewardOutcome: Sendable, Equatable {
    public var value: Double
    /// The answer the rule extracted from the completion, for rules that extract one (`nil`: none found).
    public var extracted: String?

    public init(value: Double, extracted: String? = nil) {
        self.value = value
        self.extracted = extracted
    }
}

/// A reward rule: a pure function of a completion and its sample.
///
/// Throw (for example `RewardError.missingField`) when the rule cannot score this completion; the
/// `RewardSet` records the error for that completion and counts it in the metrics.
public protocol RewardRule: Sendable {
    /// The name the rule is registered under and reported as (`accuracy`, `format`, …).
    var name: String { get }
    /// True when the rule extracts an answer from the completion (reported in `extracted`).
    var extractsAnswer: Bool { get }
    func score(_ completion: Completion, for sample: Sample) throws -> RewardOutcome
}

extension RewardRule {
    public var extractsAnswer: Bool { false }
}

/// A rule that can be made by name from options (YAML, `grpo score --option`).
///
/// Conform your rule type to this protocol and list it in the registry (for user rules:
/// `UserRewards.rules` in `Rewards/UserRewards.swift`).
public protocol ConfigurableRule: RewardRule {
    /// The name used in YAML and on the command line.
    static var ruleName: String { get }
    /// One line for `grpo score --list-rules`.
    static var summary: String { get }
    /// The options the rule accepts: key, default and meaning.
    static var optionHelp: [RuleOptionHelp] { get }
    /// Builds the rule; throw `RewardError.invalidOption` for a bad value. Unknown keys are rejected
    /// by the registry before this is called.
    init(options: RuleOptions) throws
}

extension ConfigurableRule {
    public var name: String { Self.ruleName }
}

/// Documentation of one option of a rule.
public struct RuleOptionHelp: Sendable, Equatable {
    public var key: String
    public var defaultValue: String
    public var meaning: String

    public init(_ key: String, default defaultValue: String, _ meaning: String) {
        self.key = key
        self.defaultValue = defaultValue
        self.meaning = meaning
    }
}

/// Errors of the reward system. Every message says what was wrong, where, and what was expected.
public enum RewardError: Error, CustomStringConvertible, Equatable {
    case unknownRule(String, known: [String])
    case duplicateRule(String)
    case unknownOption(rule: String, key: String, known: [String])
    case invalidOption(rule: String, key: String, value: String, expected: String)
    case missingField(rule: String, field: String, expected: String)
    case invalidField(rule: String, field: String, expected: String)
    case nonFiniteValue(rule: String, value: Double)
    case invalidRuleSpec(String, expected: String)
    case countMismatch(completions: Int, samples: Int)

    public var description: String {
        switch self {
        case .unknownRule(let name, let known):
            return "unknown reward rule '\(name)'; known rules: \(known.joined(separator: ", "))"
        case .duplicateRule(let name):
            return "reward rule '\(name)' is listed twice; each rule may appear once"
        case .unknownOption(let rule, let key, let known):
            let list = known.isEmpty ? "it takes no options" : "its options are \(known.joined(separator: ", "))"
            return "rule '\(rule)' has no option '\(key)'; \(list)"
        case .invalidOption(let rule, let key, let value, let expected):
            return "option \(rule).\(key) = '\(value)' is invalid: expected \(expected)"
        case .missingField(let rule, let field, let expected):
            return "rule '\(rule)' needs the sample field '\(field)' (\(expected)), which is missing"
        case .invalidField(let rule, let field, let expected):
            return "rule '\(rule)': sample field '\(field)' is invalid: expected \(expected)"
        case .nonFiniteValue(let rule, let value):
            return "rule '\(rule)' returned a non-finite value (\(value))"
        case .invalidRuleSpec(let spec, let expected):
            return "invalid rule '\(spec)': expected \(expected)"
        case .countMismatch(let completions, let samples):
            return "\(completions) completions but \(samples) samples: expected one sample per completion"
        }
    }
}

/// The options given to one rule, as strings (YAML scalars and `--option` values), with typed accessors
/// that throw a precise error for a bad value.
public struct RuleOptions: Sendable, Equatable {
    public let rule: String
    public private(set) var values: [String: String]

    public init(rule: String, _ values: [String: String] = [:]) {
        self.rule = rule
        self.values = values
    }

    public subscript(key: String) -> String? {
        get { values[key] }
        set { values[key] = newValue }
    }

    public func string(_ key: String, default defaultValue: String) -> String {
        values[key] ?? defaultValue
    }

    public func choice(_ key: String, from allowed: [String], default defaultValue: String) throws -> String {
        guard let raw = values[key] else { return defaultValue }
        let value = raw.trimmingCharacters(in: .whitespaces).lowercased()
        guard allowed.contains(value) else {
            throw RewardError.invalidOption(rule: rule, key: key, value: raw,
                                            expected: "one of \(allowed.joined(separator: ", "))")
        }
        return value
    }

    public func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard let raw = values[key] else { return defaultValue }
        switch raw.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "1", "on": return true
        case "false", "no", "0", "off": return false
        default: throw RewardError.invalidOption(rule: rule, key: key, value: raw, expected: "true or false")
        }
    }

    public func double(_ key: String, default defaultValue: Double,
                       range: ClosedRange<Double> = -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude) throws -> Double {
        guard let raw = values[key] else { return defaultValue }
        guard let value = Double(raw.trimmingCharacters(in: .whitespaces)), value.isFinite, range.contains(value) else {
            let unbounded = range.lowerBound == -Double.greatestFiniteMagnitude && range.upperBound == Double.greatestFiniteMagnitude
            throw RewardError.invalidOption(rule: rule, key: key, value: raw,
                                            expected: unbounded ? "a finite number" : "a number in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    public func int(_ key: String, default defaultValue: Int, range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        guard let raw = values[key] else { return defaultValue }
        guard let value = Int(raw.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            let unbounded = range.lowerBound == Int.min && range.upperBound == Int.max
            throw RewardError.invalidOption(rule: rule, key: key, value: raw,
                                            expected: unbounded ? "an integer" : "an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }
}
