import Foundation

/// The `BPE` model of `tokenizer.json`: vocabulary, ranked merges, and the per-word merge loop.
///
/// A word starts as one symbol per character (or per byte, for byte-level vocabularies) and the
/// lowest-ranked adjacent pair is merged until no pair has a merge, leftmost first among equal
/// ranks: a binary heap of candidate merges over a doubly linked list of symbols, O(n log n) in
/// the word length. Results for words under 256 bytes are cached.
final class BPEModel: @unchecked Sendable {
    let vocabulary: BytesMap
    let vocabularyCount: Int
    private(set) var tokens: [Int: String] = [:]
    let merges: PairMap
    let unknownToken: String?
    let unknownID: Int?
    let continuingSubwordPrefix: String?
    let endOfWordSuffix: String?
    let fuseUnknown: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool

    /// Byte-level fast path: when the pre-tokenizer ends with `ByteLevel`, pieces arrive as raw
    /// bytes; `byteSymbolIDs[b]` is the id of the character standing for byte `b` (or -1), and
    /// `rawVocabulary` maps the raw bytes of every byte-level token to its id.
    private(set) var byteSymbolIDs: [Int32] = []
    private(set) var rawVocabulary = BytesMap()
    private var byteFallbackIDs: [Int32] = []

    static let cacheableLength = 256
    static let cacheCapacity = 100_000
    private var cache = BytesMap(capacity: 1024)
    private var cacheIDs: [UInt32] = []
    private let cacheLock = NSLock()

    init(json model: JSONNode) throws {
        let vocabNode = model["vocab"]
        guard let vocabObject = vocabNode.value as? [String: Any] else {
            throw vocabNode.malformed("an object mapping each token to its id")
        }
        var vocabulary = BytesMap(capacity: vocabObject.count)
        var tokens: [Int: String] = [:]
        tokens.reserveCapacity(vocabObject.count)
        for (token, idValue) in vocabObject {
            var id = -1
            if !JSONNode.isBoolean(idValue), let value = idValue as? Int { id = value }
            guard id >= 0, id <= Int(UInt32.max) else {
                throw JSONNode(value: idValue, path: "\(vocabNode.path)[\(token.debugDescription)]")
                    .malformed("a non-negative integer id")
            }
            if token.utf8.withContiguousStorageIfAvailable({ vocabulary.set(UInt64(id), for: UnsafeRawBufferPointer($0)) }) == nil {
                vocabulary.set(UInt64(id), for: Array(token.utf8))
            }
            tokens[id] = token
        }
        self.vocabulary = vocabulary
        self.vocabularyCount = vocabObject.count
        self.tokens = tokens

        continuingSubwordPrefix = try model["continuing_subword_prefix"].optionalString()
        endOfWordSuffix = try model["end_of_word_suffix"].optionalString()
        fuseUnknown = try model["fuse_unk"].bool(default: false)
        byteFallback = try model["byte_fallback"].bool(default: false)
        ignoreMerges = try model["ignore_merges"].bool(default: false)
        if let dropout = try model["dropout"].optionalDouble(), dropout != 0 {
            throw TokenizerError.unsupported(path: model["dropout"].displayPath, found: "BPE dropout \(dropout)",
                                             supported: "null or 0 (dropout is for training)")
        }
        unknownToken = try model["unk_token"].optionalString()
        if let unknownToken {
            unknownID = vocabulary.value(for: Array(unknownToken.utf8)).map(Int.init)
        } else {
            unknownID = nil
        }

        // Merges: "a b" strings (older files) or ["a", "b"] pairs (tokenizers >= 0.20).
        let mergesNode = model["merges"]
        let mergeList: [Any]
        if mergesNode.isNull {
            mergeList = []
        } else if let list = mergesNode.value as? [Any] {
            mergeList = list
        } else {
            throw mergesNode.malformed("an array of merges")
        }
        var merges = PairMap(capacity: mergeList.count)
        let prefixLength = continuingSubwordPrefix?.utf8.count ?? 0
        var left: [UInt8] = [], right: [UInt8] = []
        for (rank, entry) in mergeList.enumerated() {
            func entryError(_ expected: String) -> TokenizerError {
                .malformed(path: "\(mergesNode.displayPath)[\(rank)]", expected: expected)
            }
            left.removeAll(keepingCapacity: true)
            right.removeAll(keepingCapacity: true)
            if let line = entry as? String {
                var spaces = 0
                for byte in line.utf8 {
                    if byte == 0x20 { spaces += 1; continue }
                    if spaces == 0 { left.append(byte) } else { right.append(byte) }
                }
                guard spaces == 1 else {
                    throw entryError("a merge \"left right\" with exactly one space, found \(line.debugDescription)")
                }
            } else if let pair = entry as? [Any], pair.count == 2,
                      let first = pair[0] as? String, let second = pair[1] as? String {
                left.append(contentsOf: first.utf8)
                right.append(contentsOf: second.utf8)
            } else {
                throw entryError("a merge as \"left right\" or [\"left\", \"right\"]")
            }
            guard let leftID = vocabulary.value(for: left) else {
                throw entryError("merge tokens in the vocabulary (\(String(decoding: left, as: UTF8.self).debugDescription) is not)")
            }
            guard let rightID = vocabulary.value(for: right) else {
                throw entryError("merge tokens in the vocabulary (\(String(decoding: right, as: UTF8.self).debugDescription) is not)")
            }
            let merged = left + right[min(prefixLength, right.count)...]
            guard let newID = vocabulary.value(for: merged) else {
                throw entryError("merge results in the vocabulary (\(String(decoding: merged, as: UTF8.self).debugDescription) is not)")
            }
            merges.set(UInt64(rank) << 32 | newID, for: leftID << 32 | rightID)
        }
        self.merges = merges

        if byteFallback {
            byteFallbackIDs = (0..<256).map { byte in
                let name = String(format: "<0x%02X>", byte)
                return vocabulary.value(for: Array(name.utf8)).map { Int32($0) } ?? -1
            }
        }
        byteSymbolIDs = (0..<256).map { byte in
            var utf8: [UInt8] = []
            appendUTF8(ByteLevel.byteToScalar[byte], to: &utf8)
            return vocabulary.value(for: utf8).map { Int32($0) } ?? -1
        }
        var raw = BytesMap(capacity: vocabObject.count)
        for (id, token) in tokens {
            if let bytes = ByteLevel.decode(token: token) { raw.set(UInt64(id), for: bytes) }
        }
        rawVocabulary = raw
    }

    func token(for id: Int) -> String? { tokens[id] }

    func id(for token: String) -> Int? {
        vocabulary.value(for: Array(token.utf8)).map(Int.init)
    }

    /// Byte-level pieces can skip building the byte-level string when no prefix/suffix applies.
    var supportsRawBytePieces: Bool { continuingSubwordPrefix == nil && endOfWordSuffix == nil }

    // MARK: Encoding

    /// Appends the ids of one pre-tokenized piece. `piece` holds the model's input string in UTF-8
    /// or, when `rawBytes` is true, the raw bytes whose byte-level characters form that string.
    func tokenize(_ piece: UnsafeRawBufferPointer, rawBytes: Bool, into output: inout [Int]) {
        if piece.isEmpty { return }
        if ignoreMerges {
            let found = rawBytes ? rawVocabulary.value(for: piece) : vocabulary.value(for: piece)
            if let id = found { output.append(Int(id)); return }
        }
        let cacheable = piece.count < BPEModel.cacheableLength
        if cacheable {
            cacheLock.lock()
            if let entry = cache.value(for: piece) {
                let offset = Int(entry >> 24), count = Int(entry & 0xFF_FFFF)
                for index in offset..<offset + count { output.append(Int(cacheIDs[index])) }
                cacheLock.unlock()
                return
            }
            cacheLock.unlock()
        }
        let start = output.count
        var word = Word()
        if rawBytes { word.initialize(rawBytes: piece, model: self) } else { word.initialize(utf8: piece, model: self) }
        word.mergeAll(merges)
        word.appendIDs(to: &output)
        if cacheable {
            cacheLock.lock()
            if cache.count < BPEModel.cacheCapacity {
                let offset = cacheIDs.count
                for index in start..<output.count { cacheIDs.append(UInt32(output[index])) }
                cache.set(UInt64(offset) << 24 | UInt64(output.count - start), for: piece)
            }
            cacheLock.unlock()
        }
    }

    /// A word being merged: symbols in a doubly linked list over arrays.
    struct Word {
        var ids: [Int32] = []
        var previous: [Int32] = []
        var next: [Int32] = []
        var alive: [Bool] = []
        var pendingUnknown: (id: Int32, count: Int)? = nil

        mutating func add(_ id: Int32) {
            let index = Int32(ids.count)
            ids.append(id)
            previous.append(index - 1)
            next.append(index + 1)
            alive.append(true)
        }

        mutating func flushUnknown() {
            if let pending = pendingUnknown { add(pending.id); pendingUnknown = nil }
        }

        /// A character (`symbol`, its UTF-8 with prefix/suffix applied) that is not in the vocab.
        mutating func addUnknown(_ symbol: [UInt8], model: BPEModel) {
            if model.byteFallback {
                var fallback: [Int32] = []
                for byte in symbol {
                    let id = model.byteFallbackIDs[Int(byte)]
                    if id < 0 { fallback.removeAll(); break }
                    fallback.append(id)
                }
                if fallback.count == symbol.count {
                    for id in fallback { add(id) }
                    return
                }
            }
            guard model.unknownToken != nil else { return }
            guard let unknownID = model.unknownID else { return }
            if let pending = pendingUnknown {
                if model.fuseUnknown { return }
                add(pending.id)
            }
            pendingUnknown = (Int32(unknownID), 1)
        }

        mutating func initialize(rawBytes piece: UnsafeRawBufferPointer, model: BPEModel) {
            ids.reserveCapacity(piece.count)
            for byte in piece {
                let id = model.byteSymbolIDs[Int(byte)]
                if id >= 0 {
                    flushUnknown()
                    add(id)
                } else {
                    var utf8: [UInt8] = []
                    appendUTF8(ByteLevel.byteToScalar[Int(byte)], to: &utf8)
                    addUnknown(utf8, model: model)
                }
            }
            flushUnknown()
        }

        mutating func initialize(utf8 piece: UnsafeRawBufferPointer, model: BPEModel) {
            let prefix = model.continuingSubwordPrefix.map { Array($0.utf8) }
            let suffix = model.endOfWordSuffix.map { Array($0.utf8) }
            var index = 0
            let count = piece.count
            var symbol: [UInt8] = []
            while index < count {
                let length = utf8SequenceLength(piece[index])
                let end = min(index + length, count)
                symbol.removeAll(keepingCapacity: true)
                if index > 0, let prefix { symbol.append(contentsOf: prefix) }
                symbol.append(contentsOf: piece[index..<end])
                if end == count, let suffix { symbol.append(contentsOf: suffix) }
                if let id = model.vocabulary.value(for: symbol) {
                    flushUnknown()
                    add(Int32(id))
                } else {
                    addUnknown(symbol, model: model)
                }
                index = end
            }
            flushUnknown()
        }

        mutating func mergeAll(_ merges: PairMap) {
            let count = ids.count
            if count < 2 { return }
            var heap = MergeHeap()
            heap.reserve(count)
            for position in 0..<count - 1 {
                if let merge = merges.value(for: UInt64(UInt32(bitPattern: ids[position])) << 32
                                            | UInt64(UInt32(bitPattern: ids[position + 1]))) {
                    heap.push(rank: UInt32(merge >> 32), position: UInt32(position))
                }
            }
            while let top = heap.pop() {
                let position = Int(top.position)
                guard alive[position] else { continue }
                let right = Int(next[position])
                guard right < count else { continue }
                let pairKey = UInt64(UInt32(bitPattern: ids[position])) << 32 | UInt64(UInt32(bitPattern: ids[right]))
                guard let merge = merges.value(for: pairKey), UInt32(merge >> 32) == top.rank else { continue }
                // Merge `right` into `position`.
                ids[position] = Int32(truncatingIfNeeded: merge & 0xFFFF_FFFF)
                alive[right] = false
                let afterRight = Int(next[right])
                next[position] = Int32(afterRight)
                if afterRight < count { previous[afterRight] = Int32(position) }
                let before = Int(previous[position])
                if before >= 0 {
                    let key = UInt64(UInt32(bitPattern: ids[before])) << 32 | UInt64(UInt32(bitPattern: ids[position]))
                    if let candidate = merges.value(for: key) {
                        heap.push(rank: UInt32(candidate >> 32), position: UInt32(before))
                    }
                }
                if afterRight < count {
                    let key = UInt64(UInt32(bitPattern: ids[position])) << 32 | UInt64(UInt32(bitPattern: ids[afterRight]))
                    if let candidate = merges.value(for: key) {
                        heap.push(rank: UInt32(candidate >> 32), position: UInt32(position))
                    }
                }
            }
        }

        func appendIDs(to output: inout [Int]) {
            var index = 0
            while index < ids.count {
                output.append(Int(ids[index]))
                index = Int(next[index])
            }
        }
    }

    /// Min-heap of (rank, position), ordered by rank then position.
    struct MergeHeap {
        private var items: [UInt64] = []

        mutating func reserve(_ count: Int) { items.reserveCapacity(count) }

        mutating func push(rank: UInt32, position: UInt32) {
            items.append(UInt64(rank) << 32 | UInt64(position))
            var child = items.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                if items[parent] <= items[child] { break }
                items.swapAt(parent, child)
                child = parent
            }
        }

        mutating func pop() -> (rank: UInt32, position: UInt32)? {
            guard let first = items.first else { return nil }
            let last = items.removeLast()
            if !items.isEmpty {
                items[0] = last
                var parent = 0
                let count = items.count
                while true {
                    let left = 2 * parent + 1
                    if left >= count { break }
                    var smallest = left
                    if left + 1 < count && items[left + 1] < items[left] { smallest = left + 1 }
                    if items[parent] <= items[smallest] { break }
                    items.swapAt(parent, smallest)
                    parent = smallest
                }
            }
            return (UInt32(first >> 32), UInt32(truncatingIfNeeded: first))
        }
    }
}

@inline(__always)
func utf8SequenceLength(_ lead: UInt8) -> Int {
    if lead < 0x80 { return 1 }
    if lead < 0xE0 { return 2 }
    if lead < 0xF0 { return 3 }
    return 4
}
