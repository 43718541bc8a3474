import XCTest
@testable import RewardSystem

final class LengthRuleTests: XCTestCase {
    func makeLength(_ options: [String: String] = [:]) throws -> CosineLengthRule {
        try CosineLengthRule(options: RuleOptions(rule: "length", options))
    }

    func testCosineLengthEndpointsMatchOpenR1() throws {
        let rule = try makeLength(["max_len": "100"])
        let sample = Sample(answer: "7")
        let shortCorrect = "\\boxed{7}"
        let value = try rule.score(Completion(text: shortCorrect), for: sample).value
        let progress = Double(shortCorrect.count) / 100
        XCTAssertEqual(value, 0.5 + 0.25 * (1 + cos(progress * .pi)), accuracy: 1e-12)
        let longCorrect = String(repeating: "a", count: 200) + "\\boxed{7}"
        XCTAssertEqual(try rule.score(Completion(text: longCorrect), for: sample).value, 0.5, accuracy: 1e-12)
        let longWrong = String(repeating: "a", count: 200) + "\\boxed{8}"
        XCTAssertEqual(try rule.score(Completion(text: longWrong), for: sample).value, -0.5, accuracy: 1e-12)
        XCTAssertEqual(try rule.score(Completion(text: ""), for: sample).value, -1.0, accuracy: 1e-12)
    }

    func testCosineLengthOnOpenR1Cases() throws {
        let rule = try makeLength(["max_len": "100"])
        let sample = Sample(answer: "\\frac{63}{400}")
        for (content, length, expected) in [("\\boxed{\\frac{63}{400}}", 20, 0.943), ("\\boxed{\\frac{63}{400}}", 80, 0.547),
                                             ("\\boxed{\\frac{64}{400}}", 20, -0.942), ("\\boxed{\\frac{64}{400}}", 80, -0.547)] {
            let padded = content + String(repeating: " ", count: max(0, length - content.count))
            XCTAssertEqual(try rule.score(Completion(text: padded), for: sample).value, expected, accuracy: 0.005)
        }
    }

    func testRepetitionOnOpenR1Cases() throws {
        func v(_ n: Int, _ p: Double, _ t: String) throws -> Double {
            try RepetitionRule(ngramSize: n, maxPenalty: p).score(Completion(text: t), for: Sample()).value
        }
        XCTAssertEqual(try v(2, -1, "this is a test sentence"), 0)
        XCTAssertEqual(try v(2, -1, "this this this this this"), -0.75)
        XCTAssertEqual(try v(2, -1, "this is a this is a test"), -1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(try v(3, -0.5, "test test test test"), -0.25)
        XCTAssertEqual(try v(3, -2, "this is a this is a test"), -0.4, accuracy: 1e-12)
        XCTAssertEqual(try v(3, -1, "word word word word"), -0.5)
        XCTAssertEqual(try v(3, -1, "one two one two"), 0)
        XCTAssertEqual(try v(3, -0.5, "A B C A B"), 0)
        XCTAssertEqual(try v(3, -1, "A B C A B C E F G A B C A B C"), -0.3846, accuracy: 1e-4)
        XCTAssertEqual(try v(3, -1, "three different words"), 0)
        XCTAssertEqual(try v(2, -1, "This is A Test"), try v(2, -1, "this IS a test"))
    }

    func testCosineLengthHalfwayIsTheMidpoint() throws {
        let rule = try makeLength(["max_len": "20", "unit": "tokens"])
        let sample = Sample(answer: "7")
        XCTAssertEqual(try rule.score(Completion(text: "\\boxed{7}", tokenCount: 10), for: sample).value, 0.75, accuracy: 1e-12)
        XCTAssertEqual(try rule.score(Completion(text: "\\boxed{6}", tokenCount: 10), for: sample).value, -0.75, accuracy: 1e-12)
        XCTAssertThrowsError(try rule.score(Completion(text: "\\boxed{7}"), for: sample))
    }

    func testRepetitionPenaltyMatchesOpenR1() throws {
        let rule = RepetitionRule(ngramSize: 3, maxPenalty: -1)
        func v(_ t: String) throws -> Double { try rule.score(Completion(text: t), for: Sample()).value }
        XCTAssertEqual(try v(""), 0)
        XCTAssertEqual(try v("too short"), 0)
        XCTAssertEqual(try v("the cat sat on the mat"), 0)
        // 6 words → 4 trigrams, 2 distinct ("a b c", "b c a", "c a b", "a b c"): 1 − 3/4.
        XCTAssertEqual(try v("a b c a b c"), -0.25, accuracy: 1e-12)
        XCTAssertEqual(try v("A b C a B c"), -0.25, accuracy: 1e-12)
        // One word repeated: n − 2 trigrams, 1 distinct.
        XCTAssertEqual(try v(String(repeating: "go ", count: 12)), -(1 - 1.0 / 10), accuracy: 1e-12)
        // Unicode words and separators (no-break space, ideographic space) split as in Python.
        XCTAssertEqual(try v("Éa b\u{00A0}c éa\u{3000}B c"), -0.25, accuracy: 1e-12)
        XCTAssertEqual(RepetitionRule.wordIDs("A\u{2003}b\u{205F}a\u{0085}B\u{1680}é\u{2028}É 数\u{3000}数\u{00A0}"), [0, 1, 0, 1, 2, 2, 3, 3])
        XCTAssertEqual(RepetitionRule.wordIDs("  \t\n "), [])
        XCTAssertEqual(RepetitionRule.wordIDs("a\u{00E9}\u{2009}b"), [0, 1])
        let half = RepetitionRule(ngramSize: 1, maxPenalty: -0.5)
        XCTAssertEqual(try half.score(Completion(text: "x x y y"), for: Sample()).value, -0.25, accuracy: 1e-12)
    }

    func testRepetitionRejectsPositivePenalty() {
        XCTAssertThrowsError(try RepetitionRule(options: RuleOptions(rule: "repetition", ["max_penalty": "0.5"]))) {
            XCTAssertTrue("\($0)".contains("repetition.max_penalty"))
        }
    }

    func testOverlongIsDAPOSoftPunishment() throws {
        let rule = OverlongRule(maxLength: 100, cacheLength: 20)
        func v(_ n: Int) throws -> Double { try rule.score(Completion(text: "", tokenCount: n), for: Sample()).value }
        XCTAssertEqual(try v(0), 0)
        XCTAssertEqual(try v(80), 0)
        XCTAssertEqual(try v(90), -0.5, accuracy: 1e-12)
        XCTAssertEqual(try v(100), -1, accuracy: 1e-12)
        XCTAssertEqual(try v(101), -1)
        XCTAssertThrowsError(try rule.score(Completion(text: "x"), for: Sample())) { XCTAssertTrue("\($0)".contains("token_count")) }
        XCTAssertThrowsError(try OverlongRule(options: RuleOptions(rule: "overlong", ["max_length": "10", "cache_length": "20"])))
    }
}
