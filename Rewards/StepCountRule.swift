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

    static let phrases: [[UInt8]] = ["First,", "Second,", "Next,", "Finally,"].map { Array($0.utf8) }
    static let stepLabel = Array("Step ".utf8)

    /// Counts step markers in one pass over the UTF-8 bytes.
    public static func countSteps(in text: String) -> Int {
        let bytes = Array(text.utf8)
        func isDigit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        func matches(_ word: [UInt8], at i: Int) -> Bool {
            guard i + word.count <= bytes.count else { return false }
            for k in 0..<word.count where bytes[i + k] != word[k] { return false }
            return true
        }
        var count = 0
        var lineStart = true
        var i = 0
        while i < bytes.count {
            if lineStart {
                // `1.` / `12.` or a bullet `- ` / `* ` at the start of a line.
                var j = i
                while isDigit(j) { j += 1 }
                if j > i, j < bytes.count, bytes[j] == UInt8(ascii: ".") {
                    count += 1
                } else if i + 1 < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "*"),
                          bytes[i + 1] == UInt8(ascii: " ") {
                    count += 1
                }
            }
            if matches(stepLabel, at: i) {
                var j = i + stepLabel.count
                let digitsStart = j
                while isDigit(j) { j += 1 }
                if j > digitsStart, j < bytes.count, bytes[j] == UInt8(ascii: ":") { count += 1 }
            }
            for phrase in phrases where matches(phrase, at: i) { count += 1 }
            lineStart = bytes[i] == 0x0A
            i += 1
        }
        return count
    }
}
