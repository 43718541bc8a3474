import XCTest
@testable import RewardSystem
import Rewards

/// Bounded fuzzing: random and adversarial inputs through every rule and the equivalence checker.
/// Never a crash, always a finite value; the slowest rule on one completion is measured and reported.
final class FuzzTests: XCTestCase {
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E3779B97F4A7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
            z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
            return z ^ (z >> 31)
        }
    }

    static let pieces = ["\\boxed{", "\\fbox{", "\\boxed ", "{", "}", "\\{", "\\}", "\\frac", "\\dfrac", "\\sqrt", "[", "]", "(", ")",
                         "$", "$$", "\\$", "\\%", "%", "^", "_", "\\circ", "\\text{", "\\left(", "\\right)", "\\cup", "\\infty",
                         "\\pi", ",", ".", "=", "+", "-", "*", "/", " ", "\n", "0", "1", "2", "3", "7", "42", "x", "y", "e",
                         "<think>", "</think>", "<answer>", "</answer>", "\n<answer>\n", "\n</answer>", "####", "final answer is",
                         "Step 1:", "数", "é", "\u{0301}", "🙂", "\\", "\\\\", "\\begin{pmatrix}", "&", "\\end{pmatrix}",
                         "9223372036854775808", "-9223372036854775807", "^{63}", "^{-64}", "!", "1e-99999999999999999999", "(-2)",
                         "\\pm", "<", "\\le", "x", "\\sqrt[", "|", "\\log_", "\\sin", "0", "/0"]

    static func randomText(_ rng: inout SplitMix64, maxPieces: Int) -> String {
        let n = Int.random(in: 0...maxPieces, using: &rng)
        var s = ""
        for _ in 0..<n { s += pieces.randomElement(using: &rng)! }
        return s
    }

    func allRules() throws -> RewardSet {
        let registry = try UserRewards.registry()
        return try registry.makeRewardSet(registry.names.map { name in
            var options: [String: String] = [:]
            if name == "accuracy" || name == "length" { options["extraction"] = "boxed_or_fallback" }
            return RuleSpec(name: name, weight: 1, options: options)
        })
    }

    func sample(gold: String) -> Sample {
        Sample(prompt: "p", answer: gold, metadata: ["numbers": .array([.number("1"), .number("2"), .number("7")]), "target": .number("42")])
    }

    func testRandomCompletionsNeverCrashAndGiveFiniteRewards() throws {
        var rng = SplitMix64(state: 20_240_611)
        let rules = try allRules()
        for _ in 0..<1_500 {
            let text = FuzzTests.randomText(&rng, maxPieces: 40)
            let gold = FuzzTests.randomText(&rng, maxPieces: 6)
            let scored = rules.evaluate(Completion(text: text, tokenCount: text.utf8.count), for: sample(gold: gold))
            XCTAssertTrue(scored.total.isFinite, text)
            XCTAssertTrue(scored.errors.isEmpty, "\(scored.errors) for \(text)")
        }
    }

    func testEquivalenceOnRandomPairsIsSymmetricAndReflexiveForItsNormalForm() {
        var rng = SplitMix64(state: 7)
        let checker = MathEquivalence()
        for _ in 0..<3_000 {
            let a = FuzzTests.randomText(&rng, maxPieces: 8)
            let b = FuzzTests.randomText(&rng, maxPieces: 8)
            XCTAssertEqual(checker.areEquivalent(a, b), checker.areEquivalent(b, a), "\(a) vs \(b)")
            if !MathNormalizer.normalize(a).isEmpty { XCTAssertTrue(checker.areEquivalent(a, a), a) }
        }
    }

    func testInvalidUTF8IsRepairedNotFatal() throws {
        var rng = SplitMix64(state: 99)
        let rules = try allRules()
        for _ in 0..<300 {
            var bytes = Array(FuzzTests.randomText(&rng, maxPieces: 20).utf8)
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                bytes.insert(UInt8.random(in: 0x80...0xFF, using: &rng), at: Int.random(in: 0...bytes.count, using: &rng))
            }
            let text = String(decoding: bytes, as: UTF8.self)
            XCTAssertTrue(rules.evaluate(Completion(text: text, tokenCount: 1), for: sample(gold: "42")).total.isFinite)
            // A JSONL line with invalid bytes inside its string still parses (bytes repaired to U+FFFD).
            let line = Array(#"{"completion": ""#.utf8) + bytes.filter { $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && $0 >= 0x20 } + Array(#""}"#.utf8)
            XCTAssertNoThrow(try ScoringRecord.parse(String(decoding: line, as: UTF8.self)))
        }
    }

    /// Adversarial 100 KB completions and 10 000 nested braces through every rule; reports the slowest
    /// rule (the bound is generous: it only catches a quadratic blow-up, not a slow machine).
    func testLargeAndDeeplyNestedCompletionsStayFast() throws {
        var rng = SplitMix64(state: 1)
        let depth = 10_000
        let size = 100_000
        func repeated(_ s: String) -> String { String(String(repeating: s, count: size / s.utf8.count + 1).prefix(size)) }
        var inputs: [(String, String)] = [
            ("nested braces in a box", "\\boxed{" + String(repeating: "{", count: depth) + "1" + String(repeating: "}", count: depth) + "}"),
            ("unbalanced nested braces", "\\boxed{" + String(repeating: "{", count: depth)),
            ("nested parentheses in a box", "\\boxed{" + String(repeating: "(", count: depth) + "1" + String(repeating: ")", count: depth) + "}"),
            ("nested answer parentheses", "<answer>" + String(repeating: "(", count: depth) + "1" + String(repeating: ")", count: depth) + "</answer>"),
            ("many boxes", repeated("\\boxed{1}")),
            ("box macros without braces", repeated("\\boxed")),
            ("many answer tags", repeated("<answer>")),
            ("many closing tags", repeated("\n</answer>")),
            ("think tags", repeated("<think>\n")),
            ("dollar signs", repeated("$")),
            ("digits", repeated("1234567890")),
            ("repeated words", repeated("the same words again ")),
            ("final answer phrases", repeated("final answer is ")),
            ("fractions in a box", "\\boxed{" + repeated("\\frac{1}{2}+") + "1}"),
            ("long number in a box", "\\boxed{" + repeated("7") + "}"),
            // Just under the raw-length limit (1,000 bytes): normalized fully.
            ("1 KB of fractions and units in a box", "\\boxed{" + String(repeated("\\frac{1}{2}+\\text{ cm}").prefix(990)) + "1}"),
            ("1 KB of text groups in a box", "\\boxed{" + String(repeated("\\text{a}\\mbox{b}\\left(").prefix(990)) + "1}"),
            ("1 KB of spacing commands in a box", "\\boxed{" + String(repeated("1\\,000\\!\\;{,}").prefix(990)) + "1}"),
            // Just under the parsed-length limit (1,000 characters): parsed and evaluated.
            ("1 KB sum in a box", "\\boxed{" + String(repeating: "x+", count: 495) + "1}"),
            ("1 KB of nested fractions", "\\boxed{" + String(repeating: "\\frac{1}{", count: 99) + "2" + String(repeating: "}", count: 99) + "}"),
            ("1 KB tuple", "\\boxed{(" + String(repeating: "1,", count: 495) + "1)}"),
            ("1 KB set", "\\boxed{\\{" + String(repeating: "x,", count: 495) + "1\\}}"),
        ]
        inputs.append(("random", FuzzTests.randomText(&rng, maxPieces: 20_000)))
        let registry = try UserRewards.registry()
        var slowest = (rule: "", input: "", seconds: 0.0)
        var report: [String] = []
        for name in registry.names {
            var worst = (input: "", seconds: 0.0)
            var options: [String: String] = [:]
            if name == "accuracy" || name == "length" { options["extraction"] = "boxed_or_fallback" }
            let rule = try registry.makeRule(named: name, options: options)
            for (label, text) in inputs {
                let completion = Completion(text: text, tokenCount: text.utf8.count)
                // The best of three runs: the machine is shared, and one run can be preempted.
                var seconds = Double.infinity
                for _ in 0..<3 {
                    let start = DispatchTime.now().uptimeNanoseconds
                    let outcome = try rule.score(completion, for: sample(gold: "\\frac{1}{2}"))
                    seconds = min(seconds, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                    XCTAssertTrue(outcome.value.isFinite)
                }
                if seconds > slowest.seconds { slowest = (name, label, seconds) }
                if seconds > worst.seconds { worst = (label, seconds) }
            }
            report.append(String(format: "  %@: %.2f ms (%@)", name, worst.seconds * 1000, worst.input))
        }
        print("worst time per rule on one ≤100 KB completion:\n" + report.joined(separator: "\n"))
        print(String(format: "slowest rule on one ≤100 KB completion: %@ on '%@': %.2f ms", slowest.rule, slowest.input, slowest.seconds * 1000))
        XCTAssertLessThan(slowest.seconds, 2.0, "a rule took \(slowest.seconds) s on '\(slowest.input)': quadratic behaviour?")
    }

    /// Reports the time for all rules together on a realistic completion (no timing assertion).
    func testRealisticCompletionThroughputIsReported() throws {
        let rules = try allRules()
        let reasoning = String(repeating: "We have $x^2 - 5x + 6 = 0$, so $(x-2)(x-3) = 0$. Step 1: check. ", count: 40)
        let text = "<think>\n" + reasoning + "\n</think>\n<answer>\nThe roots are \\boxed{\\left( 2, 3 \\right)}.\n</answer>"
        let completion = Completion(text: text, tokenCount: text.utf8.count / 4)
        let s = sample(gold: "(2,3)")
        XCTAssertEqual(rules.evaluate(completion, for: s).value(of: "accuracy"), 1)
        let runs = 200
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<runs { _ = rules.evaluate(completion, for: s) }
        let perCompletion = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(runs) / 1e6
        print(String(format: "all %d rules on one %d-byte completion: %.3f ms", rules.rules.count, text.utf8.count, perCompletion))
    }

    /// Arithmetic at the edges of Int: exact values overflow into floating point, never trap.
    func testIntegerEdgeCasesNeverTrap() {
        let checker = MathEquivalence()
        let edgeCases = ["(-2)^{63}", "2^{63}", "(-2)^{64}", "-9223372036854775808", "9223372036854775807", "\\sqrt{9223372036854775807}",
                         "\\frac{1}{-9223372036854775808}", "1e9223372036854775807", "0.1e-9223372036854775808", "1e-999",
                         "170!", "171!", "(-1)!", "2^{2^{2^{2^{2}}}}", "\\sqrt{-4}", "0^{-1}", "\\frac{0}{0}", "(-8)^{1/3}",
                         "99999999999999999999/3", "3/99999999999999999999", "-(-(-(-9223372036854775807)))"]
        for a in edgeCases {
            for b in edgeCases + ["0", "1", "-2", "\\infty"] {
                _ = checker.areEquivalent(a, b)
            }
        }
        XCTAssertTrue(checker.areEquivalent("(-2)^{63}", "-9223372036854775808"))
        XCTAssertTrue(checker.areEquivalent("(-8)^{1/3}", "-2"))
        XCTAssertFalse(checker.areEquivalent("\\frac{0}{0}", "\\frac{0}{0} + 1"))
    }

    func testDeeplyNestedAnswersAgainstTheEquivalenceChecker() {
        let checker = MathEquivalence()
        for depth in [10, 63, 64, 65, 500, 999] {
            let nested = String(repeating: "(", count: depth) + "1" + String(repeating: ")", count: depth)
            let braces = String(repeating: "{", count: depth) + "1" + String(repeating: "}", count: depth)
            let fracs = String(repeating: "\\frac{1}{", count: depth) + "1" + String(repeating: "}", count: depth)
            _ = checker.areEquivalent(nested, "1")
            _ = checker.areEquivalent(braces, "1")
            _ = checker.areEquivalent(fracs, "1")
        }
        XCTAssertTrue(checker.areEquivalent("((((1))))", "1"))
    }
}
