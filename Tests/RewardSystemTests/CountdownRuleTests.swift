import XCTest
@testable import RewardSystem

final class CountdownRuleTests: XCTestCase {
    let rule = CountdownRule()
    let sample = Sample(metadata: ["numbers": .array([.number("44"), .number("19"), .number("35")]), "target": .number("98")])

    func outcome(_ text: String) throws -> RewardOutcome { try rule.score(Completion(text: text), for: sample) }

    func testCorrectEquationScoresOne() throws {
        XCTAssertEqual(try outcome("<think>...</think><answer>44 + 19 + 35</answer>").value, 1)
        XCTAssertEqual(try outcome("<answer>(44 + 19) + 35</answer>").value, 1)
        XCTAssertEqual(try outcome("<answer>35+19+44</answer>").extracted, "35+19+44")
        XCTAssertEqual(try outcome("<answer>\n44 + 19 + 35\n</answer>").value, 1)
    }

    func testDivisionUsesRealArithmeticWithinTolerance() throws {
        let s = Sample(metadata: ["numbers": .array([.number("3"), .number("6"), .number("4")]), "target": .number("8")])
        XCTAssertEqual(try rule.score(Completion(text: "<answer>6 / 3 * 4</answer>"), for: s).value, 1)
        XCTAssertEqual(try rule.score(Completion(text: "<answer>6 / (3 * 4)</answer>"), for: s).value, 0.1)
        let t = Sample(metadata: ["numbers": .array([.number("1"), .number("3"), .number("3")]), "target": .number("1")])
        XCTAssertEqual(try rule.score(Completion(text: "<answer>1 / 3 * 3</answer>"), for: t).value, 1)
    }

    func testWrongValueOrNumbersGivesFormatScore() throws {
        XCTAssertEqual(try outcome("<answer>44 + 19 - 35</answer>").value, 0.1)
        XCTAssertEqual(try outcome("<answer>44 + 19</answer>").value, 0.1)
        XCTAssertEqual(try outcome("<answer>44 + 19 + 35 + 0</answer>").value, 0.1)
        XCTAssertEqual(try outcome("<answer>44 + 44 + 10</answer>").value, 0.1)
        XCTAssertEqual(try outcome("<answer>44 + 19 + 35 = 98</answer>").value, 0.1)
        XCTAssertEqual(try outcome("<answer></answer>").value, 0.1)
    }

    func testMalformedEquationsGiveFormatScoreAndAreNeverEvaluatedAsCode() throws {
        for text in ["<answer>44 + 19 + 35)</answer>", "<answer>44 ** 19 + 35</answer>", "<answer>44 // 19 + 35</answer>",
                     "<answer>__import__('os')</answer>", "<answer>44 + 19 + x35</answer>", "<answer>(44 + 19 + 35</answer>",
                     "<answer>44 + 19 / (35 - 35)</answer>", "<answer>044 + 19 + 35</answer>", "<answer>44.0 + 19 + 35</answer>"] {
            XCTAssertEqual(try outcome(text).value, 0.1, text)
        }
    }

    func testNoAnswerBlockGivesZero() throws {
        XCTAssertEqual(try outcome("44 + 19 + 35").value, 0)
        XCTAssertEqual(try outcome("<answer>44 + 19 + 35").value, 0)
        XCTAssertNil(try outcome("nothing").extracted)
    }

    func testTheLastAnswerBlockCounts() throws {
        XCTAssertEqual(try outcome("<answer>1+2</answer> then <answer>44 + 19 + 35</answer>").value, 1)
        XCTAssertEqual(try outcome("<answer>44 + 19 + 35</answer> then <answer>1+2</answer>").value, 0.1)
        XCTAssertEqual(CountdownRule.lastAnswerBlock("<answer>a<answer>b</answer>"), "a<answer>b")
    }

    func testUnaryMinusAndParenthesesAsPythonAllows() {
        XCTAssertEqual(CountdownRule.evaluate("-(3 - 5) * 2"), 4)
        XCTAssertEqual(CountdownRule.evaluate("((2))"), 2)
        XCTAssertNil(CountdownRule.evaluate("2 3"))
        XCTAssertNil(CountdownRule.evaluate(""))
        XCTAssertNil(CountdownRule.evaluate(String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000)))
    }

    func testFormatScoreOptionAndMetadataErrors() throws {
        let custom = try CountdownRule(options: RuleOptions(rule: "countdown", ["format_score": "0"]))
        XCTAssertEqual(try custom.score(Completion(text: "<answer>1</answer>"), for: sample).value, 0)
        XCTAssertThrowsError(try rule.score(Completion(text: "<answer>1</answer>"), for: Sample(metadata: ["target": .number("1")]))) {
            XCTAssertTrue("\($0)".contains("'numbers'"))
        }
        XCTAssertThrowsError(try rule.score(Completion(text: "x"), for: Sample(metadata: ["numbers": .array([.string("a")]), "target": .number("1")]))) {
            XCTAssertTrue("\($0)".contains("integers"))
        }
        XCTAssertThrowsError(try rule.score(Completion(text: "x"), for: Sample(metadata: ["numbers": .array([]), "target": .string("abc")]))) {
            XCTAssertTrue("\($0)".contains("'target'"))
        }
        // Literal metadata, as task generators write it.
        let literal = Sample(metadata: ["numbers": [44, 19, 35], "target": 98])
        XCTAssertEqual(try rule.score(Completion(text: "<answer>44+19+35</answer>"), for: literal).value, 1)
        XCTAssertEqual(Sample(metadata: ["numbers": JSONValue([1, 2])]).metadata["numbers"], [1, 2])
        // Numbers given as strings of digits are accepted.
        let strings = Sample(metadata: ["numbers": .array([.string("2"), .string("3")]), "target": .string("6")])
        XCTAssertEqual(try rule.score(Completion(text: "<answer>2*3</answer>"), for: strings).value, 1)
    }
}
