import Foundation

/// A byte-level tokenizer with no merges, written as a Hugging Face `tokenizer.json`: the special tokens
/// take ids 0 ..< n, then the 256 bytes in byte order. Every text encodes (one token per byte), and the
/// `tokenizers` library loads the file as the same tokenizer. For small models trained from scratch.
public enum ByteLevelVocabulary {
    public static func tokenizerJSON(specialTokens: [String] = ["<pad>", "<eos>", "<bos>"]) throws -> Data {
        var vocabulary: [String: Int] = [:]
        for (id, token) in specialTokens.enumerated() { vocabulary[token] = id }
        for byte in 0..<256 { vocabulary[byteToken(UInt8(byte))] = specialTokens.count + byte }
        let json: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": addedTokensJSON(specialTokens),
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false],
            "post_processor": NSNull(),
            "decoder": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                      "vocab": vocabulary, "merges": [String]()],
        ]
        return try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
    }

    /// The vocabulary entry of one byte: the character `ByteLevel.byteToScalar` maps it to.
    static func byteToken(_ byte: UInt8) -> String {
        String(Character(Unicode.Scalar(ByteLevel.byteToScalar[Int(byte)])!))
    }

    /// The vocabulary entry of a token of raw bytes: their byte-level characters.
    static func token(bytes: [UInt8]) -> String {
        String(decoding: ByteLevel.encode(bytes), as: UTF8.self)
    }

    /// `added_tokens`: the special tokens with ids 0 ..< n, matched in the raw text.
    static func addedTokensJSON(_ specialTokens: [String]) -> [[String: Any]] {
        specialTokens.enumerated().map { id, token in
            ["id": id, "content": token, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true]
        }
    }

    /// `tokenizer_config.json` naming the special tokens, as `transformers` reads it.
    public static func tokenizerConfigJSON(bos: String = "<bos>", eos: String = "<eos>", pad: String = "<pad>") throws -> Data {
        try JSONSerialization.data(withJSONObject: ["bos_token": bos, "eos_token": eos, "pad_token": pad,
                                                    "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 1_000_000],
                                   options: [.prettyPrinted, .sortedKeys])
    }
}
