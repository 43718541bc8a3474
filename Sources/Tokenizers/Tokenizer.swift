/// Text ↔ token ids. Implemented by `BPETokenizer` (Hugging Face `tokenizer.json`) and
/// `CharacterTokenizer` (synthetic tasks).
public protocol Tokenizer: Sendable {
    /// Number of distinct ids, added tokens included (`get_vocab_size(with_added_tokens=True)`).
    var vocabularySize: Int { get }
    /// BOS/EOS/PAD/UNK and every special token.
    var specialTokens: SpecialTokens { get }
    /// Token ids for `text`. `addSpecialTokens` applies the post-processor (e.g. a BOS), as
    /// `encode(text, add_special_tokens=True)` does in `tokenizers`.
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int]
    /// Text for `ids`; ids outside the vocabulary are skipped, invalid UTF-8 becomes U+FFFD.
    func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String
    func id(forToken token: String) -> Int?
    func token(forID id: Int) -> String?
}

extension Tokenizer {
    /// Token ids for `text`, without a BOS or other post-processor tokens.
    public func encode(_ text: String) -> [Int] { encode(text, addSpecialTokens: false) }
    /// Text for `ids`, special tokens included.
    public func decode(_ ids: [Int]) -> String { decode(ids, skipSpecialTokens: false) }
}

/// The well-known special tokens of a tokenizer.
public struct SpecialTokens: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var content: String
        public var id: Int
        public init(content: String, id: Int) {
            self.content = content
            self.id = id
        }
    }

    public var bos: Entry?
    public var eos: Entry?
    public var pad: Entry?
    public var unk: Entry?
    /// Ids of all tokens marked special (skipped by `decode(_:skipSpecialTokens: true)`).
    public var specialIDs: Set<Int>

    public init(bos: Entry? = nil, eos: Entry? = nil, pad: Entry? = nil, unk: Entry? = nil,
                specialIDs: Set<Int> = []) {
        self.bos = bos
        self.eos = eos
        self.pad = pad
        self.unk = unk
        self.specialIDs = specialIDs
    }
}

/// Loads the tokenizer of a model: a `tokenizer.json` file, or a directory holding one (and
/// optionally `tokenizer_config.json` for bos/eos/pad).
public func loadTokenizer(path: String) throws -> any Tokenizer {
    try BPETokenizer(path: path)
}
