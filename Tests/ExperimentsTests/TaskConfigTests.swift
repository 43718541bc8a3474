import Foundation
import XCTest
@testable import Experiments

final class TaskConfigTests: XCTestCase {
    func testEmptySectionDecodesToDocumentedDefaults() throws {
        let config = try TaskTesting.config("{}")
        XCTAssertEqual(config, TaskConfig())
        XCTAssertEqual(config.name, .arithmetic)
        XCTAssertEqual(config.templateName, "r1zero")
        XCTAssertNil(config.trainSize)
        XCTAssertEqual(config.generatedTrainSize, 1000)
        XCTAssertEqual(config.evalSize, 100)
        XCTAssertEqual(config.seed, 0)
        XCTAssertEqual(config.digits, 2)
        XCTAssertEqual(config.operators, "+-")
        XCTAssertEqual(config.operands, 2)
        XCTAssertFalse(config.allowNegativeResults)
        XCTAssertEqual([config.minNumbers, config.maxNumbers, config.minNumber, config.maxNumber, config.minTarget, config.maxTarget], [3, 4, 1, 99, 1, 100])
        XCTAssertNil(config.path)
        XCTAssertNil(config.evalPath)
        XCTAssertEqual(config.questionField, "question")
        XCTAssertEqual(config.answerField, "answer")
        XCTAssertEqual(config.answerFormat, .auto)
        XCTAssertEqual(try TaskTesting.config(#"{"name": "countdown"}"#).templateName, "r1zero_countdown")
    }

    func testKeysAreTheSnakeCaseNamesAndEveryKeyDecodes() throws {
        XCTAssertEqual(TaskConfig.keys, ["name", "template", "train_size", "eval_size", "seed", "digits", "operators", "operands",
                                         "allow_negative_results", "min_numbers", "max_numbers", "min_number", "max_number",
                                         "min_target", "max_target", "path", "eval_path", "question_field", "answer_field", "answer_format"])
        let config = try TaskTesting.config("""
            {"name": "jsonl", "template": "plain", "train_size": 5, "eval_size": 2, "seed": 9, "digits": 3, "operators": "*",
             "operands": 4, "allow_negative_results": true, "min_numbers": 2, "max_numbers": 5, "min_number": 2, "max_number": 50,
             "min_target": 10, "max_target": 20, "path": "a.jsonl", "eval_path": "b.jsonl", "question_field": "q",
             "answer_field": "a", "answer_format": "boxed"}
            """)
        XCTAssertEqual(config.template, "plain")
        XCTAssertEqual(config.trainSize, 5)
        XCTAssertEqual(config.seed, 9)
        XCTAssertEqual(config.operands, 4)
        XCTAssertTrue(config.allowNegativeResults)
        XCTAssertEqual(config.maxNumbers, 5)
        XCTAssertEqual(config.maxTarget, 20)
        XCTAssertEqual(config.evalPath, "b.jsonl")
        XCTAssertEqual(config.answerFormat, .boxed)
        // Round trip through Codable.
        let again = try JSONDecoder().decode(TaskConfig.self, from: JSONEncoder().encode(config))
        XCTAssertEqual(again, config)
    }

    func testUnknownTaskNameAndAnswerFormatNameTheKeyAndChoices() {
        TaskTesting.assertTaskError(["task.name", "arithmetic, countdown, jsonl", "'gsm8k'"]) { _ = try TaskTesting.config(#"{"name": "gsm8k"}"#) }
        TaskTesting.assertTaskError(["task.answer_format", "auto, gsm8k, boxed, plain", "'hash'"]) { _ = try TaskTesting.config(#"{"answer_format": "hash"}"#) }
    }

    func testInvalidValuesAreErrorsNamingTheKeyAndWhatWasExpected() throws {
        let cases: [(String, [String])] = [
            (#"{"digits": 0}"#, ["task.digits", "1…9", "got 0"]),
            (#"{"digits": 10}"#, ["task.digits"]),
            (#"{"operators": ""}"#, ["task.operators", "+ - * /"]),
            (#"{"operators": "+x"}"#, ["task.operators", "'+x'"]),
            (#"{"operators": "++"}"#, ["task.operators", "at most once"]),
            (#"{"operands": 1}"#, ["task.operands", "2…8"]),
            (#"{"train_size": 0}"#, ["task.train_size", "at least 1"]),
            (#"{"eval_size": -1}"#, ["task.eval_size"]),
            (#"{"name": "countdown", "min_numbers": 5, "max_numbers": 4}"#, ["task.min_numbers", "at most max_numbers (4)", "got 5"]),
            (#"{"max_numbers": 6}"#, ["task.max_numbers", "2…5"]),
            (#"{"min_number": 0}"#, ["task.min_number"]),
            (#"{"min_number": 10, "max_number": 5}"#, ["task.max_number", "min_number (10)"]),
            (#"{"min_target": 50, "max_target": 10}"#, ["task.min_target", "max_target (10)"]),
            (#"{"question_field": ""}"#, ["task.question_field"]),
            (#"{"question_field": "x", "answer_field": "x"}"#, ["task.answer_field"]),
            (#"{"template": "r1_zero"}"#, ["task.template", "template \"r1_zero\" is neither a built-in", "r1zero, r1zero_countdown, plain"]),
            (#"{"template": "Solve {question"}"#, ["task.template", "{question that is not closed"]),
        ]
        for (json, fragments) in cases {
            let config = try TaskTesting.config(json)
            TaskTesting.assertTaskError(fragments) { try config.validate() }
        }
        try TaskConfig().validate()
        try TaskTesting.config(#"{"name": "countdown"}"#).validate()
    }

    func testTemplateNamingAFieldTheTaskLacksFailsBeforeTraining() {
        TaskTesting.assertTaskError(["task.template", "{numbers}", "question"]) {
            _ = try TaskTesting.splits(#"{"template": "Use {numbers}: {question}", "train_size": 3, "eval_size": 1}"#)
        }
    }

    func testUnreachableCountdownRangeIsAnError() {
        // Two numbers of 1 reach only 0, 1 and 2.
        TaskTesting.assertTaskError(["task.max_target", "widen"]) {
            _ = try TaskTesting.splits(#"{"name": "countdown", "min_numbers": 2, "max_numbers": 2, "min_number": 1, "max_number": 1, "min_target": 50, "max_target": 60, "train_size": 1, "eval_size": 0}"#)
        }
    }
}
