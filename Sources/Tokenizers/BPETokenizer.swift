import Foundation

/// A byte-level BPE tokenizer loaded from a Hugging Face `tokenizer.json`, giving exactly the ids of
/// the `tokenizers` library (Qwen2/Qwen2.5, Llama 3, DeepSeek, GPT-2 and similar files).
///
/// Encoding follows `TokenizerImpl::encode`: added tokens are cut out of the raw text, the rest
/// is normalized, normalized added tokens are cut out, the pre-tokenizer splits what remains,
/// the BPE model encodes each piece, and the post-processor adds e.g. a BOS on request.
public final class BPETokenizer: Tokenizer, @unchecked Sendable {
    let model: BPEModel
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let postProcessor: PostProcessor?
    let decoder: Decoder?
    let rawMatcher: AddedTokenMatcher
    let normalizedMatcher: AddedTokenMatcher
    let addedTokens: [AddedToken]
    private let addedByID: [Int: AddedToken]
    private let addedByContent: [String: Int]
    private let specialContents: Set<String>
    public private(set) var specialTokens: SpecialTokens
    public let vocabularySize: Int

    /// Pieces go to the model as raw bytes (the pre-tokenizer ends with `ByteLevel`).
    private let rawBytePieces: Bool
    /// The pre-tokenizer ends with `ByteLevel` but the model needs the byte-level string itself
    /// (it adds a continuing-subword prefix or end-of-word suffix to characters).
    private let mapPiecesToByteLevel: Bool

    // MARK: Loading

    /// Loads `tokenizer.json`, or a model directory holding `tokenizer.json` and optionally
    /// `tokenizer_config.json` (for `bos_token`, `eos_token`, `pad_token`, `unk_token`).
    public convenience init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TokenizerError.unreadable(file: path, reason: "no such file or directory")
        }
        if isDirectory.boolValue {
            let directory = URL(fileURLWithPath: path)
            let file = directory.appendingPathComponent("tokenizer.json")
            let data = try BPETokenizer.read(file.path)
            try self.init(data: data, file: file.path)
            let configFile = directory.appendingPathComponent("tokenizer_config.json")
            if FileManager.default.fileExists(atPath: configFile.path) {
                try applyConfig(data: try BPETokenizer.read(configFile.path), file: configFile.path)
            }
        } else {
            try self.init(data: try BPETokenizer.read(path), file: path)
        }
    }

    private static func read(_ path: String) throws -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TokenizerError.unreadable(file: path, reason: error.localizedDescription)
        }
    }

    /// Parses the contents of a `tokenizer.json`; `file` names it in error messages.
    public init(data: Data, file: String = "tokenizer.json") throws {
        let root = try JSONNode.parse(data: data, file: file)
        _ = try root.object()
        do {
            let modelNode = root["model"]
            let modelType = try modelNode["type"].optionalString() ?? (modelNode["merges"].isNull ? nil : "BPE")
            guard modelType == "BPE" else {
                throw TokenizerError.unsupported(path: modelNode["type"].displayPath,
                                                 found: "model type \((modelType ?? "missing").debugDescription)",
                                                 supported: "BPE")
            }
            model = try BPEModel(json: modelNode)
            normalizer = root["normalizer"].isNull ? nil : try Normalizer(json: root["normalizer"])
            preTokenizer = root["pre_tokenizer"].isNull ? nil : try PreTokenizer(json: root["pre_tokenizer"])
            postProcessor = root["post_processor"].isNull ? nil : try PostProcessor(json: root["post_processor"])
            decoder = root["decoder"].isNull ? nil : try Decoder(json: root["decoder"])
            if !root["truncation"].isNull {
                throw TokenizerError.unsupported(path: "truncation", found: "truncation settings", supported: "null")
            }
            if !root["padding"].isNull {
                throw TokenizerError.unsupported(path: "padding", found: "padding settings", supported: "null")
            }

            var added: [AddedToken] = []
            for entry in try root["added_tokens"].optionalArray() ?? [] {
                added.append(AddedToken(
                    id: try entry["id"].int(),
                    content: try entry["content"].string(),
                    singleWord: try entry["single_word"].bool(default: false),
                    leftStrip: try entry["lstrip"].bool(default: false),
                    rightStrip: try entry["rstrip"].bool(default: false),
                    normalized: try entry["normalized"].bool(default: true),
                    special: try entry["special"].bool(default: false)))
            }
            addedTokens = added
        }

        var byID: [Int: AddedToken] = [:]
        var byContent: [String: Int] = [:]
        for token in addedTokens {
            byID[token.id] = token
            byContent[token.content] = token.id
        }
        addedByID = byID
        addedByContent = byContent
        specialContents = Set(addedTokens.filter(\.special).map(\.content))

        // Special tokens first, then the others, as `refresh_added_tokens` orders them.
        let ordered = addedTokens.filter(\.special) + addedTokens.filter { !$0.special }
        rawMatcher = AddedTokenMatcher(ordered.filter { !$0.normalized }.map { (Array($0.content.utf8), $0) })
        let normalizerForTokens = normalizer
        normalizedMatcher = AddedTokenMatcher(ordered.filter(\.normalized).map { token in
            let pattern = normalizerForTokens.map { $0.normalize(Array(token.content.utf8)) } ?? Array(token.content.utf8)
            return (pattern, token)
        })

        let endsWithByteLevel = preTokenizer?.endsWithByteLevel ?? false
        rawBytePieces = endsWithByteLevel && model.supportsRawBytePieces
        mapPiecesToByteLevel = endsWithByteLevel && !model.supportsRawBytePieces

        // get_vocab_size(with_added_tokens=True): the model's vocabulary plus added tokens not in it.
        var extra = Set<String>()
        for token in addedTokens where model.id(for: token.content) == nil { extra.insert(token.content) }
        vocabularySize = model.vocabularyCount + extra.count

        var specials = SpecialTokens(specialIDs: Set(addedTokens.filter(\.special).map(\.id)))
        if let unknown = model.unknownToken, let id = model.unknownID {
            specials.unk = SpecialTokens.Entry(content: unknown, id: id)
        }
        // Without tokenizer_config.json, a template that starts with one special token names the BOS.
        if case let .special(ids)? = postProcessor?.template?.first, ids.count == 1,
           let content = addedByID[ids[0]]?.content ?? model.token(for: ids[0]) {
            specials.bos = SpecialTokens.Entry(content: content, id: ids[0])
        }
        specialTokens = specials
    }

    /// Reads bos/eos/pad/unk from a `tokenizer_config.json` (strings or `{"content": ...}` objects).
    private func applyConfig(data: Data, file: String) throws {
        let root = try JSONNode.parse(data: data, file: file)
        func entry(_ key: String) throws -> SpecialTokens.Entry? {
            let node = root[key]
            if node.isNull { return nil }
            let content: String
            if let string = node.value as? String {
                content = string
            } else if let string = node["content"].value as? String {
                content = string
            } else {
                throw TokenizerError.malformed(path: "\(file): \(key)", expected: "a string or {\"content\": ...}")
            }
            guard let id = id(forToken: content) else {
                throw TokenizerError.malformed(path: "\(file): \(key)",
                                               expected: "a token of the vocabulary (\(content.debugDescription) is not)")
            }
            return SpecialTokens.Entry(content: content, id: id)
        }
        if let bos = try entry("bos_token") { specialTokens.bos = bos }
        if let eos = try entry("eos_token") { specialTokens.eos = eos }
        if let pad = try entry("pad_token") { specialTokens.pad = pad }
        if let unk = try entry("unk_token") { specialTokens.unk = unk }
    }

    /// Sets the well-known special tokens by content (for files without `tokenizer_config.json`).
    public func setSpecialTokens(bos: String? = nil, eos: String? = nil, pad: String? = nil) throws {
        func entry(_ content: String?) throws -> SpecialTokens.Entry? {
            guard let content else { return nil }
            guard let id = id(forToken: content) else {
                throw TokenizerError.invalidInput("\(content.debugDescription) is not a token of this vocabulary")
            }
            return SpecialTokens.Entry(content: content, id: id)
        }
        if let bos = try entry(bos) { specialTokens.bos = bos }
        if let eos = try entry(eos) { specialTokens.eos = eos }
        if let pad = try entry(pad) { specialTokens.pad = pad }
    }

    // MARK: Vocabulary

    public func id(forToken token: String) -> Int? {
        addedByContent[token] ?? model.id(for: token)
    }

    public func token(forID id: Int) -> String? {
        addedByID[id]?.content ?? model.token(for: id)
    }

    // MARK: Encoding

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        let utf8 = Array(text.utf8)
        var ids: [Int] = []
        ids.reserveCapacity(utf8.count / 3 + 4)
        var scratch = Scratch()
        utf8.withUnsafeBufferPointer { text in
            for segment in rawMatcher.segments(text, range: 0..<text.count) {
                switch segment {
                case let .token(id):
                    ids.append(id)
                case let .text(range):
                    encodeUnmatched(text, range: range, into: &ids, scratch: &scratch)
                }
            }
        }
        if addSpecialTokens, let postProcessor { return postProcessor.process(ids) }
        return ids
    }

    /// Encodes UTF-8 bytes; invalid sequences are replaced by U+FFFD first (never a crash).
    public func encode(utf8 bytes: [UInt8], addSpecialTokens: Bool = false) -> [Int] {
        encode(String(decoding: bytes, as: UTF8.self), addSpecialTokens: addSpecialTokens)
    }

    private struct Scratch {
        var arena: [UInt32] = []
        var piece: [UInt8] = []
        var preTokenizer = PreTokenizer.Scratch()
    }

    /// A stretch of raw text with no raw-matched added token: normalize, then cut out normalized
    /// added tokens, then pre-tokenize and encode.
    private func encodeUnmatched(_ text: UnsafeBufferPointer<UInt8>, range: Range<Int>, into ids: inout [Int],
                                 scratch: inout Scratch) {
        if range.isEmpty { return }
        if let normalizer, !normalizer.isIdentity {
            let normalized = normalizer.normalize(Array(text[range]))
            normalized.withUnsafeBufferPointer { buffer in
                encodeNormalized(buffer, range: 0..<buffer.count, into: &ids, scratch: &scratch)
            }
        } else {
            encodeNormalized(text, range: range, into: &ids, scratch: &scratch)
        }
    }

    private func encodeNormalized(_ text: UnsafeBufferPointer<UInt8>, range: Range<Int>, into ids: inout [Int],
                                  scratch: inout Scratch) {
        if normalizedMatcher.isEmpty {
            encodePreTokenized(text, range: range, into: &ids, scratch: &scratch)
            return
        }
        for segment in normalizedMatcher.segments(text, range: range) {
            switch segment {
            case let .token(id): ids.append(id)
            case let .text(subrange): encodePreTokenized(text, range: subrange, into: &ids, scratch: &scratch)
            }
        }
    }

    private func encodePreTokenized(_ text: UnsafeBufferPointer<UInt8>, range: Range<Int>, into ids: inout [Int],
                                    scratch: inout Scratch) {
        if range.isEmpty { return }
        guard let preTokenizer else {
            model.tokenize(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(text)[range]), rawBytes: false, into: &ids)
            return
        }
        scratch.arena.removeAll(keepingCapacity: true)
        decodeScalars(text, range: range, into: &scratch.arena)
        preTokenizer.apply(arena: &scratch.arena, piece: 0..<scratch.arena.count, scratch: &scratch.preTokenizer)
        for piece in scratch.preTokenizer.current {
            scratch.piece.removeAll(keepingCapacity: true)
            for index in piece { appendUTF8(scratch.arena[index], to: &scratch.piece) }
            if mapPiecesToByteLevel { scratch.piece = ByteLevel.encode(scratch.piece) }
            scratch.piece.withUnsafeBytes { bytes in
                model.tokenize(bytes, rawBytes: rawBytePieces, into: &ids)
            }
        }
    }

    /// Valid UTF-8 → scalar values.
    private func decodeScalars(_ text: UnsafeBufferPointer<UInt8>, range: Range<Int>, into output: inout [UInt32]) {
        var index = range.lowerBound
        while index < range.upperBound {
            let (scalar, length) = AddedTokenMatcher.scalar(startingAt: index, in: text, upper: range.upperBound)
            output.append(scalar)
            index += length
        }
    }

    // MARK: Decoding

    public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            guard let token = token(forID: id) else { continue }
            if skipSpecialTokens && specialContents.contains(token) { continue }
            tokens.append(token)
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decode(tokens)
    }
}
