import Foundation
import RewardSystem
import XCTest
@testable import Experiments

/// Helpers shared by the task tests.
enum TaskTesting {
    static let here = URL(fileURLWithPath: "/")

    static func config(_ json: String) throws -> TaskConfig {
        try JSONDecoder().decode(TaskConfig.self, from: Data(json.utf8))
    }

    static func splits(_ json: String) throws -> TaskSplits {
        try config(json).makeSplits(relativeTo: here)
    }

    /// Asserts that `body` throws a `TaskError` whose message contains every fragment.
    static func assertTaskError(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line,
                                _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected a TaskError mentioning \(fragments)", file: file, line: line)
        } catch let error as TaskError {
            for fragment in fragments {
                XCTAssertTrue(error.description.contains(fragment), "'\(error)' does not mention '\(fragment)'", file: file, line: line)
            }
        } catch {
            XCTFail("expected a TaskError, got \(error)", file: file, line: line)
        }
    }
}

final class TaskGeneratorTests: XCTestCase {
    func testArithmeticDefaultsAreTwoDigitAdditionAndSubtractionWithCorrectAnswers() throws {
        let splits = try TaskTesting.splits(#"{"name": "arithmetic", "train_size": 300, "eval_size": 50}"#)
        XCTAssertEqual(splits.train.count, 300)
        XCTAssertEqual(splits.eval.count, 50)
        for (i, p) in (splits.train + splits.eval).enumerated() {
            let parts = p.fields["expression"]!.split(separator: " ")
            XCTAssertEqual(parts.count, 3)
            let a = Int(parts[0])!, b = Int(parts[2])!
            XCTAssertTrue((0...99).contains(a) && (0...99).contains(b))
            let expected = parts[1] == "+" ? a + b : a - b
            XCTAssertTrue(parts[1] == "+" || parts[1] == "-")
            XCTAssertEqual(p.answer, String(expected))
            XCTAssertGreaterThanOrEqual(expected, 0, "negative results are off by default")
            XCTAssertEqual(p.question, "What is \(p.fields["expression"]!)?")
            XCTAssertEqual(p.index, i < 300 ? i : i - 300)
        }
    }

    func testArithmeticWithAllOperatorsHasExactIntegerAnswersUnderPrecedence() throws {
        let splits = try TaskTesting.splits(#"{"operators": "+-*/", "operands": 3, "digits": 2, "allow_negative_results": true, "train_size": 400, "eval_size": 0}"#)
        var sawDivision = false, sawNegative = false
        for p in splits.train {
            let tokens = p.fields["expression"]!.split(separator: " ").map(String.init)
            // Independent evaluation in Double with precedence.
            var terms: [Double] = [Double(tokens[0])!]
            var signs: [String] = []
            var k = 1
            while k < tokens.count {
                let op = tokens[k], n = Double(tokens[k + 1])!
                switch op {
                case "*": terms[terms.count - 1] *= n
                case "/": terms[terms.count - 1] /= n; sawDivision = true
                default: signs.append(op); terms.append(n)
                }
                k += 2
            }
            var total = terms[0]
            for (s, t) in zip(signs, terms.dropFirst()) { total = s == "+" ? total + t : total - t }
            XCTAssertEqual(Double(p.answer!)!, total, accuracy: 1e-9, p.question)
            XCTAssertEqual(total.rounded(), total)
            if total < 0 { sawNegative = true }
        }
        XCTAssertTrue(sawDivision)
        XCTAssertTrue(sawNegative)
    }

    func testCountdownProblemsFollowTinyZeroAndAreSolvableWithEveryNumber() throws {
        let splits = try TaskTesting.splits(#"{"name": "countdown", "train_size": 200, "eval_size": 50}"#)
        for p in splits.train + splits.eval {
            let numbers = p.metadata["numbers"]!.arrayValue!.map { $0.intValue! }
            let target = p.metadata["target"]!.intValue!
            XCTAssertTrue((3...4).contains(numbers.count))
            XCTAssertTrue(numbers.allSatisfy { (1...99).contains($0) })
            XCTAssertTrue((1...100).contains(target))
            XCTAssertEqual(p.question, "Using the numbers \(p.fields["numbers"]!), create an equation that equals \(target). You can use basic arithmetic operations (+, -, *, /) and each number can only be used once.")
            XCTAssertEqual(p.fields["target"], String(target))
            XCTAssertEqual(p.fields["numbers"], "[" + numbers.map(String.init).joined(separator: ", ") + "]")
            // The reference solution is an equation the real rule accepts.
            let outcome = try CountdownRule().score(Completion(text: "<answer>\(p.answer!)</answer>"), for: p.sample)
            XCTAssertEqual(outcome.value, 1, "\(p.answer!) for \(numbers) → \(target)")
            XCTAssertEqual(p.metadata["solution"], .string(p.answer!))
        }
        let counts = Set((splits.train + splits.eval).map { $0.metadata["numbers"]!.arrayValue!.count })
        XCTAssertEqual(counts, [3, 4])
    }

    func testCountdownSolverFindsKnownSolutionsAndRejectsImpossibleTargets() throws {
        let solution = try XCTUnwrap(CountdownSolver.solve(numbers: [44, 19, 35], target: 98))
        XCTAssertEqual(try CountdownRule().score(Completion(text: "<answer>\(solution)</answer>"),
                                                 for: Sample(metadata: ["numbers": [44, 19, 35], "target": 98])).value, 1)
        // Needs a fraction: 8 / (3 - 8/3) = 24.
        XCTAssertNotNil(CountdownSolver.solve(numbers: [3, 3, 8, 8], target: 24))
        XCTAssertNil(CountdownSolver.solve(numbers: [3, 3, 8, 8], target: 24, integerSteps: true))
        // Every number must be used: 1 and 1 cannot make 5.
        XCTAssertFalse(CountdownSolver.isReachable(numbers: [1, 1], target: 5))
        XCTAssertFalse(CountdownSolver.isReachable(numbers: [2, 3, 97], target: 1))
        XCTAssertEqual(CountdownSolver.reachableTargets([2, 3], integerSteps: true), [5, 6, 1])
        XCTAssertEqual(CountdownSolver.reachableTargets([2, 3], integerSteps: false), [5, 6, 1, -1])
    }

    func testEvalQuestionsNeverAppearInTrainingEvenWhenTheProblemSpaceIsSmall() throws {
        // One-digit addition: 100 possible questions, so the stream repeats a lot.
        let small = try TaskTesting.splits(#"{"digits": 1, "operators": "+", "train_size": 500, "eval_size": 30}"#)
        let evalQuestions = Set(small.eval.map(\.question))
        XCTAssertEqual(evalQuestions.count, 30, "evaluation problems are distinct")
        XCTAssertEqual(small.train.count, 500)
        XCTAssertTrue(small.train.allSatisfy { !evalQuestions.contains($0.question) })

        let countdown = try TaskTesting.splits(#"{"name": "countdown", "min_numbers": 2, "max_numbers": 2, "max_number": 6, "max_target": 12, "train_size": 300, "eval_size": 10}"#)
        let evalKeys = Set(countdown.eval.map(CountdownTask.key))
        XCTAssertEqual(evalKeys.count, 10)
        XCTAssertTrue(countdown.train.allSatisfy { !evalKeys.contains(CountdownTask.key($0)) },
                      "not even a reordering of an evaluation puzzle is trained on")
    }

    func testEvalSplitDoesNotDependOnTrainSize() throws {
        let a = try TaskTesting.splits(#"{"name": "countdown", "train_size": 10, "eval_size": 20, "seed": 3}"#)
        let b = try TaskTesting.splits(#"{"name": "countdown", "train_size": 50, "eval_size": 20, "seed": 3}"#)
        XCTAssertEqual(a.eval, b.eval)
        XCTAssertEqual(a.train, Array(b.train.prefix(10)))
    }

    func testTooSmallProblemSpaceIsAnErrorNamingTheKey() {
        // One-digit addition has 100 questions; 150 distinct evaluation problems cannot exist.
        TaskTesting.assertTaskError(["task.eval_size", "distinct"]) {
            _ = try TaskTesting.splits(#"{"digits": 1, "operators": "+", "train_size": 10, "eval_size": 150}"#)
        }
        // All 100 are held out: nothing left to train on.
        TaskTesting.assertTaskError(["task.train_size"]) {
            _ = try TaskTesting.splits(#"{"digits": 1, "operators": "+", "train_size": 10, "eval_size": 100}"#)
        }
    }

    func testSameConfigGivesSameProblemsOnAnyThreadAndSeedChangesThem() throws {
        let json = #"{"name": "countdown", "train_size": 100, "eval_size": 20, "seed": 7}"#
        let reference = try TaskTesting.splits(json)
        let results = ResultBox(count: 4)
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            let arithmetic = #"{"operators": "+-*/", "operands": 3, "train_size": 200, "seed": 7}"#
            results.set(i, (try? TaskTesting.splits(json), try? TaskTesting.splits(arithmetic)))
        }
        let arithmeticReference = try TaskTesting.splits(#"{"operators": "+-*/", "operands": 3, "train_size": 200, "seed": 7}"#)
        for i in 0..<4 {
            XCTAssertEqual(results.get(i).0, reference)
            XCTAssertEqual(results.get(i).1, arithmeticReference)
        }
        let other = try TaskTesting.splits(#"{"name": "countdown", "train_size": 100, "eval_size": 20, "seed": 8}"#)
        XCTAssertNotEqual(other.train, reference.train)
    }

    func testFirstProblemsOfSeedZeroArePinned() throws {
        // Changing the generators or the random stream changes these; that must be a deliberate choice
        // (experiments' problems would change), so the first problems are pinned here.
        let arithmetic = try TaskTesting.splits(#"{"train_size": 2, "eval_size": 2}"#)
        let countdown = try TaskTesting.splits(#"{"name": "countdown", "train_size": 1, "eval_size": 1}"#)
        let pinned = (arithmetic.eval + arithmetic.train).map { "\($0.question) = \($0.answer!)" }
            + (countdown.eval + countdown.train).map { "\($0.fields["numbers"]!) → \($0.fields["target"]!)" }
        XCTAssertEqual(pinned, TaskGeneratorTests.pinnedSeedZero, "\(pinned)")
    }

    static let pinnedSeedZero = [
        "What is 20 + 82? = 102", "What is 32 + 37? = 69",  // evaluation
        "What is 44 - 3? = 41", "What is 97 - 44? = 53",    // training
        "[99, 59, 80] → 2", "[18, 77, 50] → 45",
    ]
}

/// Per-index results written from concurrent threads.
final class ResultBox: @unchecked Sendable {
    private var values: [(TaskSplits?, TaskSplits?)]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: (nil, nil), count: count) }
    func set(_ i: Int, _ v: (TaskSplits?, TaskSplits?)) { lock.lock(); values[i] = v; lock.unlock() }
    func get(_ i: Int) -> (TaskSplits?, TaskSplits?) { lock.lock(); defer { lock.unlock() }; return values[i] }
}
