import RewardSystem

/// `step_count`: rewards reasoning laid out in explicit steps — open-r1's `reasoning_steps_reward`.
///
/// Markers are the matches of open-r1's pattern `(Step \d+:|^\d+\.|\n-|\n\*|First,|Second,|Next,|Finally,)`
/// found left to right without overlap, as Python's `re.findall` does: `Step 3:` anywhere, a number and a
/// period at the very start of the text, a newline followed by `-` or `*`, and the four words.
/// Value = min(1, markers / `target`): three markers or more earn the full reward by default.
public struct StepCountRule: ConfigurableRule {
    public static let ruleName = "step_count"
    public static let summary = "min(1, step markers / target): open-r1's reasoning_steps_reward (Step N:, bullets, First/Second/Next/Finally)"
    public static let optionHelp: [RuleOptionHelp] = [
        RuleOptionHelp("target", default: "3", "number of markers that earns the full reward"),
    ]

    public var target: Int

    public init(options: RuleOptions) throws {
        target = try options.int("target", default: 3, range: 1...10_000)
    }

    public func score(_ completion: Completion, for sample: Sample) throws -> RewardOutcome {
        let steps = StepCountRule.countSteps(in: completion.text)
        return RewardOutcome(value: min(1.0, Double(steps) / Double(target)))
    }

    static let words: [[UInt8]] = ["First,", "Second,", "Next,", "Finally,"].map { Array($0.utf8) }
    static let stepLabel = Array("Step ".utf8)

    /// The number of non-overlapping marker matches, in one pass over the UTF-8 bytes.
    public static func countSteps(in text: String) -> Int {
        let bytes = Array(text.utf8)
        func isDigit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        func hasPrefix(_ word: [UInt8], at i: Int) -> Bool {
            guard i + word.count <= bytes.count else { return false }
            for k in 0..<word.count where bytes[i + k] != word[k] { return false }
            return true
        }
        /// The end of a marker starting at `i`, trying the alternatives in the pattern's order.
        func markerEnd(at i: Int) -> Int? {
            if hasPrefix(stepLabel, at: i) {
                var j = i + stepLabel.count
                while isDigit(j) { j += 1 }
                if j > i + stepLabel.count, j < bytes.count, bytes[j] == UInt8(ascii: ":") { return j + 1 }
            }
            if i == 0 {
                var j = 0
                while isDigit(j) { j += 1 }
                if j > 0, j < bytes.count, bytes[j] == UInt8(ascii: ".") { return j + 1 }
            }
            if bytes[i] == 0x0A, i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "-") || bytes[i + 1] == UInt8(ascii: "*") {
                return i + 2
            }
            for word in words where hasPrefix(word, at: i) { return i + word.count }
            return nil
        }
        var count = 0
        var i = 0
        while i < bytes.count {
            if let end = markerEnd(at: i) {
                count += 1
                i = end
            } else {
                i += 1
            }
        }
        return count
    }
}
