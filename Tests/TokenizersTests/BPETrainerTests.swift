import Foundation
import XCTest
@testable import Tokenizers

final class BPETrainerTests: XCTestCase {
    static let documents: [String] = (0..<300).map { index in
        let a = index * 7 % 100, b = index * 13 % 50
        return index % 3 == 0 ? "What is \(a) + \(b)? The answer is \(a + b)."
            : "The answer is \(a + b).\nWrite the answer between <answer> and </answer>.<eos>"
    }

    private func trainedTokenizer(vocabularySize: Int = 3 + 256 + 100, documents: [String] = documents) throws
        -> (TrainedBPE, BPETokenizer) {
        let trained = try BPETrainer(vocabularySize: vocabularySize).train(on: documents)
        return (trained, try BPETokenizer(data: try trained.tokenizerJSON()))
    }

    func testTrainedFileLoadsAndRoundTripsAnyText() throws {
        let (trained, tokenizer) = try trainedTokenizer()
        XCTAssertEqual(tokenizer.vocabularySize, trained.vocabularySize)
        XCTAssertGreaterThan(trained.vocabularySize, 3 + 256)  // the corpus runs out of pairs seen twice before 100 merges
        let texts = ["", " ", "What is 12 + 7? The answer is 19.", "héllo wörld 😀 中文 👨‍👩‍👧\n\n\ttabs  and   spaces  ",
                     "never seen: \u{7}\u{1B}~^`|\u{AD}\r\n", "x<eos>y<bos> <pad>", "SHE'S I'LL 'Re", "e\u{301} vs é"]
        for text in texts {
            XCTAssertEqual(tokenizer.decode(tokenizer.encode(text)), text, text.debugDescription)
        }
        XCTAssertEqual(tokenizer.encode("<bos>"), [2])
        XCTAssertEqual(tokenizer.encode("<eos>"), [1])
    }

    func testFrequentWordsBecomeSingleTokensAndShortenTheText() throws {
        let (_, tokenizer) = try trainedTokenizer()
        XCTAssertEqual(tokenizer.encode(" answer").count, 1)
        XCTAssertEqual(tokenizer.encode("What").count, 1)
        let text = "The answer is 42.\nWrite the answer between <answer> and </answer>."
        XCTAssertLessThan(tokenizer.encode(text).count, text.utf8.count / 2)
    }

    func testDigitsStaySingleTokens() throws {
        let numbers = (0..<500).map { "\($0 * 37 % 1000) + 1234 = \($0 * 37 % 1000 + 1234)" }
        let (trained, tokenizer) = try trainedTokenizer(documents: numbers)
        XCTAssertGreaterThan(trained.merges.count, 0)
        for bytes in trained.tokenBytes where bytes.count > 1 {
            XCTAssertFalse(bytes.contains { (0x30...0x39).contains($0) }, "token \(bytes) holds a digit")
        }
        XCTAssertEqual(tokenizer.encode("1234").map { tokenizer.token(forID: $0)! }, ["1", "2", "3", "4"])
    }

    func testWithoutMergesIdsEqualByteLevelVocabulary() throws {
        let (trained, tokenizer) = try trainedTokenizer(vocabularySize: 3 + 256)
        XCTAssertTrue(trained.merges.isEmpty)
        let bytes = try BPETokenizer(data: try ByteLevelVocabulary.tokenizerJSON())
        XCTAssertEqual(tokenizer.vocabularySize, bytes.vocabularySize)
        for id in 0..<bytes.vocabularySize { XCTAssertEqual(tokenizer.token(forID: id), bytes.token(forID: id)) }
        for text in ["What is 12 + 7?\n<eos>", "héllo 😀 \u{7}", ""] {
            XCTAssertEqual(tokenizer.encode(text), bytes.encode(text))
        }
    }

    func testTooSmallVocabularyThrowsNamingTheSizes() {
        XCTAssertThrowsError(try BPETrainer(vocabularySize: 258)) { error in
            XCTAssertEqual(error as? BPETrainerError,
                           .vocabularyTooSmall(vocabularySize: 258, minimum: 259, specialTokenCount: 3))
            XCTAssertEqual("\(error)", "BPE vocabulary size 258 is too small: expected at least 259 (3 special tokens + 256 bytes)")
        }
        XCTAssertNoThrow(try BPETrainer(vocabularySize: 256, specialTokens: []))
    }

    func testInvalidMinimumFrequencyAndSpecialTokensThrow() {
        XCTAssertThrowsError(try BPETrainer(vocabularySize: 1000, minimumFrequency: 0)) { error in
            XCTAssertEqual(error as? BPETrainerError, .minimumFrequencyBelowOne(0))
        }
        for specials in [["<eos>", "<eos>"], [""], ["a"], ["Ġ"]] {
            XCTAssertThrowsError(try BPETrainer(vocabularySize: 1000, specialTokens: specials), "\(specials)")
        }
    }

    /// " x" is written "Ġx" in the vocabulary, the name of a special token here, so that merge is skipped.
    func testMergeNamedLikeASpecialTokenIsSkipped() throws {
        let trained = try BPETrainer(vocabularySize: 1000, specialTokens: ["Ġx"]).train(on: [" x x x y y"])
        XCTAssertEqual(trained.merges.map { String(decoding: $0.left + $0.right, as: UTF8.self) }, [" y"])
        let tokenizer = try BPETokenizer(data: try trained.tokenizerJSON())
        // As `tokenizers` encodes it: " ", "x", " ", then the special token.
        XCTAssertEqual(tokenizer.encode(" x Ġx"), [1 + 0x20, 1 + 0x78, 1 + 0x20, 0])
        XCTAssertEqual(tokenizer.decode(tokenizer.encode(" x y")), " x y")
    }

    func testSameDocumentsGiveTheSameFileByteForByte() throws {
        let first = try BPETrainer(vocabularySize: 400).train(on: Self.documents).tokenizerJSON()
        let second = try BPETrainer(vocabularySize: 400).train(on: Self.documents).tokenizerJSON()
        XCTAssertEqual(first, second)
    }

    /// "ab ab abc" and "ab" pre-tokenize to "ab" ×2, " ab", " abc": (a,b) occurs 4 times, then (" ", ab) twice,
    /// then (" ab", c) once, below the minimum frequency of 2.
    func testMergesFollowHandWorkedExample() throws {
        let trained = try BPETrainer(vocabularySize: 1000).train(on: ["ab ab abc", "ab"])
        XCTAssertEqual(trained.merges.map { [$0.left, $0.right] }, [[Array("a".utf8), Array("b".utf8)],
                                                                     [Array(" ".utf8), Array("ab".utf8)]])
        XCTAssertEqual(trained.vocabulary["ab"], 3 + 256)
        XCTAssertEqual(trained.vocabulary["Ġab"], 3 + 256 + 1)
        let withSingles = try BPETrainer(vocabularySize: 1000, minimumFrequency: 1).train(on: ["ab ab abc", "ab"])
        XCTAssertEqual(withSingles.merges.count, 3)
        XCTAssertEqual(withSingles.tokenBytes.last, Array(" abc".utf8))
    }

    /// "xy yx": (x,y), (" ",y) and (y,x) occur once each; the smallest left bytes go first (" " < "x" < "y").
    func testTiesGoToTheSmallestBytesAndVocabularySizeStopsTraining() throws {
        let trained = try BPETrainer(vocabularySize: 1000, minimumFrequency: 1).train(on: ["xy yx"])
        XCTAssertEqual(trained.merges.map { String(decoding: $0.left, as: UTF8.self) + "|" + String(decoding: $0.right, as: UTF8.self) },
                       [" |y", " y|x", "x|y"])
        let stopped = try BPETrainer(vocabularySize: 3 + 256 + 2, minimumFrequency: 1).train(on: ["xy yx"])
        XCTAssertEqual(stopped.merges.count, 2)
        XCTAssertEqual(stopped.vocabularySize, 3 + 256 + 2)
    }

    // MARK: Against Tests/Fixtures/bpe-trainer (make_bpe_trainer_fixture.py)

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/bpe-trainer")

    private func fixture(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent(name))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private func trainOnFixtureCorpus() throws -> TrainedBPE {
        let corpus = try fixture("corpus.json")
        return try BPETrainer(vocabularySize: corpus["vocabulary_size"] as! Int,
                              specialTokens: corpus["special_tokens"] as! [String],
                              minimumFrequency: corpus["minimum_frequency"] as! Int)
            .train(on: corpus["documents"] as! [String])
    }

    func testMergesMatchPythonReferenceTrainer() throws {
        let trained = try trainOnFixtureCorpus()
        let expected = try fixture("expected.json")["merges"] as! [[String]]
        let merges = trained.merges.map { [ByteLevelVocabulary.token(bytes: $0.left), ByteLevelVocabulary.token(bytes: $0.right)] }
        XCTAssertEqual(merges, expected)
    }

    func testTrainedFileEncodesAsTokenizersLibraryDoes() throws {
        let trained = try trainOnFixtureCorpus()
        let ours = try BPETokenizer(data: try trained.tokenizerJSON())
        let savedByPython = try BPETokenizer(path: Self.fixtures.appendingPathComponent("tokenizer.json").path)
        XCTAssertEqual(ours.vocabularySize, savedByPython.vocabularySize)
        for case let item as [String: Any] in try fixture("expected.json")["cases"] as! [Any] {
            let text = item["text"] as! String
            XCTAssertEqual(ours.encode(text), item["ids"] as! [Int], text.debugDescription)
            XCTAssertEqual(savedByPython.encode(text), item["ids"] as! [Int], text.debugDescription)
            XCTAssertEqual(ours.decode(item["ids"] as! [Int]), item["decoded"] as! String)
        }
    }

    func testSpacedWordsSpellNamesInMarkupLetterByLetter() throws {
        let documents = (0..<200).map { "Reply inside <answer> </answer> and <note> </note>, then answer the question \($0)." }
        let trained = try BPETrainer(vocabularySize: 3 + 256 + 200, pattern: BPETrainer.spacedWordsPattern).train(on: documents)
        let tokenizer = try BPETokenizer(data: try trained.tokenizerJSON())
        // After a space "answer" is one token; inside markup it is spelled, like any name the model never saw.
        XCTAssertEqual(tokenizer.encode(" answer").count, 1)
        XCTAssertEqual(tokenizer.encode("<answer>").count, 1 + 6 + 1)
        XCTAssertEqual(tokenizer.encode("<qwhvz>").count, 1 + 5 + 1)
        for text in ["<answer> 12 </answer>", "A\nB cd <x>y</x>", "héllo 😀"] {
            XCTAssertEqual(tokenizer.decode(tokenizer.encode(text)), text)
        }
        // Qwen2's pattern merges inside the name.
        let qwen2 = try BPETokenizer(data: try BPETrainer(vocabularySize: 3 + 256 + 200).train(on: documents).tokenizerJSON())
        XCTAssertLessThan(qwen2.encode("<answer>").count, 8)
    }

    func testAnUnsupportedPatternThrows() {
        XCTAssertThrowsError(try BPETrainer(vocabularySize: 300, pattern: "(unclosed")) { error in
            XCTAssertTrue("\(error)".hasPrefix("pre-tokenizer pattern \"(unclosed\" is not a supported regex"), "\(error)")
        }
    }
}
