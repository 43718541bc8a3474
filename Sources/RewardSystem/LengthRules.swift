import Foundation

/// `repetition` (open-r1's `repetition_penalty_reward`): words are the lowercased text split on whitespace;
/// value = max_penalty × (1 − distinct n-grams / total n-grams). Empty text or fewer words than
/// `ngram_size` → 0.
public struct RepetitionRule: ConfigurableRule {
    public static let ruleName = "repetition"
    public static let summary = "n-gram repetition penalty (open-r1): max_penalty × (1 − distinct n-grams / n-grams), in [max_penalty, 0]"
    public static let optionHelp: [RuleOptionHelp] = [
        RuleOptionHelp("ngram_size", default: "3", "words per n-gram"),
        RuleOptionHelp("max_penalty", default: "-1.0", "the value of a completion that repeats one n-gram throughout (must be ≤ 0)"),
    ]

    public var ngramSize: Int
    public var maxPenalty: Double

    public init(ngramSize: Int = 3, maxPenalty: Double = -1.0) {
        self.ngramSize = ngramSize
        self.maxPenalty = maxPenalty
    }

    public init(options: RuleOptions) throws {
        ngramSize = try options.int("ngram_size", default: 3, range: 1...1000)
        maxPenalty = try options.double("max_penalty", default: -1.0, range: -1e9...0)
    }

    public func score(_ completion: Completion, for sample: Sample) throws -> RewardOutcome {
        let words = RepetitionRule.wordIDs(completion.text)
        guard !words.isEmpty, words.count >= ngramSize else { return RewardOutcome(value: 0) }
        // n-gram ids built level by level: id_k(i) = intern(id_{k-1}(i), word(i+k-1)); exact, O(n·k).
        var grams = words
        var level = 1
        while level < ngramSize {
            var table: [Int: Int] = [:]
            table.reserveCapacity(grams.count)
            var next: [Int] = []
            next.reserveCapacity(grams.count - 1)
            for i in 0..<(grams.count - 1) {
                let key = grams[i] << 32 | words[i + level]
                if let id = table[key] { next.append(id) } else {
                    let id = table.count
                    table[key] = id
                    next.append(id)
                }
            }
            grams = next
            level += 1
        }
        let total = words.count - ngramSize + 1
        let distinct = Set(grams.prefix(total)).count
        let scaling = 1.0 - Double(distinct) / Double(total)
        return RewardOutcome(value: scaling * maxPenalty + 0.0)
    }

    /// The lowercased whitespace-separated words of the text (Python's `text.lower().split()`), as ids.
    /// One pass over the UTF-8 bytes of the lowercased text; separators are the characters for which
    /// Python's `str.isspace()` is true.
    static func wordIDs(_ text: String) -> [Int] {
        let bytes = Array(text.lowercased().utf8)
        /// The byte length of the whitespace character at `i`, or 0.
        func spaceWidth(_ i: Int) -> Int {
            let b = bytes[i]
            if b < 0x80 { return b == 0x20 || (b >= 0x09 && b <= 0x0D) || (b >= 0x1C && b <= 0x1F) ? 1 : 0 }
            let n = bytes.count
            if b == 0xC2, i + 1 < n, bytes[i + 1] == 0x85 || bytes[i + 1] == 0xA0 { return 2 }  // U+0085, U+00A0
            guard i + 2 < n else { return 0 }
            let (c, d) = (bytes[i + 1], bytes[i + 2])
            switch b {
            case 0xE1: return c == 0x9A && d == 0x80 ? 3 : 0  // U+1680
            case 0xE2:
                if c == 0x80, (0x80...0x8A).contains(d) || d == 0xA8 || d == 0xA9 || d == 0xAF { return 3 }  // U+2000–200A, 2028, 2029, 202F
                return c == 0x81 && d == 0x9F ? 3 : 0  // U+205F
            case 0xE3: return c == 0x80 && d == 0x80 ? 3 : 0  // U+3000
            default: return 0
            }
        }
        var table: [ArraySlice<UInt8>: Int] = [:]
        var ids: [Int] = []
        var i = 0
        var wordStart = -1
        func endWord(at end: Int) {
            guard wordStart >= 0 else { return }
            let word = bytes[wordStart..<end]
            if let id = table[word] { ids.append(id) } else {
                ids.append(table.count)
                table[word] = table.count
            }
            wordStart = -1
        }
        while i < bytes.count {
            let width = spaceWidth(i)
            if width > 0 {
                endWord(at: i)
                i += width
            } else {
                if wordStart < 0 { wordStart = i }
                i += 1
            }
        }
        endWord(at: bytes.count)
        return ids
    }
}

/// `overlong` (DAPO's soft overlong punishment): with L = token count, L_max = `max_length`,
/// L_cache = `cache_length`: 0 when L ≤ L_max − L_cache; (L_max − L_cache − L) / L_cache when
/// L_max − L_cache < L ≤ L_max; −1 beyond L_max. Needs the completion's token count.
public struct OverlongRule: ConfigurableRule {
    public static let ruleName = "overlong"
    public static let summary = "DAPO soft overlong punishment on the token count: 0 up to max_length − cache_length, linear to −1 at max_length, −1 beyond"
    public static let optionHelp: [RuleOptionHelp] = [
        RuleOptionHelp("max_length", default: "20480", "L_max: the length (tokens) at which the penalty reaches −1"),
        RuleOptionHelp("cache_length", default: "4096", "L_cache: the width of the linear penalty zone (tokens)"),
    ]

    public var maxLength: Int
    public var cacheLength: Int

    public init(maxLength: Int = 20480, cacheLength: Int = 4096) {
        self.maxLength = maxLength
        self.cacheLength = cacheLength
    }

    public init(options: RuleOptions) throws {
        maxLength = try options.int("max_length", default: 20480, range: 1...Int(Int32.max))
        cacheLength = try options.int("cache_length", default: 4096, range: 1...Int(Int32.max))
        guard cacheLength <= maxLength else {
            throw RewardError.invalidOption(rule: Self.ruleName, key: "cache_length", value: String(cacheLength),
                                            expected: "at most max_length (\(maxLength))")
        }
    }

    public func score(_ completion: Completion, for sample: Sample) throws -> RewardOutcome {
        guard let length = completion.tokenCount else {
            throw RewardError.missingField(rule: name, field: "token_count", expected: "the completion's token count")
        }
        let expected = maxLength - cacheLength
        if length <= expected { return RewardOutcome(value: 0) }
        if length <= maxLength { return RewardOutcome(value: Double(expected - length) / Double(cacheLength)) }
        return RewardOutcome(value: -1)
    }
}
