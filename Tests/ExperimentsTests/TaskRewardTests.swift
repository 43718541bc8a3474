import Foundation
import RewardSystem
import XCTest
@testable import Experiments

/// The problems carry what the real reward rules read: a correct completion gets full reward, a wrong one 0.
final class TaskRewardTests: XCTestCase {
    /// `accuracy` for R1-Zero completions: `extraction: answer_tag` (the last `<answer>` block) where the rule
    /// has it, else `boxed_or_fallback` after `</think>` (no box: the last number, the one in the answer block).
    let accuracy = (try? RuleRegistry.builtIn.makeRule(named: "accuracy", options: ["extraction": "answer_tag"]))
        ?? (try! RuleRegistry.builtIn.makeRule(named: "accuracy", options: ["extraction": "boxed_or_fallback", "think": "true"]))
    let fallbackAccuracy = try! RuleRegistry.builtIn.makeRule(named: "accuracy", options: ["extraction": "boxed_or_fallback", "think": "true"])
    let countdown = try! RuleRegistry.builtIn.makeRule(named: "countdown")
    let format = try! RuleRegistry.builtIn.makeRule(named: "format")

    func r1(_ answer: String) -> Completion {
        Completion(text: "<think>\nworking it out\n</think>\n<answer>\n\(answer)\n</answer>")
    }

    func testArithmeticAnswersScoreWithAccuracy() throws {
        let splits = try TaskTesting.splits(#"{"operators": "+-*/", "operands": 3, "allow_negative_results": true, "train_size": 50, "eval_size": 0}"#)
        for p in splits.train {
            for rule in [accuracy, fallbackAccuracy] {
                XCTAssertEqual(try rule.score(r1(p.answer!), for: p.sample).value, 1, p.question)
                XCTAssertEqual(try rule.score(r1(String(Int(p.answer!)! + 1)), for: p.sample).value, 0)
            }
            XCTAssertEqual(try format.score(r1(p.answer!), for: p.sample).value, 1)
        }
    }

    func testCountdownSolutionsScoreWithTheCountdownRule() throws {
        let splits = try TaskTesting.splits(#"{"name": "countdown", "train_size": 30, "eval_size": 0}"#)
        for p in splits.train {
            // TinyZero's prompt ends with <think>: the completion continues the reasoning.
            let right = Completion(text: " 1 + 2 ... found it </think>\n<answer> \(p.answer!) </answer>")
            XCTAssertEqual(try countdown.score(right, for: p.sample).value, 1, p.answer!)
            let wrong = Completion(text: "no idea </think>")
            XCTAssertEqual(try countdown.score(wrong, for: p.sample).value, 0)
        }
    }

    func testGSM8KGoldScoresWithAccuracy() throws {
        let lines = [#"{"question": "How many?", "answer": "2 + 2 = <<2+2=4>>4\n1,000 + 4 = 1,004\n#### 1,004"}"#,
                     "{\"question\": \"Other?\", \"answer\": \"#### 7\"}"]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("task-reward-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try lines.joined(separator: "\n").write(to: directory.appendingPathComponent("g.jsonl"), atomically: true, encoding: .utf8)
        let p = try TaskTesting.config(#"{"name": "jsonl", "path": "g.jsonl", "eval_size": 1}"#).makeSplits(relativeTo: directory).train[0]
        XCTAssertEqual(p.answer, "1004")
        for rule in [accuracy, fallbackAccuracy] {
            XCTAssertEqual(try rule.score(r1("1004"), for: p.sample).value, 1)
            XCTAssertEqual(try rule.score(r1("1,004"), for: p.sample).value, 1)
            XCTAssertEqual(try rule.score(r1("1005"), for: p.sample).value, 0)
        }
        // The default `accuracy` (boxed) also works for boxed completions.
        let boxed = try RuleRegistry.builtIn.makeRule(named: "accuracy")
        XCTAssertEqual(try boxed.score(Completion(text: "so \\boxed{1004}"), for: p.sample).value, 1)
    }

    func testRulesAcceptTheFullRewardSetOfAProblem() throws {
        var rewards = try RuleRegistry.builtIn.makeRewardSet([RuleSpec(name: "countdown"), RuleSpec(name: "format", weight: 0.5)])
        let p = try TaskTesting.splits(#"{"name": "countdown", "train_size": 1, "eval_size": 0}"#).train[0]
        let scored = try rewards.score([r1(p.answer!), Completion(text: "")], against: [p.sample, p.sample])
        XCTAssertEqual(scored[0].total, 1.5)
        XCTAssertEqual(scored[1].total, 0)
        XCTAssertTrue(scored[0].errors.isEmpty)
    }
}
