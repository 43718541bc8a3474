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
