import XCTest
@testable import RewardSystem
@testable import Rewards

final class UserRewardsTests: XCTestCase {
    func testStepCountRewardsExplicitSteps() throws {
        let rule = try StepCountRule(options: RuleOptions(rule: "step_count"))
        func v(_ t: String) throws -> Double { try rule.score(Completion(text: t), for: Sample()).value }
        XCTAssertEqual(try v("Step 1: a\nStep 2: b\nStep 3: c"), 1)
        XCTAssertEqual(try v("1. a\n2. b"), 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(try v("First, a. Next, b."), 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(try v("- a\n* b\nFinally, c"), 1)
        XCTAssertEqual(try v("just an answer"), 0)
        XCTAssertEqual(try v("Step one: no digits"), 0)
        XCTAssertEqual(StepCountRule.countSteps(in: "Step 12: x Step 3:"), 2)
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
