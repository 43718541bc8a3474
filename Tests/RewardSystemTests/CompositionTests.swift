import XCTest
@testable import RewardSystem
import Rewards

struct AlwaysThrows: RewardRule {
    var name: String { "broken" }
    func score(_ completion: Completion, for sample: Sample) throws -> RewardOutcome {
        throw RewardError.missingField(rule: name, field: "x", expected: "anything")
    }
}

struct Constant: RewardRule {
    var name: String
    var value: Double
    func score(_ completion: Completion, for sample: Sample) throws -> RewardOutcome { RewardOutcome(value: value) }
}

final class CompositionTests: XCTestCase {
    func testWeightedTotalAndPerRuleValues() throws {
        var set = try RewardSet([WeightedRule(Constant(name: "a", value: 1), weight: 0.5),
                                 WeightedRule(Constant(name: "b", value: -2), weight: 2)])
        let scored = set.score(Completion(text: ""), for: Sample())
        XCTAssertEqual(scored.value(of: "a"), 1)
        XCTAssertEqual(scored.value(of: "b"), -2)
        XCTAssertEqual(scored.total, 0.5 - 4)
        XCTAssertTrue(scored.errors.isEmpty)
        XCTAssertEqual(set.metrics.completions, 1)
    }

    func testAThrowingRuleIsRecordedCountedAndGetsItsErrorValue() throws {
        var set = try RewardSet([WeightedRule(AlwaysThrows(), weight: 2, valueOnError: -1),
                                 WeightedRule(Constant(name: "ok", value: 1))])
        let results = try set.score([Completion(text: "a"), Completion(text: "b")], against: [Sample(), Sample()])
        XCTAssertThrowsError(try set.score([Completion(text: "a")], against: [])) {
            XCTAssertEqual("\($0)", "1 completions but 0 samples: expected one sample per completion")
        }
        XCTAssertEqual(results.count, 2)
        XCTAssertEqual(results[0].value(of: "broken"), -1)
        XCTAssertEqual(results[0].total, -2 + 1)
        XCTAssertEqual(results[0].error(of: "broken"), "rule 'broken' needs the sample field 'x' (anything), which is missing")
        XCTAssertEqual(set.metrics["broken"]?.errors, 2)
        XCTAssertEqual(set.metrics["ok"]?.errors, 0)
        XCTAssertEqual(set.metrics.errorCount, 2)
    }

    func testNonFiniteValuesAreErrorsNotPoison() throws {
        var set = try RewardSet([WeightedRule(Constant(name: "nan", value: .nan))])
        let scored = set.score(Completion(text: ""), for: Sample())
        XCTAssertEqual(scored.total, 0)
        XCTAssertNotNil(scored.error(of: "nan"))
    }

    func testDuplicateRuleNamesAreRejected() {
        XCTAssertThrowsError(try RewardSet([WeightedRule(Constant(name: "a", value: 1)), WeightedRule(Constant(name: "a", value: 2))]))
    }

    func testRegistryMakesRulesWithOptionsAndRejectsUnknownOnes() throws {
        let registry = try UserRewards.registry()
        XCTAssertEqual(Set(registry.names), ["accuracy", "format", "tag_count", "think_format", "countdown", "length",
                                              "repetition", "overlong", "language_mixing", "step_count"])
        var set = try registry.makeRewardSet([
            RuleSpec(name: "accuracy", weight: 1, options: ["extraction": "boxed_or_fallback", "on_error": "-1"]),
            RuleSpec(name: "format", weight: 0.25, options: ["strict": "false"]),
        ])
        let scored = set.score(Completion(text: "<think>x</think><answer>The final answer is 4.</answer>"), for: Sample(answer: "4"))
        XCTAssertEqual(scored.total, 1.25)
        XCTAssertEqual(scored.extracted(by: "accuracy"), .some("4"))
        let noGold = set.score(Completion(text: "x"), for: Sample())
        XCTAssertEqual(noGold.value(of: "accuracy"), -1)

        XCTAssertThrowsError(try registry.makeRule(named: "acuracy")) { XCTAssertTrue("\($0)".contains("known rules: accuracy")) }
        XCTAssertThrowsError(try registry.makeRule(named: "accuracy", options: ["extract": "boxed"])) {
            XCTAssertEqual("\($0)", "rule 'accuracy' has no option 'extract'; its options are extraction, think, tolerance, on_error")
        }
        XCTAssertThrowsError(try registry.makeRule(named: "accuracy", options: ["extraction": "last"])) {
            XCTAssertEqual("\($0)", "option accuracy.extraction = 'last' is invalid: expected one of boxed, boxed_or_fallback, answer_tag")
        }
        var duplicate = registry
        XCTAssertThrowsError(try duplicate.register(AccuracyRule.self))
    }

    func testRuleSpecParsing() throws {
        XCTAssertEqual(try RuleSpec(parsing: "accuracy"), RuleSpec(name: "accuracy", weight: 1))
        XCTAssertEqual(try RuleSpec(parsing: "format:0.5"), RuleSpec(name: "format", weight: 0.5))
        XCTAssertEqual(try RuleSpec(parsing: "repetition:-1e-1"), RuleSpec(name: "repetition", weight: -0.1))
        XCTAssertThrowsError(try RuleSpec(parsing: "format:heavy"))
        XCTAssertThrowsError(try RuleSpec(parsing: ":1"))
        XCTAssertThrowsError(try RuleSpec(parsing: "format:inf"))
    }

    func testHelpTextListsEveryRuleAndOption() throws {
        let text = try UserRewards.registry().helpText()
        for name in ["accuracy.extraction", "countdown.format_score", "repetition.ngram_size", "overlong.cache_length",
                     "length.max_len", "format.strict", "step_count.target", "language_mixing.script"] {
            XCTAssertTrue(text.contains(name), name)
        }
    }
}
