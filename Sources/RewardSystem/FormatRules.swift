import Foundation

/// `format`: `<think>…</think>` then `<answer>…</answer>`, and nothing else.
///
/// - strict (default; open-r1's current `format_reward`, the regex
///   `^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$` with DOTALL|MULTILINE, applied with `re.match`):
///   the text starts with `<think>\n`, has `\n</think>\n<answer>\n` after it, then `\n</answer>` followed by
///   the end of the text or a newline (MULTILINE `$`).
/// - lenient (`strict: false`): `^\s*<think>.*?</think>\s*<answer>.*?</answer>\s*$` with DOTALL: whitespace
///   may surround the blocks; nothing else may stand outside them.
public struct FormatRule: ConfigurableRule {
    public static let ruleName = "format"
    public static let summary = "1 if the completion is <think>…</think> then <answer>…</answer> (open-r1's pattern), else 0"
    public static let optionHelp: [RuleOptionHelp] = [
        RuleOptionHelp("strict", default: "true",
                       "true: open-r1's pattern with the newlines (<think>\\n…\\n</think>\\n<answer>\\n…\\n</answer>); false: any whitespace between and around the blocks"),
    ]

    public var strict: Bool

    public init(strict: Bool = true) { self.strict = strict }

    public init(options: RuleOptions) throws {
        strict = try options.bool("strict", default: true)
    }

    public func score(_ completion: Completion, for sample: Sample) throws -> RewardOutcome {
        let ok = strict ? FormatRule.matchesStrict(completion.text) : FormatRule.matchesLenient(completion.text)
        return RewardOutcome(value: ok ? 1 : 0)
    }

    public static func matchesStrict(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        let open = Array("<think>\n".utf8)
        let middle = Array("\n</think>\n<answer>\n".utf8)
        let close = Array("\n</answer>".utf8)
        guard bytes.starts(with: open) else { return false }
        // The earliest middle delimiter leaves the most room for the closing one.
        guard let m = ByteSearch.firstIndex(of: middle, in: bytes, from: open.count) else { return false }
        var from = m + middle.count
        while let c = ByteSearch.firstIndex(of: close, in: bytes, from: from) {
            let end = c + close.count
            if end == bytes.count || bytes[end] == 0x0A { return true }
            from = c + 1
        }
        return false
    }

    /// Python's `\s` on ASCII: space, \t \n \v \f \r and \x1c–\x1f.
    static func isRegexSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) || (b >= 0x1C && b <= 0x1F) }

    public static func matchesLenient(_ text: String) -> Bool {
        var bytes = Array(text.utf8)[...]
        while let f = bytes.first, isRegexSpace(f) { bytes = bytes.dropFirst() }
        while let l = bytes.last, isRegexSpace(l) { bytes = bytes.dropLast() }
        let body = Array(bytes)
        let open = Array("<think>".utf8), thinkClose = Array("</think>".utf8)
        let answerOpen = Array("<answer>".utf8), answerClose = Array("</answer>".utf8)
        guard body.starts(with: open), body.count >= open.count + answerClose.count,
              Array(body[(body.count - answerClose.count)...]) == answerClose else { return false }
        let limit = body.count - answerClose.count
        // The first `</think>` that is followed (after whitespace) by `<answer>` ending before the final `</answer>`.
        var from = open.count
        while let t = ByteSearch.firstIndex(of: thinkClose, in: body, from: from) {
            var k = t + thinkClose.count
            while k < body.count, isRegexSpace(body[k]) { k += 1 }
            if k + answerOpen.count <= limit, Array(body[k..<(k + answerOpen.count)]) == answerOpen { return true }
            from = t + 1
        }
        return false
    }
}

/// `tag_count` (open-r1's `tag_count_reward`): 0.25 for each of `<think>\n`, `\n</think>\n`, `\n<answer>\n`,
/// `\n</answer>` present exactly once (non-overlapping count, as Python's `str.count`).
public struct TagCountRule: ConfigurableRule {
    public static let ruleName = "tag_count"
    public static let summary = "0.25 for each of <think>\\n, \\n</think>\\n, \\n<answer>\\n, \\n</answer> appearing exactly once (open-r1)"
    public static let optionHelp: [RuleOptionHelp] = []

    public init() {}
    public init(options: RuleOptions) throws {}

    public func score(_ completion: Completion, for sample: Sample) throws -> RewardOutcome {
        let bytes = Array(completion.text.utf8)
        var value = 0.0
        for tag in ["<think>\n", "\n</think>\n", "\n<answer>\n", "\n</answer>"] {
            if ByteSearch.count(of: Array(tag.utf8), in: bytes) == 1 { value += 0.25 }
        }
        return RewardOutcome(value: value)
    }
}

/// `think_format` (TRL's `think_format_reward`, regex `^<think>(?!.*<think>)(.*?)</think>.*$` with DOTALL):
/// 1 when the completion starts with `<think>`, has no other `<think>`, and closes it with `</think>`.
public struct ThinkFormatRule: ConfigurableRule {
    public static let ruleName = "think_format"
    public static let summary = "1 if the completion starts with exactly one <think>…</think> block (TRL think_format_reward), else 0"
    public static let optionHelp: [RuleOptionHelp] = []

    public init() {}
    public init(options: RuleOptions) throws {}

    public func score(_ completion: Completion, for sample: Sample) throws -> RewardOutcome {
        let bytes = Array(completion.text.utf8)
        let open = Array("<think>".utf8), close = Array("</think>".utf8)
        guard bytes.starts(with: open) else { return RewardOutcome(value: 0) }
        let ok = ByteSearch.firstIndex(of: open, in: bytes, from: open.count) == nil
            && ByteSearch.firstIndex(of: close, in: bytes, from: open.count) != nil
        return RewardOutcome(value: ok ? 1 : 0)
    }
}

/// Linear-time substring search on bytes (Knuth–Morris–Pratt), for rules that scan long completions.
enum ByteSearch {
    static func prefixFunction(_ pattern: [UInt8]) -> [Int] {
        var pi = [Int](repeating: 0, count: pattern.count)
        var k = 0
        for i in 1..<max(pattern.count, 1) {
            while k > 0 && pattern[i] != pattern[k] { k = pi[k - 1] }
            if pattern[i] == pattern[k] { k += 1 }
            pi[i] = k
        }
        return pi
    }

    static func firstIndex(of pattern: [UInt8], in text: [UInt8], from start: Int = 0) -> Int? {
        guard !pattern.isEmpty else { return start <= text.count ? start : nil }
        guard start < text.count else { return nil }
        let pi = prefixFunction(pattern)
        var k = 0
        var i = start
        while i < text.count {
            while k > 0 && text[i] != pattern[k] { k = pi[k - 1] }
            if text[i] == pattern[k] { k += 1 }
            if k == pattern.count { return i - pattern.count + 1 }
            i += 1
        }
        return nil
    }

    /// Non-overlapping occurrences, counted left to right (Python's `str.count`).
    static func count(of pattern: [UInt8], in text: [UInt8]) -> Int {
        var n = 0
        var from = 0
        while let i = firstIndex(of: pattern, in: text, from: from) {
            n += 1
            from = i + pattern.count
        }
        return n
    }
}
