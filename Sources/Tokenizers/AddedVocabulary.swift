/// A token from `added_tokens` in `tokenizer.json`, matched in the text before pre-tokenization.
public struct AddedToken: Sendable, Equatable {
    public var id: Int
    public var content: String
    /// Only match when not inside a word (`\w` on neither side).
    public var singleWord: Bool
    /// Also take the whitespace to the left / right of the match.
    public var leftStrip: Bool
    public var rightStrip: Bool
    /// Match against the normalized text instead of the raw text.
    public var normalized: Bool
    /// Special tokens can be skipped when decoding.
    public var special: Bool

    public init(id: Int, content: String, singleWord: Bool = false, leftStrip: Bool = false,
                rightStrip: Bool = false, normalized: Bool = false, special: Bool = true) {
        self.id = id
        self.content = content
        self.singleWord = singleWord
        self.leftStrip = leftStrip
        self.rightStrip = rightStrip
        self.normalized = normalized
        self.special = special
    }
}

/// Finds added tokens the way `tokenizers` does: leftmost-longest, non-overlapping (Aho–Corasick
/// `LeftmostLongest` semantics) over UTF-8 bytes, then the `single_word`, `lstrip` and `rstrip`
/// rules of `AddedVocabulary::find_matches`.
struct AddedTokenMatcher {
    enum Segment: Equatable {
        case token(Int)
        case text(Range<Int>)
    }

    private struct Node {
        var children: [UInt8: Int32] = [:]
        var token: Int32 = -1  // index into `tokens`
    }

    private var nodes: [Node] = [Node()]
    private var firstBytes = [Bool](repeating: false, count: 256)
    private(set) var tokens: [AddedToken] = []

    var isEmpty: Bool { tokens.isEmpty }

    /// `patterns` are the byte strings to look for (the content, normalized for normalized tokens).
    init(_ entries: [(pattern: [UInt8], token: AddedToken)]) {
        for (pattern, token) in entries where !pattern.isEmpty {
            var node = 0
            for byte in pattern {
                if let child = nodes[node].children[byte] {
                    node = Int(child)
                } else {
                    nodes.append(Node())
                    nodes[node].children[byte] = Int32(nodes.count - 1)
                    node = nodes.count - 1
                }
            }
            if nodes[node].token < 0 {  // the first of duplicate patterns wins, as in Aho–Corasick
                tokens.append(token)
                nodes[node].token = Int32(tokens.count - 1)
            }
            firstBytes[Int(pattern[0])] = true
        }
    }

    /// The longest pattern starting at `start`, as (end, token index).
    private func longestMatch(_ text: UnsafeBufferPointer<UInt8>, at start: Int, upper: Int) -> (Int, Int)? {
        var node = 0
        var best: (Int, Int)? = nil
        var index = start
        while index < upper, let child = nodes[node].children[text[index]] {
            node = Int(child)
            index += 1
            if nodes[node].token >= 0 { best = (index, Int(nodes[node].token)) }
        }
        return best
    }

    /// Splits `text[range]` into added tokens and the text between them (empty text is dropped,
    /// except that an empty input yields one empty text segment, as in `tokenizers`).
    func segments(_ text: UnsafeBufferPointer<UInt8>, range: Range<Int>) -> [Segment] {
        if range.isEmpty { return [.text(range)] }
        if tokens.isEmpty { return [.text(range)] }
        // 1. Raw matches.
        var raw: [(start: Int, end: Int, token: Int)] = []
        var index = range.lowerBound
        while index < range.upperBound {
            if firstBytes[Int(text[index])], let (end, token) = longestMatch(text, at: index, upper: range.upperBound) {
                raw.append((index, end, token))
                index = end
            } else {
                index += 1
            }
        }
        if raw.isEmpty { return [.text(range)] }
        // 2. find_matches.
        var segments: [Segment] = []
        var startOffset = range.lowerBound
        for match in raw {
            var start = match.start
            var stop = match.end
            let token = tokens[match.token]
            if token.singleWord {
                let startSpace = start == range.lowerBound
                    || !AddedTokenMatcher.isWordCharacter(lastScalarBefore: start, in: text, lower: range.lowerBound)
                let stopSpace = stop == range.upperBound
                    || !AddedTokenMatcher.isWordCharacter(firstScalarAt: stop, in: text, upper: range.upperBound)
                if !startSpace || !stopSpace { continue }
            }
            if token.leftStrip {
                var newStart = start
                while newStart > range.lowerBound {
                    let (scalar, length) = AddedTokenMatcher.scalar(endingAt: newStart, in: text, lower: range.lowerBound)
                    guard UnicodeTables.isWhitespace(scalar) else { break }
                    newStart -= length
                }
                start = max(newStart, startOffset)
            }
            if token.rightStrip {
                while stop < range.upperBound {
                    let (scalar, length) = AddedTokenMatcher.scalar(startingAt: stop, in: text, upper: range.upperBound)
                    guard UnicodeTables.isWhitespace(scalar) else { break }
                    stop += length
                }
            }
            if startOffset < start { segments.append(.text(startOffset..<start)) }
            segments.append(.token(token.id))
            startOffset = stop
        }
        if startOffset != range.upperBound { segments.append(.text(startOffset..<range.upperBound)) }
        return segments
    }

    // MARK: UTF-8 helpers (the text is valid UTF-8)

    static func scalar(startingAt index: Int, in text: UnsafeBufferPointer<UInt8>, upper: Int) -> (UInt32, Int) {
        let lead = text[index]
        let length = min(utf8SequenceLength(lead), upper - index)
        var value: UInt32
        switch length {
        case 1: value = UInt32(lead)
        case 2: value = UInt32(lead & 0x1F)
        case 3: value = UInt32(lead & 0x0F)
        default: value = UInt32(lead & 0x07)
        }
        if length > 1 {
            for offset in 1..<length { value = value << 6 | UInt32(text[index + offset] & 0x3F) }
        }
        return (value, length)
    }

    static func scalar(endingAt end: Int, in text: UnsafeBufferPointer<UInt8>, lower: Int) -> (UInt32, Int) {
        var start = end - 1
        while start > lower && text[start] & 0xC0 == 0x80 { start -= 1 }
        return (scalar(startingAt: start, in: text, upper: end).0, end - start)
    }

    static func isWordCharacter(lastScalarBefore end: Int, in text: UnsafeBufferPointer<UInt8>, lower: Int) -> Bool {
        let (value, _) = scalar(endingAt: end, in: text, lower: lower)
        return Unicode.Scalar(value).map(UnicodeTables.isWordCharacter) ?? false
    }

    static func isWordCharacter(firstScalarAt start: Int, in text: UnsafeBufferPointer<UInt8>, upper: Int) -> Bool {
        let (value, _) = scalar(startingAt: start, in: text, upper: upper)
        return Unicode.Scalar(value).map(UnicodeTables.isWordCharacter) ?? false
    }
}
