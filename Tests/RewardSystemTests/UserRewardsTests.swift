import XCTest
@testable import RewardSystem
@testable import Rewards

final class UserRewardsTests: XCTestCase {
    func testStepCountMatchesOpenR1ReasoningSteps() throws {
        let rule = try StepCountRule(options: RuleOptions(rule: "step_count"))
        func v(_ t: String) throws -> Double { try rule.score(Completion(text: t), for: Sample()).value }
        // open-r1's own cases.
        XCTAssertEqual(try v("Step 1: First step\nStep 2: Second step\nStep 3: Third step"), 1)
        XCTAssertEqual(try v("First, we do this.\nSecond, we do that.\nFinally, we conclude."), 1)
        XCTAssertEqual(try v("Step 1: Only step"), 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(try v("First, we do this.\nFinally, we conclude."), 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(try v("Just plain text without any clear steps"), 0)
        // `^\d+\.` only at the start of the text; bullets need a newline before them.
        XCTAssertEqual(StepCountRule.countSteps(in: "1. a\n2. b"), 1)
        XCTAssertEqual(StepCountRule.countSteps(in: "- a\n- b\n* c"), 2)
        XCTAssertEqual(StepCountRule.countSteps(in: "Step 12: x Step 3: y Step : z"), 2)
        XCTAssertEqual(StepCountRule.countSteps(in: "Step one: no digits"), 0)
        let two = try StepCountRule(options: RuleOptions(rule: "step_count", ["target": "2"]))
        XCTAssertEqual(try two.score(Completion(text: "First, a. Next, b."), for: Sample()).value, 1)
    }

    func testLanguageMixingPenalizesOtherScripts() throws {
        let auto = try LanguageMixingRule(options: RuleOptions(rule: "language_mixing"))
        func v(_ rule: LanguageMixingRule, _ t: String) throws -> Double { try rule.score(Completion(text: t), for: Sample()).value }
        XCTAssertEqual(try v(auto, "<think>all english here</think>"), 0)
        XCTAssertEqual(try v(auto, "<think>abcd数学</think>"), -2.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(try v(auto, "12 + 3 = 15"), 0)
        // Only the reasoning counts when there is a think block.
        XCTAssertEqual(try v(auto, "<think>reasoning</think>答案是"), 0)
        let english = try LanguageMixingRule(options: RuleOptions(rule: "language_mixing", ["script": "latin", "penalty": "2"]))
        XCTAssertEqual(try v(english, "数学"), -2)
        XCTAssertThrowsError(try LanguageMixingRule(options: RuleOptions(rule: "language_mixing", ["script": "klingon"])))
    }

    func testUserRulesAreRegisteredByName() throws {
        let registry = try UserRewards.registry()
        XCTAssertNotNil(registry.type(named: "step_count"))
        XCTAssertNotNil(registry.type(named: "language_mixing"))
        XCTAssertEqual(try registry.makeRule(named: "step_count", options: ["target": "2"]).name, "step_count")
    }
}
