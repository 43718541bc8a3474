import XCTest
@testable import RewardSystem

final class FormatRuleTests: XCTestCase {
    func value(_ rule: some RewardRule, _ text: String) -> Double {
        (try? rule.score(Completion(text: text), for: Sample()).value) ?? -99
    }

    func testStrictFormatFollowsOpenR1Pattern() {
        let strict = FormatRule(strict: true)
        XCTAssertEqual(value(strict, "<think>\nreasoning\n</think>\n<answer>\n42\n</answer>"), 1)
        XCTAssertEqual(value(strict, "<think>\n\n</think>\n<answer>\n\n</answer>"), 1)
        // MULTILINE `$`: a newline may follow the closing tag, and then anything.
        XCTAssertEqual(value(strict, "<think>\nr\n</think>\n<answer>\n42\n</answer>\n"), 1)
        XCTAssertEqual(value(strict, "<think>\nr\n</think>\n<answer>\n42\n</answer>\nextra"), 1)
        XCTAssertEqual(value(strict, "<think>\nr\n</think>\n<answer>\n42\n</answer> extra"), 0)
        XCTAssertEqual(value(strict, "<think>r</think><answer>42</answer>"), 0)
        XCTAssertEqual(value(strict, " <think>\nr\n</think>\n<answer>\n42\n</answer>"), 0)
        XCTAssertEqual(value(strict, "<think>\nr\n</think>\n\n<answer>\n42\n</answer>"), 0)
        XCTAssertEqual(value(strict, "<think>\nr\n</think>\n<answer>\n42</answer>"), 0)
        XCTAssertEqual(value(strict, "<answer>\n42\n</answer>"), 0)
        XCTAssertEqual(value(strict, ""), 0)
    }

    func testLenientFormatAllowsWhitespaceOnly() {
        let lenient = FormatRule(strict: false)
        XCTAssertEqual(value(lenient, "<think>r</think><answer>42</answer>"), 1)
        XCTAssertEqual(value(lenient, "  <think>r</think>\n\n <answer>42</answer>\n"), 1)
        XCTAssertEqual(value(lenient, "<think>\nr\n</think>\n<answer>\n42\n</answer>"), 1)
        XCTAssertEqual(value(lenient, "<think>r</think> so <answer>42</answer>"), 0)
        XCTAssertEqual(value(lenient, "hi <think>r</think><answer>42</answer>"), 0)
        XCTAssertEqual(value(lenient, "<think>r</think><answer>42</answer> bye"), 0)
        XCTAssertEqual(value(lenient, "<answer>42</answer>"), 0)
        XCTAssertEqual(value(lenient, "<think>r</think>"), 0)
    }

    func testFormatStrictOptionParsing() throws {
        XCTAssertTrue(try FormatRule(options: RuleOptions(rule: "format")).strict)
        XCTAssertFalse(try FormatRule(options: RuleOptions(rule: "format", ["strict": "false"])).strict)
        XCTAssertThrowsError(try FormatRule(options: RuleOptions(rule: "format", ["strict": "maybe"])))
    }

    func testTagCountGivesAQuarterPerTagPresentExactlyOnce() {
        let rule = TagCountRule()
        XCTAssertEqual(value(rule, "<think>\nr\n</think>\n<answer>\n42\n</answer>"), 1)
        XCTAssertEqual(value(rule, "<think>\nr\n</think>\n"), 0.5)
        XCTAssertEqual(value(rule, "<think>\nr"), 0.25)
        XCTAssertEqual(value(rule, "no tags"), 0)
        XCTAssertEqual(value(rule, "<think>\n<think>\nr\n</think>\n<answer>\n42\n</answer>"), 0.75)
        // Non-overlapping count, as Python's str.count: "\n</think>\n</think>\n" holds the tag once.
        XCTAssertEqual(value(rule, "\n</think>\n</think>\n"), 0.25)
    }

    func testTagCountOnOpenR1Cases() {
        let rule = TagCountRule()
        XCTAssertEqual(value(rule, "<think>\nSome reasoning\n</think>\n<answer>\nThe answer\n</answer>"), 1)
        XCTAssertEqual(value(rule, "Some reasoning\n</think>\n<answer>\nThe answer\n</answer>"), 0.75)
        XCTAssertEqual(value(rule, "<think>\nSome reasoning\n<answer>\nThe answer\n</answer>"), 0.75)
        XCTAssertEqual(value(rule, "<think>\nSome reasoning\n</think>\nThe answer\n</answer>"), 0.75)
        XCTAssertEqual(value(rule, "<think>\nSome reasoning\n</think>\n<answer>\nThe answer"), 0.75)
        XCTAssertEqual(value(rule, "Some reasoning\nThe answer"), 0)
    }

    func testStrictFormatOnOpenR1Cases() {
        let strict = FormatRule(strict: true)
        XCTAssertEqual(value(strict, "<think>\nSome reasoning\n</think>\n<answer>\nThe answer\n</answer>"), 1)
        XCTAssertEqual(value(strict, "<think>\nI will count each distinct object in the image:\n1. Purple scooter\n2. Red bicycle\n\nThere are 2 distinct objects in total.\n</think>\n<answer>\n2\n</answer>"), 1)
        for text in ["<think>Only thinking</think>", "<answer>Only answer</answer>", "No tags at all",
                     "<think>Missing closing</think><answer>Missing closing", "<think>Wrong order</answer><answer>Wrong order</think>"] {
            XCTAssertEqual(value(strict, text), 0, text)
            XCTAssertEqual(value(FormatRule(strict: false), text), 0, text)
        }
    }

    func testThinkFormatRequiresOneLeadingThinkBlock() {
        let rule = ThinkFormatRule()
        XCTAssertEqual(value(rule, "<think>r</think>answer"), 1)
        XCTAssertEqual(value(rule, "<think>\nr\n</think>\n"), 1)
        XCTAssertEqual(value(rule, "<think>r</think> x </think>"), 1)
        XCTAssertEqual(value(rule, "<think>r</think><think>s</think>"), 0)
        XCTAssertEqual(value(rule, " <think>r</think>"), 0)
        XCTAssertEqual(value(rule, "<think>r"), 0)
        XCTAssertEqual(value(rule, "answer"), 0)
    }
}
