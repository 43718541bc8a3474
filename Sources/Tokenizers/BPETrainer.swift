import Foundation

/// Trains a byte-level BPE tokenizer for small models, written as a Hugging Face `tokenizer.json` that
/// `BPETokenizer` and the `tokenizers` library both load.
///
/// Ids: the special tokens take 0 ..< n, then the 256 bytes in byte order (as in `ByteLevelVocabulary`, so
/// with no merges the ids are the same), then one id per merge in merge order. Text is pre-tokenized as
/// Qwen2 does it (a `Split` on `qwen2Pattern`, digits one by one, then `ByteLevel`), and merges never cross
/// a pre-token. Special tokens are cut out of the documents first, as the tokenizer does when encoding.
///
/// Each step merges the pair with the highest count; among equal counts, the pair whose (left, right) byte
/// strings are lexicographically smallest (left first, then right). Training stops at `vocabularySize` or
/// when the best pair occurs fewer than `minimumFrequency` times.
public struct BPETrainer: Sendable {
    /// Total vocabulary: special tokens, the 256 bytes and the merges.
    public let vocabularySize: Int
    public let specialTokens: [String]
    public let minimumFrequency: Int
    /// The `Split` pre-tokenizer's regex: `qwen2Pattern` or `spacedWordsPattern`.
    public let pattern: String

    /// Qwen2's pre-tokenizer pattern: contractions, words with one leading non-letter, single digits,
    /// punctuation runs, newlines and spaces.
    public static let qwen2Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// Qwen2's pattern, except that only words after a space are whole pre-tokens: letters elsewhere (after
    /// `<`, `/`, a newline, at the start) are one pre-token each. Names inside markup such as `<think>` are
    /// then spelled letter by letter, the same way whatever the name, so a model can copy a tag it has never
    /// seen; with Qwen2's pattern a made-up name is cut by merges learned from other names, and a small model
    /// learns those cuts instead of copying.
    public static let spacedWordsPattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)| \p{L}+|\p{L}|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    public init(vocabularySize: Int, specialTokens: [String] = ["<pad>", "<eos>", "<bos>"],
                minimumFrequency: Int = 2, pattern: String = BPETrainer.qwen2Pattern) throws {
        let smallest = specialTokens.count + 256
        guard vocabularySize >= smallest else {
            throw BPETrainerError.vocabularyTooSmall(vocabularySize: vocabularySize, minimum: smallest,
                                                     specialTokenCount: specialTokens.count)
        }
        guard minimumFrequency >= 1 else { throw BPETrainerError.minimumFrequencyBelowOne(minimumFrequency) }
        let byteTokens = Set((0..<256).map { ByteLevelVocabulary.byteToken(UInt8($0)) })
        var seen = Set<[UInt8]>()
        for token in specialTokens {
            let utf8 = Array(token.utf8)
            if utf8.isEmpty { throw BPETrainerError.invalidSpecialToken(token, reason: "it is empty") }
            if !seen.insert(utf8).inserted { throw BPETrainerError.invalidSpecialToken(token, reason: "it is listed twice") }
            if byteTokens.contains(token) {
                throw BPETrainerError.invalidSpecialToken(token, reason: "it is the vocabulary entry of a byte")
            }
        }
        self.vocabularySize = vocabularySize
        self.specialTokens = specialTokens
        self.minimumFrequency = minimumFrequency
        self.pattern = pattern
        do {
            _ = try TrainedBPE.preTokenizer(pattern: pattern)
        } catch {
            throw BPETrainerError.invalidPattern(pattern, reason: "\(error)")
        }
    }

    public func train(on documents: [String]) -> TrainedBPE {
        var words = WordCounts()
        words.count(documents, specialTokens: specialTokens, preTokenizer: try! TrainedBPE.preTokenizer(pattern: pattern))
        var merger = PairMerger(words: words.symbols, frequencies: words.frequencies)
        let forbidden = Set(specialTokens)
        while merger.tokens.count < vocabularySize - specialTokens.count {
            guard let best = merger.bestPair(), best.count >= minimumFrequency else { break }
            // A merged token named like a special token would share its vocabulary key.
            let merged = merger.tokens[Int(best.left)] + merger.tokens[Int(best.right)]
            if forbidden.contains(ByteLevelVocabulary.token(bytes: merged)) {
                merger.forbid(best.left, best.right)
                continue
            }
            merger.merge(best.left, best.right)
        }
        return TrainedBPE(specialTokens: specialTokens, pattern: pattern, tokenBytes: merger.tokens,
                          merges: merger.merges.map { TrainedBPE.Merge(left: merger.tokens[Int($0.left)],
                                                                        right: merger.tokens[Int($0.right)]) })
    }
}

/// A trained byte-level BPE: the vocabulary and merges `BPETrainer` found.
public struct TrainedBPE: Sendable, Equatable {
    /// One merge, as the raw bytes of its two tokens.
    public struct Merge: Sendable, Equatable {
        public let left: [UInt8]
        public let right: [UInt8]
    }

    public let specialTokens: [String]
    public let pattern: String
    /// The raw bytes of token `specialTokens.count + index`: the 256 bytes, then one token per merge.
    public let tokenBytes: [[UInt8]]
    /// In merge (rank) order. When two merges make the same bytes (e.g. `a`+`bc` and `ab`+`c`), the second
    /// reuses the first one's token, so there can be more merges than tokens after the 256 bytes.
    public let merges: [Merge]

    public var vocabularySize: Int { specialTokens.count + tokenBytes.count }

    /// Token (as written in `tokenizer.json`: special tokens as they are, others in byte-level characters) → id.
    public var vocabulary: [String: Int] {
        var vocabulary: [String: Int] = [:]
        for (id, token) in specialTokens.enumerated() { vocabulary[token] = id }
        for (index, bytes) in tokenBytes.enumerated() {
            vocabulary[ByteLevelVocabulary.token(bytes: bytes)] = specialTokens.count + index
        }
        return vocabulary
    }

    /// The `pre_tokenizer` of the written file, as Qwen2's `tokenizer.json` writes it.
    static func preTokenizerJSON(pattern: String) -> [String: Any] {
        [
            "type": "Sequence",
            "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": pattern], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false],
            ],
        ]
    }

    /// The file's own pre-tokenizer, parsed as the loader parses it.
    static func preTokenizer(pattern: String) throws -> PreTokenizer {
        let data = try JSONSerialization.data(withJSONObject: preTokenizerJSON(pattern: pattern))
        return try PreTokenizer(json: try JSONNode.parse(data: data, file: "pre_tokenizer"))
    }

    /// The tokenizer as a Hugging Face `tokenizer.json`, keys sorted, so the same training gives the same bytes.
    /// Merges are written as `["left", "right"]` pairs (`tokenizers` >= 0.20 and `BPETokenizer` read them).
    public func tokenizerJSON() throws -> Data {
        let merges = merges.map { [ByteLevelVocabulary.token(bytes: $0.left), ByteLevelVocabulary.token(bytes: $0.right)] }
        let json: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(),
            "added_tokens": ByteLevelVocabulary.addedTokensJSON(specialTokens), "normalizer": NSNull(),
            "pre_tokenizer": TrainedBPE.preTokenizerJSON(pattern: pattern),
            "post_processor": NSNull(),
            "decoder": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                      "vocab": vocabulary, "merges": merges],
        ]
        return try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
    }
}

public enum BPETrainerError: Error, CustomStringConvertible, Equatable {
    case vocabularyTooSmall(vocabularySize: Int, minimum: Int, specialTokenCount: Int)
    case minimumFrequencyBelowOne(Int)
    case invalidSpecialToken(String, reason: String)
    case invalidPattern(String, reason: String)

    public var description: String {
        switch self {
        case let .vocabularyTooSmall(size, minimum, specials):
            return "BPE vocabulary size \(size) is too small: expected at least \(minimum) "
                + "(\(specials) special tokens + 256 bytes)"
        case let .minimumFrequencyBelowOne(value):
            return "BPE minimum pair frequency \(value): expected at least 1"
        case let .invalidSpecialToken(token, reason):
            return "special token \(token.debugDescription) cannot be used: \(reason)"
        case let .invalidPattern(pattern, reason):
            return "pre-tokenizer pattern \(pattern.debugDescription) is not a supported regex: \(reason)"
        }
    }
}

/// The distinct pre-tokens of the documents and how often each occurs, split exactly as `BPETokenizer`
/// splits text when it loads the written file.
struct WordCounts {
    /// Each distinct pre-token as byte ids, in order of first occurrence.
    private(set) var symbols: [[Int32]] = []
    private(set) var frequencies: [Int] = []
    private var index = BytesMap(capacity: 1 << 14)

    mutating func count(_ documents: [String], specialTokens: [String], preTokenizer: PreTokenizer) {
        let specials = AddedTokenMatcher(specialTokens.enumerated().map { id, token in
            (Array(token.utf8), AddedToken(id: id, content: token))
        })
        var arena: [UInt32] = []
        var scratch = PreTokenizer.Scratch()
        var piece: [UInt8] = []
        for document in documents {
            let utf8 = Array(document.utf8)
            utf8.withUnsafeBufferPointer { text in
                for case let .text(range) in specials.segments(text, range: 0..<text.count) where !range.isEmpty {
                    arena.removeAll(keepingCapacity: true)
                    var position = range.lowerBound
                    while position < range.upperBound {
                        let (scalar, length) = AddedTokenMatcher.scalar(startingAt: position, in: text, upper: range.upperBound)
                        arena.append(scalar)
                        position += length
                    }
                    preTokenizer.apply(arena: &arena, piece: 0..<arena.count, scratch: &scratch)
                    for range in scratch.current {
                        piece.removeAll(keepingCapacity: true)
                        for position in range { appendUTF8(arena[position], to: &piece) }
                        add(piece)
                    }
                }
            }
        }
    }

    private mutating func add(_ piece: [UInt8]) {
        if let word = index.value(for: piece) {
            frequencies[Int(word)] += 1
        } else {
            index.set(UInt64(symbols.count), for: piece)
            symbols.append(piece.map { Int32($0) })
            frequencies.append(1)
        }
    }
}

/// The merge loop over distinct words. Pair counts are kept up to date incrementally: a merge only revisits
/// the words that hold its pair. Candidates wait in a max-heap whose stored counts may be stale (a count only
/// falls after its pair was pushed, except for pairs with the new token, which are pushed again), so a popped
/// candidate is taken only if its count is current, and pushed back with the current count otherwise.
struct PairMerger {
    /// Trainer ids: 0 ..< 256 are the bytes, then the merged tokens.
    private(set) var tokens: [[UInt8]]
    private(set) var merges: [(left: Int32, right: Int32)] = []
    private var words: [[Int32]]
    private let frequencies: [Int]
    private var tokenIDs = BytesMap(capacity: 1 << 12)
    private var pairCounts: [UInt64: Int] = [:]
    /// Words that held the pair when it appeared (some may no longer hold it).
    private var pairWords: [UInt64: [Int32]] = [:]
    private var heap: [(count: Int, pair: UInt64)] = []
    private var forbidden = Set<UInt64>()
    /// Per word, the last merge that visited it (a word is listed once per appearance of the pair).
    private var visited: [Int]

    init(words: [[Int32]], frequencies: [Int]) {
        self.words = words
        self.frequencies = frequencies
        tokens = (0..<256).map { [UInt8($0)] }
        for byte in 0..<256 { tokenIDs.set(UInt64(byte), for: [UInt8(byte)]) }
        visited = [Int](repeating: -1, count: words.count)
        for (word, symbols) in words.enumerated() where symbols.count > 1 {
            for position in 0..<symbols.count - 1 {
                let pair = PairMerger.key(symbols[position], symbols[position + 1])
                pairCounts[pair, default: 0] += frequencies[word]
                if pairWords[pair]?.last != Int32(word) { pairWords[pair, default: []].append(Int32(word)) }
            }
        }
        // Sorted so that the heap, and so the merges, never depend on dictionary order.
        for (pair, count) in pairCounts.sorted(by: { $0.key < $1.key }) { push(count, pair) }
    }

    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 { UInt64(UInt32(left)) << 32 | UInt64(UInt32(right)) }

    /// The pair to merge next: highest count, then smallest (left, right) bytes.
    mutating func bestPair() -> (left: Int32, right: Int32, count: Int)? {
        while let top = pop() {
            if forbidden.contains(top.pair) { continue }
            let current = pairCounts[top.pair] ?? 0
            if current != top.count {
                if current > 0 { push(current, top.pair) }
                continue
            }
            return (Int32(truncatingIfNeeded: top.pair >> 32), Int32(truncatingIfNeeded: top.pair), current)
        }
        return nil
    }

    mutating func forbid(_ left: Int32, _ right: Int32) { forbidden.insert(PairMerger.key(left, right)) }

    mutating func merge(_ left: Int32, _ right: Int32) {
        let pair = PairMerger.key(left, right)
        let bytes = tokens[Int(left)] + tokens[Int(right)]
        let merged: Int32
        if let existing = tokenIDs.value(for: bytes) {
            merged = Int32(existing)
        } else {
            merged = Int32(tokens.count)
            tokens.append(bytes)
            tokenIDs.set(UInt64(merged), for: bytes)
        }
        merges.append((left, right))
        let mergeIndex = merges.count
        var changed: [UInt64] = []
        for word in pairWords.removeValue(forKey: pair) ?? [] where visited[Int(word)] != mergeIndex {
            visited[Int(word)] = mergeIndex
            let old = words[Int(word)]
            var new: [Int32] = []
            new.reserveCapacity(old.count)
            var position = 0
            while position < old.count {
                if position + 1 < old.count && old[position] == left && old[position + 1] == right {
                    new.append(merged)
                    position += 2
                } else {
                    new.append(old[position])
                    position += 1
                }
            }
            if new.count == old.count { continue }
            let frequency = frequencies[Int(word)]
            for position in 0..<old.count - 1 {
                pairCounts[PairMerger.key(old[position], old[position + 1]), default: 0] -= frequency
            }
            if new.count > 1 {
                for position in 0..<new.count - 1 {
                    let newPair = PairMerger.key(new[position], new[position + 1])
                    pairCounts[newPair, default: 0] += frequency
                    if new[position] == merged || new[position + 1] == merged {
                        if pairWords[newPair]?.last != word { pairWords[newPair, default: []].append(word) }
                        changed.append(newPair)
                    }
                }
            }
            words[Int(word)] = new
        }
        pairCounts[pair] = nil
        var pushed = Set<UInt64>()
        for newPair in changed where pushed.insert(newPair).inserted {
            if let count = pairCounts[newPair], count > 0 { push(count, newPair) }
        }
    }

    // MARK: Max-heap

    /// True when `a` is merged before `b`.
    private func precedes(_ a: (count: Int, pair: UInt64), _ b: (count: Int, pair: UInt64)) -> Bool {
        if a.count != b.count { return a.count > b.count }
        let aLeft = tokens[Int(a.pair >> 32)], bLeft = tokens[Int(b.pair >> 32)]
        if aLeft != bLeft { return aLeft.lexicographicallyPrecedes(bLeft) }
        return tokens[Int(a.pair & 0xFFFF_FFFF)].lexicographicallyPrecedes(tokens[Int(b.pair & 0xFFFF_FFFF)])
    }

    private mutating func push(_ count: Int, _ pair: UInt64) {
        heap.append((count, pair))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if !precedes(heap[child], heap[parent]) { break }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    private mutating func pop() -> (count: Int, pair: UInt64)? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                if left >= heap.count { break }
                var best = left
                if left + 1 < heap.count && precedes(heap[left + 1], heap[left]) { best = left + 1 }
                if !precedes(heap[best], heap[parent]) { break }
                heap.swapAt(parent, best)
                parent = best
            }
        }
        return first
    }
}
