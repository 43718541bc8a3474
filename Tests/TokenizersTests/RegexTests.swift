import XCTest
@testable import Tokenizers

/// The regex engine follows Oniguruma (what `tokenizers` uses); expectations below were checked
/// against `tokenizers.pre_tokenizers.Split` with the same patterns.
final class RegexTests: XCTestCase {
    func testGPT2PatternSplitsSpacesBeforeWords() throws {
        let regex = try TokenizerRegex(ByteLevel.gpt2Pattern)
        XCTAssertEqual(regex.matches(in: "Hello   world's 42!!"), ["Hello", "  ", " world", "'s", " 42", "!!"])
        XCTAssertEqual(regex.matches(in: "a \n\n b"), ["a", " \n\n", " b"])
    }

    func testCaseInsensitiveContractionsFoldLongS() throws {
        let regex = try TokenizerRegex("(?i:'s)")
        XCTAssertEqual(regex.matches(in: "a'S b'ſ c'K 's"), ["'S", "'ſ", "'s"])
    }

    func testCountedRepetitionTakesAtMostThreeDigits() throws {
        XCTAssertEqual(try TokenizerRegex("\\p{N}{1,3}").matches(in: "12345 6"), ["123", "45", "6"])
        XCTAssertEqual(try TokenizerRegex("a{2}").matches(in: "aaaaa"), ["aa", "aa"])
        XCTAssertEqual(try TokenizerRegex("x{,2}y").matches(in: "xxxy"), ["xxy"])
    }

    func testEmptyMatchesFollowOnigurumaFindIter() throws {
        XCTAssertEqual(try TokenizerRegex("x*").matches(in: "abxxc"), ["", "", "xx", ""])
    }

    func testLazyQuantifiersAndLookahead() throws {
        XCTAssertEqual(try TokenizerRegex("a+?").matches(in: "aaa"), ["a", "a", "a"])
        XCTAssertEqual(try TokenizerRegex("\\s+(?!\\S)").matches(in: "a   b"), ["  "])
        XCTAssertEqual(try TokenizerRegex("\\w+(?=!)").matches(in: "hi! yo"), ["hi"])
    }

    func testClassesWithRangesEscapesAndNegation() throws {
        XCTAssertEqual(try TokenizerRegex("[^\\r\\n\\p{L}\\p{N}]?\\p{L}+").matches(in: "$abc,def\nghi"), ["$abc", ",def", "ghi"])
        XCTAssertEqual(try TokenizerRegex("[一-龥]+").matches(in: "ab中文c"), ["中文"])
        XCTAssertEqual(try TokenizerRegex("[\\-\\]a]+").matches(in: "x-]ay"), ["-]a"])
        XCTAssertEqual(try TokenizerRegex("\\x{1F600}|\\u0041").matches(in: "A😀B"), ["A", "😀"])
    }

    func testLiteralPatternEscapesMetacharacters() throws {
        XCTAssertEqual(try TokenizerRegex(literal: "a.b*").matches(in: "a.b* axbb"), ["a.b*"])
    }

    /// Random patterns from regex metacharacters either compile or throw, and compiled ones match
    /// random text without trapping (seeded, so a failure reproduces).
    func testRandomPatternsNeverCrashTheParserOrMatcher() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let alphabet = Array("ab ()[]{}|*+?.^$\\-,0123456789:!=<>ipPLNsSdwx'\n")
        let subjects = Array("ab 12\n'sÅ中😀\t-[]")
        var compiled = 0
        for _ in 0..<20_000 {
            let pattern = String((0..<(1 + next(12))).map { _ in alphabet[next(alphabet.count)] })
            guard let regex = try? TokenizerRegex(pattern) else { continue }
            compiled += 1
            let text = String((0..<next(24)).map { _ in subjects[next(subjects.count)] })
            for found in regex.matches(in: text) { XCTAssertLessThanOrEqual(found.count, text.count) }
        }
        XCTAssertGreaterThan(compiled, 1_000)
    }

    func testUnsupportedConstructsAreErrorsWithOffsets() {
        for pattern in ["(?<=a)b", "(?>a)", "a++", "[[a]]", "(a", "a)", "\\p{Greek}", "*a", "[a&&b]", "(?:)*"] {
            XCTAssertThrowsError(try TokenizerRegex(pattern), pattern) { error in
                XCTAssertTrue(error is RegexSyntaxError, "\(pattern): \(error)")
            }
        }
    }
}
