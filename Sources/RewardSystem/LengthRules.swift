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
        let words = completion.text.lowercased().split(whereSeparator: { $0.isWhitespace })
        guard !words.isEmpty, words.count >= ngramSize else { return RewardOutcome(value: 0) }
        // Intern words to integers so that an n-gram is a short array of Ints.
        var ids: [Substring: Int] = [:]
        let coded = words.map { word -> Int in
            if let id = ids[word] { return id }
            let id = ids.count
            ids[word] = id
            return id
        }
        var seen = Set<ArraySlice<Int>>()
        let total = coded.count - ngramSize + 1
        for start in 0..<total { seen.insert(coded[start..<(start + ngramSize)]) }
        let scaling = 1.0 - Double(seen.count) / Double(total)
        return RewardOutcome(value: scaling * maxPenalty + 0.0)
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
