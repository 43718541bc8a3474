import RewardSystem

/// `step_count`: rewards reasoning laid out in explicit steps (open-r1's `reasoning_steps_reward`).
///
/// A step marker is `Step N:` anywhere, a numbered line (`1.` at the start of a line), a bullet line
/// (`- ` or `* ` at the start of a line), or one of `First,` `Second,` `Next,` `Finally,`.
/// Value = min(1, markers / `target`): three steps or more earn the full reward by default.
public struct StepCountRule: ConfigurableRule {
    public static let ruleName = "step_count"
    public static let summary = "min(1, step markers / target): rewards reasoning written as explicit steps (open-r1 reasoning_steps)"
    public static let optionHelp: [RuleOptionHelp] = [
        RuleOptionHelp("target", default: "3", "number of steps that earns the full reward"),
    ]

    public var target: Int

    public init(options: RuleOptions) throws {
        target = try options.int("target", default: 3, range: 1...10_000)
    }

    public func score(_ completion: Completion, for sample: Sample) throws -> RewardOutcome {
        let steps = StepCountRule.countSteps(in: completion.text)
        return RewardOutcome(value: min(1.0, Double(steps) / Double(target)))
    }

    static let phrases = ["First,", "Second,", "Next,", "Finally,"]

    /// Counts step markers line by line (linear in the text length).
    public static func countSteps(in text: String) -> Int {
        var count = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            // `1.` / `12.` at the start of a line.
            let digits = line.prefix(while: { $0.isASCII && $0.isNumber })
            if !digits.isEmpty, line.dropFirst(digits.count).first == "." {
                count += 1
            } else if line.hasPrefix("- ") || line.hasPrefix("* ") {
                count += 1
            }
            count += occurrences(ofStepLabelIn: line)
            for phrase in phrases { count += line.components(separatedBy: phrase).count - 1 }
        }
        return count
    }

    /// `Step N:` occurrences in one line.
    static func occurrences(ofStepLabelIn line: Substring) -> Int {
        var count = 0
        var rest = line
        while let r = rest.range(of: "Step ") {
            let after = rest[r.upperBound...]
            let digits = after.prefix(while: { $0.isASCII && $0.isNumber })
            if !digits.isEmpty, after.dropFirst(digits.count).first == ":" { count += 1 }
            rest = after
        }
        return count
    }
}
