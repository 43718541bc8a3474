/// A tokenizer for synthetic tasks (arithmetic, countdown, copying): one id per Unicode scalar of
/// a fixed alphabet, or one id per UTF-8 byte, after a few special tokens.
///
/// Ids: the special tokens first (by default `<pad>`=0, `<bos>`=1, `<eos>`=2, `<unk>`=3), then the
/// alphabet in order (or the 256 byte values). Special tokens written in the text are matched
/// (longest first) before single characters. `addSpecialTokens` prepends `<bos>` if there is one.
public struct CharacterTokenizer: Tokenizer {
    public enum Units: Sendable, Equatable {
        /// One token per scalar of this alphabet (duplicates are ignored).
        case scalars([Unicode.Scalar])
        /// One token per byte of the UTF-8 encoding: every text is representable.
        case bytes
    }

    public static let defaultSpecialTokens = ["<pad>", "<bos>", "<eos>", "<unk>"]

    public let units: Units
    public let specialTokenContents: [String]
    public let specialTokens: SpecialTokens
    public let vocabularySize: Int
    private let scalarIDs: [UInt32: Int]
    private let idScalars: [Unicode.Scalar]
    private let specialByContent: [String: Int]
    /// Special tokens sorted longest first, as UTF-8, for matching in text.
    private let specialPatterns: [([UInt8], Int)]

    /// A tokenizer over the scalars of `alphabet` (e.g. `"0123456789+-*/= "`).
    public init(alphabet: String, specialTokens: [String] = CharacterTokenizer.defaultSpecialTokens) {
        var seen = Set<UInt32>()
        var scalars: [Unicode.Scalar] = []
        for scalar in alphabet.unicodeScalars where seen.insert(scalar.value).inserted { scalars.append(scalar) }
        self.init(units: .scalars(scalars), specialTokens: specialTokens)
    }

    /// A byte-level tokenizer: ids `specialTokens.count ..< specialTokens.count + 256` are bytes.
    public static func bytes(specialTokens: [String] = CharacterTokenizer.defaultSpecialTokens) -> CharacterTokenizer {
        CharacterTokenizer(units: .bytes, specialTokens: specialTokens)
    }

    public init(units: Units, specialTokens: [String]) {
        self.units = units
        var contents: [String] = []
        for token in specialTokens where !token.isEmpty && !contents.contains(token) { contents.append(token) }
        specialTokenContents = contents
        var byContent: [String: Int] = [:]
        for (id, token) in contents.enumerated() { byContent[token] = id }
        specialByContent = byContent
        specialPatterns = contents.enumerated().map { (Array($0.element.utf8), $0.offset) }
            .sorted { $0.0.count > $1.0.count }
        var ids: [UInt32: Int] = [:]
        switch units {
        case let .scalars(scalars):
            idScalars = scalars
            for (index, scalar) in scalars.enumerated() { ids[scalar.value] = contents.count + index }
            vocabularySize = contents.count + scalars.count
        case .bytes:
            idScalars = []
            vocabularySize = contents.count + 256
        }
        scalarIDs = ids
        func entry(_ name: String) -> SpecialTokens.Entry? {
            byContent[name].map { SpecialTokens.Entry(content: name, id: $0) }
        }
        self.specialTokens = SpecialTokens(bos: entry("<bos>"), eos: entry("<eos>"), pad: entry("<pad>"),
                                           unk: entry("<unk>"), specialIDs: Set(0..<contents.count))
    }

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        var ids: [Int] = []
        if addSpecialTokens, let bos = specialTokens.bos { ids.append(bos.id) }
        let utf8 = Array(text.utf8)
        var index = 0
        outer: while index < utf8.count {
            for (pattern, id) in specialPatterns where utf8.count - index >= pattern.count {
                if utf8[index..<index + pattern.count].elementsEqual(pattern) {
                    ids.append(id)
                    index += pattern.count
                    continue outer
                }
            }
            switch units {
            case .bytes:
                ids.append(specialTokenContents.count + Int(utf8[index]))
                index += 1
            case .scalars:
                let (scalar, length) = utf8.withUnsafeBufferPointer {
                    AddedTokenMatcher.scalar(startingAt: index, in: $0, upper: $0.count)
                }
                if let id = scalarIDs[scalar] {
                    ids.append(id)
                } else if let unk = specialTokens.unk {
                    ids.append(unk.id)
                }
                index += length
            }
        }
        return ids
    }

    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        var bytes: [UInt8] = []
        let specialCount = specialTokenContents.count
        for id in ids {
            if id >= 0 && id < specialCount {
                if !skipSpecialTokens { bytes += Array(specialTokenContents[id].utf8) }
                continue
            }
            let unit = id - specialCount
            switch units {
            case .bytes:
                if unit >= 0 && unit < 256 { bytes.append(UInt8(unit)) }
            case .scalars:
                if unit >= 0 && unit < idScalars.count { appendUTF8(idScalars[unit].value, to: &bytes) }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func id(forToken token: String) -> Int? {
        if let id = specialByContent[token] { return id }
        switch units {
        case .bytes:
            let utf8 = Array(token.utf8)
            return utf8.count == 1 ? specialTokenContents.count + Int(utf8[0]) : nil
        case .scalars:
            let scalars = Array(token.unicodeScalars)
            return scalars.count == 1 ? scalarIDs[scalars[0].value] : nil
        }
    }

    public func token(forID id: Int) -> String? {
        if id >= 0 && id < specialTokenContents.count { return specialTokenContents[id] }
        let unit = id - specialTokenContents.count
        switch units {
        case .bytes:
            guard unit >= 0 && unit < 256 else { return nil }
            return String(decoding: [UInt8(unit)], as: UTF8.self)
        case .scalars:
            guard unit >= 0 && unit < idScalars.count else { return nil }
            return String(idScalars[unit])
        }
    }
}
