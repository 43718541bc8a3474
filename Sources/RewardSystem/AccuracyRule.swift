import Foundation

/// Shared answer-checking settings of `accuracy` and `length`: extraction mode, `think`, tolerance.
public struct AnswerChecker: Sendable {
    public var extraction: AnswerExtraction.Mode
    /// Grade only the text after the last `</think>` (no `</think>` → no answer).
    public var thinkOnly: Bool
    public var equivalence: MathEquivalence

    public init(extraction: AnswerExtraction.Mode = .boxed, thinkOnly: Bool = false, relativeTolerance: Double = 1e-6) {
        self.extraction = extraction
        self.thinkOnly = thinkOnly
        self.equivalence = MathEquivalence(relativeTolerance: relativeTolerance)
    }

    init(options: RuleOptions) throws {
        let mode = try options.choice("extraction", from: AnswerExtraction.Mode.allCases.map(\.rawValue), default: "boxed")
        self.init(extraction: AnswerExtraction.Mode(rawValue: mode) ?? .boxed,
                  thinkOnly: try options.bool("think", default: false),
                  relativeTolerance: try options.double("tolerance", default: 1e-6, range: 0...1))
    }

    static let optionHelp: [RuleOptionHelp] = [
        RuleOptionHelp("extraction", default: "boxed",
                       "boxed: the last \\boxed{}/\\fbox{} only; boxed_or_fallback: without a box, \"final answer is …\", then the last math span ($…$, \\(…\\), \\[…\\]), then the last number; answer_tag: the last <answer>…</answer> block (R1-Zero's template)"),
        RuleOptionHelp("think", default: "false", "grade only the text after the last </think> (none → no answer, reward 0)"),
        RuleOptionHelp("tolerance", default: "1e-6", "relative tolerance for numbers that are not both exact"),
    ]

    /// The extracted answer (nil: none) and whether it matches the gold.
    public func check(_ text: String, gold: String) -> (answer: String?, correct: Bool) {
        var graded = text
        if thinkOnly {
            guard let after = AnswerExtraction.afterThinking(text) else { return (nil, false) }
            graded = after
        }
        guard let answer = AnswerExtraction.answer(in: graded, mode: extraction) else { return (nil, false) }
        return (answer, equivalence.matchesGold(answer, gold: gold))
    }

    static func gold(of sample: Sample, rule: String) throws -> String {
        guard let gold = sample.answer else {
            throw RewardError.missingField(rule: rule, field: "answer", expected: "the gold answer")
        }
        return gold
    }
}

/// `accuracy`: 1 when the extracted answer is equivalent to the gold answer, else 0.
public struct AccuracyRule: ConfigurableRule {
    public static let ruleName = "accuracy"
    public static let summary = "1 if the answer (last \\boxed{}, or the last <answer> block with extraction: answer_tag) is mathematically equivalent to the gold answer, else 0"
    public static let optionHelp = AnswerChecker.optionHelp

    public var checker: AnswerChecker
    public var extractsAnswer: Bool { true }

    public init(checker: AnswerChecker = AnswerChecker()) {
        self.checker = checker
    }

    public init(options: RuleOptions) throws {
        self.checker = try AnswerChecker(options: options)
    }

    public func score(_ completion: Completion, for sample: Sample) throws -> RewardOutcome {
        let gold = try AnswerChecker.gold(of: sample, rule: name)
        let (answer, correct) = checker.check(completion.text, gold: gold)
        return RewardOutcome(value: correct ? 1 : 0, extracted: answer)
    }
}

/// `length`: cosine-scaled length reward ("Demystifying Long Chain-of-Thought Reasoning", open-r1's
/// `cosine_scaled`): correct answers earn more when short, wrong answers are penalized less when long.
public struct CosineLengthRule: ConfigurableRule {
    public static let ruleName = "length"
    public static let summary = "cosine-scaled length reward by correctness (open-r1 cosine_scaled): short+correct → max_value_correct, short+wrong → min_value_wrong"
    public static let optionHelp: [RuleOptionHelp] = [
        RuleOptionHelp("min_value_wrong", default: "-1.0", "reward of a wrong answer of length 0"),
        RuleOptionHelp("max_value_wrong", default: "-0.5", "reward of a wrong answer of length max_len"),
        RuleOptionHelp("min_value_correct", default: "0.5", "reward of a correct answer of length max_len"),
        RuleOptionHelp("max_value_correct", default: "1.0", "reward of a correct answer of length 0"),
        RuleOptionHelp("max_len", default: "1000", "length at which the cosine reaches its end (longer is clamped)"),
        RuleOptionHelp("unit", default: "characters", "characters (open-r1) or tokens (the completion's token count)"),
    ] + AnswerChecker.optionHelp

    public var minValueWrong: Double, maxValueWrong: Double
    public var minValueCorrect: Double, maxValueCorrect: Double
    public var maxLength: Int
    public var countTokens: Bool
    public var checker: AnswerChecker
    public var extractsAnswer: Bool { true }

    public init(options: RuleOptions) throws {
        minValueWrong = try options.double("min_value_wrong", default: -1.0)
        maxValueWrong = try options.double("max_value_wrong", default: -0.5)
        minValueCorrect = try options.double("min_value_correct", default: 0.5)
        maxValueCorrect = try options.double("max_value_correct", default: 1.0)
        maxLength = try options.int("max_len", default: 1000, range: 1...Int(Int32.max))
        countTokens = try options.choice("unit", from: ["characters", "tokens"], default: "characters") == "tokens"
        checker = try AnswerChecker(options: options)
    }

    public func score(_ completion: Completion, for sample: Sample) throws -> RewardOutcome {
        let gold = try AnswerChecker.gold(of: sample, rule: name)
        let (answer, correct) = checker.check(completion.text, gold: gold)
        let length: Int
        if countTokens {
            guard let tokens = completion.tokenCount else {
                throw RewardError.missingField(rule: name, field: "token_count", expected: "the completion's token count (unit: tokens)")
            }
            length = tokens
        } else {
            length = completion.text.unicodeScalars.count  // Python len(): code points
        }
        let progress = min(1.0, Double(length) / Double(maxLength))
        let cosine = cos(progress * Double.pi)
        // Correct: max_value_correct at length 0 → min_value_correct at max_len.
        // Wrong: min_value_wrong at length 0 → max_value_wrong at max_len (long wrong answers penalized less).
        let (atEnd, atStart) = correct ? (minValueCorrect, maxValueCorrect) : (maxValueWrong, minValueWrong)
        let value = atEnd + 0.5 * (atStart - atEnd) * (1.0 + cosine)
        return RewardOutcome(value: value, extracted: answer)
    }
}
