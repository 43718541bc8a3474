import XCTest
@testable import RewardSystem

final class JSONAndRecordTests: XCTestCase {
    func testJSONRoundTripKeepsKeyOrderAndNumberText() throws {
        let line = #"{"z": 1, "a": [1.50, -2e3, true, null], "s": "é\n\"\u00e9\ud83d\ude00", "o": {}}"#
        let value = try JSONValue.parse(line)
        XCTAssertEqual(value.serialized(), #"{"z": 1, "a": [1.50, -2e3, true, null], "s": "é\n\"é😀", "o": {}}"#)
    }

    func testJSONErrorsSayWhereAndWhat() {
        XCTAssertThrowsError(try JSONValue.parse(#"{"a": }"#)) { XCTAssertTrue("\($0)".contains("byte 7")) }
        XCTAssertThrowsError(try JSONValue.parse(#"{"a": 1"#)) { XCTAssertTrue("\($0)".contains("unterminated object")) }
        XCTAssertThrowsError(try JSONValue.parse(#"{"a": 1} x"#))
        XCTAssertThrowsError(try JSONValue.parse(#""\x""#))
        XCTAssertThrowsError(try JSONValue.parse(String(repeating: "[", count: 10_000)))
        XCTAssertEqual(try JSONValue.parse(#""\ud800""#), .string("\u{FFFD}"))
    }

    func testRecordParsingBuildsCompletionAndSample() throws {
        let (_, completion, sample) = try ScoringRecord.parse(
            #"{"prompt": "p", "completion": "c", "answer": 18, "numbers": [1, 2], "target": 3, "token_count": 7, "truncated": true}"#)
        XCTAssertEqual(completion, Completion(text: "c", tokenCount: 7, truncated: true))
        XCTAssertEqual(sample.prompt, "p")
        XCTAssertEqual(sample.answer, "18")
        XCTAssertEqual(sample.metadata["numbers"], .array([.number("1"), .number("2")]))
        XCTAssertEqual(sample.metadata["target"], .number("3"))
        XCTAssertNil(sample.metadata["completion"])
    }

    func testMalformedRecordsNameTheProblem() {
        let cases: [(String, String)] = [
            ("[1]", "expected a JSON object"),
            (#"{"answer": "1"}"#, "missing field \"completion\""),
            (#"{"completion": 5}"#, "field \"completion\" must be a string"),
            (#"{"completion": "x", "token_count": -1}"#, "token_count"),
            (#"{"completion": "x", "truncated": "yes"}"#, "truncated"),
            (#"{"completion": "x", "answer": [1]}"#, "answer"),
            (#"{"completion": "x""#, "invalid JSON"),
        ]
        for (line, fragment) in cases {
            XCTAssertThrowsError(try ScoringRecord.parse(line), line) { XCTAssertTrue("\($0)".contains(fragment), "\($0)") }
        }
    }

    func testOutputLineKeepsInputFieldsAndAddsRewards() throws {
        let registry = RuleRegistry.builtIn
        var set = try registry.makeRewardSet([RuleSpec(name: "accuracy"), RuleSpec(name: "countdown", weight: 0.5)])
        let (record, completion, sample) = try ScoringRecord.parse(#"{"id": 3, "completion": "\\boxed{2}", "answer": "2", "rewards": "old"}"#)
        let line = ScoringRecord.outputLine(record, set.score(completion, for: sample))
        XCTAssertEqual(line, #"{"id": 3, "completion": "\\boxed{2}", "answer": "2", "rewards": {"accuracy": 1.0, "countdown": 0.0}, "reward": 1.0, "extracted": {"accuracy": "2", "countdown": null}, "errors": {"countdown": "rule 'countdown' needs the sample field 'numbers' (an array of integers), which is missing"}}"#)
        let parsed = try JSONValue.parse(line)
        XCTAssertEqual(parsed["reward"]?.doubleValue, 1.0)
    }
}
