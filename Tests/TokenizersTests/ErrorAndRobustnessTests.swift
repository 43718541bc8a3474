import Foundation
import XCTest
@testable import Tokenizers

/// Unsupported or malformed tokenizer.json files fail with the JSON path of the culprit; bad input
/// never crashes; encoding is not quadratic in the word length.
final class ErrorAndRobustnessTests: XCTestCase {
    /// A tiny valid byte-level BPE: "a b" → "ab", "ab c" → "abc".
    private func minimalJSON() -> [String: Any] {
        var vocab: [String: Int] = [:]
        for (index, scalar) in ByteLevel.byteToScalar.enumerated() {
            vocab[String(Character(Unicode.Scalar(scalar)!))] = index
        }
        vocab["ab"] = 256
        vocab["abc"] = 257
        return [
            "version": "1.0",
            "added_tokens": [["id": 258, "content": "<eos>", "special": true, "normalized": false,
                              "lstrip": false, "rstrip": false, "single_word": false]],
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "post_processor": NSNull(),
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "vocab": vocab, "merges": ["a b", ["ab", "c"]]],
        ]
    }

    private func load(_ json: [String: Any]) throws -> BPETokenizer {
        try BPETokenizer(data: try JSONSerialization.data(withJSONObject: json))
    }

    private func assertError(_ json: [String: Any], mentions fragments: [String], file: StaticString = #filePath,
                             line: UInt = #line) {
        XCTAssertThrowsError(try load(json), file: file, line: line) { error in
            let message = "\(error)"
            for fragment in fragments {
                XCTAssertTrue(message.contains(fragment), "\(message.debugDescription) should mention \(fragment)",
                              file: file, line: line)
            }
        }
    }

    func testMinimalTokenizerMergesBothMergeForms() throws {
        let tokenizer = try load(minimalJSON())
        XCTAssertEqual(tokenizer.encode("abc ab<eos>"), [257, 32, 256, 258])  // byte 0x20 ("Ġ") has id 32 here
        XCTAssertEqual(tokenizer.decode([257, 32, 256, 258], skipSpecialTokens: true), "abc ab")
        XCTAssertEqual(tokenizer.vocabularySize, 259)
    }

    func testUnknownModelTypeNamesModelType() {
        var json = minimalJSON()
        var model = json["model"] as! [String: Any]
        model["type"] = "WordPiece"
        json["model"] = model
        assertError(json, mentions: ["model.type", "WordPiece", "BPE"])
    }

    func testUnknownPreTokenizerNamesItsPathInTheSequence() {
        var json = minimalJSON()
        json["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [
            ["type": "Split", "pattern": ["Regex": "\\s+"], "behavior": "Isolated", "invert": false],
            ["type": "Whitespace"],
        ]]
        assertError(json, mentions: ["pre_tokenizer.pretokenizers[1].type", "Whitespace"])
    }

    func testUnsupportedRegexConstructNamesThePattern() {
        var json = minimalJSON()
        json["pre_tokenizer"] = ["type": "Split", "pattern": ["Regex": "(?<=a)b"], "behavior": "Isolated"]
        assertError(json, mentions: ["pre_tokenizer.pattern.Regex", "lookbehind"])
    }

    func testUnknownSplitBehaviorNamesBehavior() {
        var json = minimalJSON()
        json["pre_tokenizer"] = ["type": "Split", "pattern": ["String": " "], "behavior": "Sideways"]
        assertError(json, mentions: ["pre_tokenizer.behavior", "Sideways"])
    }

    func testUnknownNormalizerDecoderAndPostProcessorNameTheirPaths() {
        var json = minimalJSON()
        json["normalizer"] = ["type": "Sequence", "normalizers": [["type": "NFC"], ["type": "Lowercase"]]]
        assertError(json, mentions: ["normalizer.normalizers[1].type", "Lowercase"])
        json = minimalJSON()
        json["decoder"] = ["type": "Metaspace"]
        assertError(json, mentions: ["decoder.type", "Metaspace"])
        json = minimalJSON()
        json["post_processor"] = ["type": "Mystery"]
        assertError(json, mentions: ["post_processor.type", "Mystery"])
    }

    func testMergeOfUnknownTokenNamesTheMerge() {
        var json = minimalJSON()
        var model = json["model"] as! [String: Any]
        model["merges"] = ["a b", "x zzz"]
        json["model"] = model
        assertError(json, mentions: ["model.merges[1]", "zzz"])
    }

    func testMalformedFieldsNameTheirPaths() {
        var json = minimalJSON()
        var model = json["model"] as! [String: Any]
        model["vocab"] = ["a", "b"]
        json["model"] = model
        assertError(json, mentions: ["model.vocab"])
        json = minimalJSON()
        json["added_tokens"] = [["id": 300]]
        assertError(json, mentions: ["added_tokens[0].content"])
    }

    func testNotJSONAndMissingFileAreErrors() {
        XCTAssertThrowsError(try BPETokenizer(data: Data("{\"model\": ".utf8), file: "broken.json")) { error in
            XCTAssertTrue("\(error)".contains("broken.json"))
        }
        XCTAssertThrowsError(try BPETokenizer(path: "/nonexistent/tokenizer.json")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/tokenizer.json"))
        }
    }

    func testInvalidUTF8InputIsReplacedNotCrashing() throws {
        let tokenizer = try Fixtures.tokenizer("deepseek")
        let bytes: [UInt8] = [0xFF, 0x41, 0xC3, 0xE2, 0x82, 0x20, 0xF0, 0x9F, 0x98, 0x80, 0xED, 0xA0, 0x80]
        let ids = tokenizer.encode(utf8: bytes)
        XCTAssertEqual(ids, tokenizer.encode(String(decoding: bytes, as: UTF8.self)))
        XCTAssertTrue(tokenizer.decode(ids).contains("\u{FFFD}"))
    }

    func testDecodingPartialCharactersAndUnknownIdsNeverCrashes() throws {
        let tokenizer = try Fixtures.tokenizer("deepseek")
        let ids = tokenizer.encode("😀")
        XCTAssertGreaterThan(ids.count, 0)
        // Half of an emoji's bytes: replacement characters, not a crash.
        let byteIDs = (0..<256).compactMap { tokenizer.id(forToken: String(Character(Unicode.Scalar(ByteLevel.byteToScalar[$0])!))) }
        XCTAssertEqual(byteIDs.count, 256)
        XCTAssertEqual(tokenizer.decode([byteIDs[0xF0], byteIDs[0x9F]]), "\u{FFFD}")
        XCTAssertEqual(tokenizer.decode([-1, 10_000_000, Int.max] + ids + [Int.min]), "😀")
    }

    func testLongWordsEncodeInNearLinearTime() throws {
        let tokenizer = try Fixtures.tokenizer("deepseek")
        var generator = SystemRandomNumberGenerator()
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let word = String((0..<100_000).map { _ in letters[Int(generator.next() % 26)] })
        let start = Date()
        let ids = tokenizer.encode(word)
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(tokenizer.decode(ids), word)
        // A quadratic merge would need ~10^10 steps here; the heap needs ~10^6.
        XCTAssertLessThan(seconds, 10, "100,000-letter word took \(seconds) s")
        // A long run of one character and a long run of spaces.
        XCTAssertEqual(tokenizer.decode(tokenizer.encode(String(repeating: "a", count: 50_000))),
                       String(repeating: "a", count: 50_000))
        let spaces = String(repeating: " ", count: 50_000) + "x"
        XCTAssertEqual(tokenizer.decode(tokenizer.encode(spaces)), spaces)
    }

    func testConcurrentEncodingGivesTheSameIds() throws {
        let tokenizer = try Fixtures.tokenizer("qwen2")
        let texts = try Fixtures.expected("qwen2").cases.map(\.text)
        let reference = texts.map { tokenizer.encode($0) }
        let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 4)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            var same = true
            for (index, text) in texts.enumerated().reversed() where index % 4 == worker || worker == 0 {
                same = same && tokenizer.encode(text) == reference[index]
            }
            results[worker] = same
        }
        XCTAssertEqual(Array(results), [true, true, true, true])
    }
}
