import Foundation

/// `countdown` (TinyZero's countdown scorer): the last `<answer>…</answer>` block holds an equation of
/// integers with `+ - * /` and parentheses; each given number used exactly once; its value within 1e-5 of
/// the target → 1.0. Present but wrong, malformed or using other numbers → `format_score`; no answer → 0.
///
/// The equation is parsed by a small arithmetic parser, never evaluated as code.
public struct CountdownRule: ConfigurableRule {
    public static let ruleName = "countdown"
    public static let summary = "TinyZero countdown: equation in the last <answer> block uses each of `numbers` once and equals `target` → 1, present but wrong → format_score, none → 0"
    public static let optionHelp: [RuleOptionHelp] = [
        RuleOptionHelp("format_score", default: "0.1", "reward of an answer that is present but wrong, malformed or uses other numbers"),
        RuleOptionHelp("score", default: "1.0", "reward of a correct equation"),
    ]

    public var formatScore: Double
    public var correctScore: Double
    public var extractsAnswer: Bool { true }

    public init(formatScore: Double = 0.1, correctScore: Double = 1.0) {
        self.formatScore = formatScore
        self.correctScore = correctScore
    }

    public init(options: RuleOptions) throws {
        formatScore = try options.double("format_score", default: 0.1)
        correctScore = try options.double("score", default: 1.0)
    }

    public func score(_ completion: Completion, for sample: Sample) throws -> RewardOutcome {
        let (numbers, target) = try taskFields(sample)
        guard let equation = CountdownRule.lastAnswerBlock(completion.text) else { return RewardOutcome(value: 0) }
        let extracted = equation.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let used = CountdownRule.integers(in: equation), used.sorted() == numbers.sorted(),
              let value = CountdownRule.evaluate(equation) else {
            return RewardOutcome(value: formatScore, extracted: extracted)
        }
        return RewardOutcome(value: abs(value - target) < 1e-5 ? correctScore : formatScore, extracted: extracted)
    }

    func taskFields(_ sample: Sample) throws -> ([Int], Double) {
        guard let numbersValue = sample.metadata["numbers"] else {
            throw RewardError.missingField(rule: name, field: "numbers", expected: "an array of integers")
        }
        guard let items = numbersValue.arrayValue else {
            throw RewardError.invalidField(rule: name, field: "numbers", expected: "an array of integers, got \(numbersValue.serialized())")
        }
        var numbers: [Int] = []
        for item in items {
            guard let n = item.intValue else {
                throw RewardError.invalidField(rule: name, field: "numbers", expected: "integers only, got \(item.serialized())")
            }
            numbers.append(n)
        }
        guard let targetValue = sample.metadata["target"] else {
            throw RewardError.missingField(rule: name, field: "target", expected: "a number")
        }
        guard let target = targetValue.doubleValue, target.isFinite else {
            throw RewardError.invalidField(rule: name, field: "target", expected: "a number, got \(targetValue.serialized())")
        }
        return (numbers, target)
    }

    /// The content of the last `<answer>…</answer>` match, scanning left to right as a lazy regex does
    /// (newlines allowed inside).
    public static func lastAnswerBlock(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        let open = Array("<answer>".utf8), close = Array("</answer>".utf8)
        var last: (Int, Int)? = nil
        var from = 0
        while let o = ByteSearch.firstIndex(of: open, in: bytes, from: from),
              let c = ByteSearch.firstIndex(of: close, in: bytes, from: o + open.count) {
            last = (o + open.count, c)
            from = c + close.count
        }
        guard let (s, e) = last else { return nil }
        return String(decoding: bytes[s..<e], as: UTF8.self)
    }

    /// Every maximal run of digits in the equation, as TinyZero's `re.findall(r'\d+')` (nil if one overflows).
    static func integers(in equation: String) -> [Int]? {
        var result: [Int] = []
        var current: Int? = nil
        for b in equation.utf8 {
            if b >= 0x30 && b <= 0x39 {
                let (m, o1) = (current ?? 0).multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int(b - 0x30))
                if o1 || o2 { return nil }
                current = a
            } else if let c = current {
                result.append(c)
                current = nil
            }
        }
        if let c = current { result.append(c) }
        return result
    }

    /// Evaluates an equation of non-negative integer literals, `+ - * /`, unary signs and parentheses (and
    /// whitespace) in Double arithmetic, as Python does. nil for anything else, division by zero, or a
    /// literal with a leading zero (a syntax error in Python).
    public static func evaluate(_ equation: String) -> Double? {
        var parser = ArithmeticParser(bytes: Array(equation.utf8))
        guard let value = parser.parseExpression() else { return nil }
        parser.skipSpaces()
        guard parser.index == parser.bytes.count, value.isFinite else { return nil }
        return value
    }
}

struct ArithmeticParser {
    let bytes: [UInt8]
    var index = 0
    var depth = 0

    mutating func skipSpaces() {
        while index < bytes.count, AnswerExtraction.isSpace(bytes[index]) { index += 1 }
    }

    mutating func peek() -> UInt8? {
        skipSpaces()
        return index < bytes.count ? bytes[index] : nil
    }

    mutating func parseExpression() -> Double? {
        depth += 1
        defer { depth -= 1 }
        guard depth < 200, var left = parseTerm() else { return nil }
        while let op = peek(), op == UInt8(ascii: "+") || op == UInt8(ascii: "-") {
            index += 1
            guard let right = parseTerm() else { return nil }
            left = op == UInt8(ascii: "+") ? left + right : left - right
        }
        return left
    }

    mutating func parseTerm() -> Double? {
        guard var left = parseUnary() else { return nil }
        while let op = peek(), op == UInt8(ascii: "*") || op == UInt8(ascii: "/") {
            index += 1
            // `**` (power) and `//` (floor division) are Python operators outside the allowed set.
            if index < bytes.count, bytes[index] == op { return nil }
            guard let right = parseUnary() else { return nil }
            if op == UInt8(ascii: "*") { left *= right } else {
                guard right != 0 else { return nil }
                left /= right
            }
        }
        return left
    }

    mutating func parseUnary() -> Double? {
        guard let c = peek() else { return nil }
        if c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
            index += 1
            depth += 1
            defer { depth -= 1 }
            guard depth < 200, let v = parseUnary() else { return nil }
            return c == UInt8(ascii: "-") ? -v : v
        }
        return parsePrimary()
    }

    mutating func parsePrimary() -> Double? {
        guard let c = peek() else { return nil }
        if c == UInt8(ascii: "(") {
            index += 1
            guard let v = parseExpression(), peek() == UInt8(ascii: ")") else { return nil }
            index += 1
            return v
        }
        guard c >= 0x30 && c <= 0x39 else { return nil }
        let start = index
        var value = 0.0
        while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
            value = value * 10 + Double(bytes[index] - 0x30)
            index += 1
        }
        // Python rejects `05` (but accepts `0` and `00`).
        if bytes[start] == 0x30, index - start > 1, bytes[start..<index].contains(where: { $0 != 0x30 }) { return nil }
        return value
    }
}
