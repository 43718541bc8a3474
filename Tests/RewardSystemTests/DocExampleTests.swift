import XCTest
@testable import RewardSystem
import Rewards

/// The Swift example of docs/rewards.md ("From Swift"), kept compiling and true.
final class DocExampleTests: XCTestCase {
    func testTheDocsSwiftExampleWorks() throws {
        let registry = try UserRewards.registry()
        var rewards = try registry.makeRewardSet([
            RuleSpec(name: "accuracy", weight: 1, options: ["extraction": "boxed_or_fallback"]),
            RuleSpec(name: "format", weight: 0.2, options: ["strict": "false"]),
            RuleSpec(name: "countdown", weight: 1, options: ["on_error": "-1"]),
        ])
        let sample = Sample(prompt: "…", answer: "98", metadata: ["numbers": [44, 19, 35], "target": 98])
        let text = "<think>44 + 19 + 35 = 98</think><answer>44 + 19 + 35</answer>"
        let noNumbers = Sample(prompt: "…", answer: "98")
        let scored = try rewards.score([Completion(text: text, tokenCount: 412), Completion(text: text)],
                                       against: [sample, noNumbers])
        // No box, no "final answer is", no $…$: the fallback takes the last number, 35.
        XCTAssertEqual(scored[0].extracted(by: "accuracy"), .some("35"))
        XCTAssertEqual(scored[0].value(of: "accuracy"), 0)
        XCTAssertEqual(scored[0].value(of: "format"), 1)
        XCTAssertEqual(scored[0].value(of: "countdown"), 1)
        XCTAssertEqual(scored[0].total, 1.2, accuracy: 1e-12)
        XCTAssertTrue(scored[0].errors.isEmpty)
        // Without `numbers`, countdown fails on that completion: its on_error value, an error, a count.
        XCTAssertEqual(scored[1].value(of: "countdown"), -1)
        XCTAssertEqual(scored[1].error(of: "countdown"), "rule 'countdown' needs the sample field 'numbers' (an array of integers), which is missing")
        XCTAssertEqual(rewards.metrics["countdown"]?.errors, 1)
        XCTAssertEqual(try RuleSpec(parsing: "format:0.2"), RuleSpec(name: "format", weight: 0.2))
    }
}
