import Foundation
import RewardSystem
import XCTest
@testable import Experiments

final class TaskJSONLTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("task-jsonl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func write(_ name: String, _ lines: [String]) throws {
        try lines.joined(separator: "\n").write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func splits(_ json: String) throws -> TaskSplits {
        try TaskTesting.config(json).makeSplits(relativeTo: directory)
    }

    /// `/work/shared/data` (the repository's `../shared/data`), or skip.
    func sharedData(_ file: String) throws -> URL {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url = repository.appendingPathComponent("../shared/data/\(file)").standardizedFileURL
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw XCTSkip("GSM8K is not at \(url.path) (the project's ../shared/data); skipping")
        }
        return url
    }

    func testGSM8KTestFileLoadsWithBareAnswersAndNoThousandsSeparators() throws {
        let test = try sharedData("gsm8k_test.jsonl")
        var config = TaskConfig(name: .jsonl)
        config.path = test.path
        config.evalSize = 100
        let splits = try config.makeSplits(relativeTo: directory)
        XCTAssertEqual(splits.train.count + splits.eval.count, 1319)
        let first = splits.train[0]
        XCTAssertTrue(first.question.hasPrefix("Janet\u{2019}s ducks lay 16 eggs per day."))
        XCTAssertEqual(first.answer, "18")
        XCTAssertNil(first.fields["answer"], "the solution is not a template field (it would leak the answer)")
        // Line 147: "#### 2,125".
        XCTAssertEqual(splits.train[146].answer, "2125")
        XCTAssertTrue((splits.train + splits.eval).allSatisfy { $0.answer.map { Double($0) != nil } ?? false },
                      "every GSM8K gold is a bare number")
        // Held out: the last 100 lines.
        XCTAssertEqual(splits.eval.count, 100)
        XCTAssertEqual(splits.eval.last?.index, 99)
        let evalQuestions = Set(splits.eval.map(\.question))
        XCTAssertTrue(splits.train.allSatisfy { !evalQuestions.contains($0.question) })
    }

    func testGSM8KTrainAndTestFilesWithRelativePathsAndEvalPath() throws {
        let train = try sharedData("gsm8k_train.jsonl")
        _ = try sharedData("gsm8k_test.jsonl")
        // Paths relative to the experiment file's directory, as an experiment file gives them.
        let experimentDirectory = train.deletingLastPathComponent().deletingLastPathComponent()
        let splits = try TaskTesting.config(#"{"name": "jsonl", "path": "data/gsm8k_train.jsonl", "eval_path": "../shared/data/gsm8k_test.jsonl", "eval_size": 50, "train_size": 500, "answer_format": "gsm8k"}"#)
            .makeSplits(relativeTo: experimentDirectory)
        XCTAssertEqual(splits.train.count, 500)
        XCTAssertEqual(splits.eval.count, 50)
        XCTAssertEqual(splits.eval[0].answer, "18")
        XCTAssertTrue(splits.train[0].question.hasPrefix("Natalia sold clips to 48 of her friends in April"))
        XCTAssertEqual(splits.train[0].answer, "72")
    }

    func testEvalIsTheLastLinesOrTheEvalFileAndNeverInTrain() throws {
        try write("data.jsonl", (1...10).map { #"{"question": "q\#($0)", "answer": "\#($0)"}"# } + [#"{"question": "q9", "answer": "9"}"#])
        let held = try splits(#"{"name": "jsonl", "path": "data.jsonl", "eval_size": 3}"#)
        XCTAssertEqual(held.eval.map(\.question), ["q9", "q10", "q9"])
        XCTAssertEqual(held.train.map(\.question), (1...8).map { "q\($0)" })
        XCTAssertEqual(held.train.map(\.index), Array(0..<8))

        try write("eval.jsonl", [#"{"question": "q2", "answer": "2"}"#, #"{"question": "new", "answer": "0"}"#])
        let separate = try splits(#"{"name": "jsonl", "path": "data.jsonl", "eval_path": "eval.jsonl", "train_size": 5}"#)
        XCTAssertEqual(separate.eval.map(\.question), ["q2", "new"])
        XCTAssertEqual(separate.train.map(\.question), ["q1", "q3", "q4", "q5", "q6"], "q2 is an evaluation question: dropped from training")
    }

    func testAnswerFormatsAndExtraFields() throws {
        try write("mixed.jsonl", [
            #"{"problem": "What is 3/4 of 1?", "solution": "So it is $\\boxed{\\frac{3}{4}}$.", "level": 2, "tags": ["a"]}"#,
            "{\"problem\": \"Big?\", \"solution\": \"#### 1,234,567\"}",
            #"{"problem": "Plain?", "solution": " 12,000 "}"#,
            #"{"problem": "Number?", "solution": 42}"#,
            #"{"problem": "Tuple?", "solution": "(1, 2)"}"#,
            #"{"problem": "none"}"#,
            #"{"problem": "null", "solution": null}"#,
            #"{"problem": "empty", "solution": "  "}"#,
            #"{"problem": "last", "level": 3}"#,
        ])
        let s = try splits(#"{"name": "jsonl", "path": "mixed.jsonl", "question_field": "problem", "answer_field": "solution", "eval_size": 1, "template": "{problem} (level {level})"}"#)
        let train = s.train
        XCTAssertEqual(train.map(\.answer), ["\\frac{3}{4}", "1234567", "12000", "42", "(1, 2)", nil, nil, nil])
        XCTAssertEqual(train[0].fields["question"], "What is 3/4 of 1?")
        XCTAssertEqual(train[0].fields["problem"], "What is 3/4 of 1?")
        XCTAssertEqual(train[0].fields["level"], "2")
        XCTAssertEqual(train[0].metadata["level"], 2)
        XCTAssertEqual(train[0].metadata["tags"], ["a"])
        XCTAssertNil(train[0].metadata["problem"])
        XCTAssertEqual(try PromptTemplate("{problem} (level {level})").render(train[0]), "What is 3/4 of 1? (level 2)")
        XCTAssertEqual(train[0].sample, Sample(prompt: "What is 3/4 of 1?", answer: "\\frac{3}{4}", metadata: ["level": 2, "tags": ["a"]]))

        XCTAssertEqual(JSONLTask.removingThousandsSeparators("-1,000.50"), "-1000.50")
        XCTAssertEqual(JSONLTask.removingThousandsSeparators("1,00"), "1,00")
        XCTAssertEqual(JSONLTask.removingThousandsSeparators("1234,567"), "1234,567")
    }

    func testBadLinesAreErrorsNamingFileLineAndField() throws {
        try write("bad.jsonl", [#"{"question": "a", "answer": "1"}"#, "", #"{"question": "b", "answer": "2""#])
        TaskTesting.assertTaskError(["bad.jsonl:3", "not valid JSON"]) { _ = try self.splits(#"{"name": "jsonl", "path": "bad.jsonl", "eval_size": 0}"#) }

        try write("array.jsonl", [#"["question"]"#])
        TaskTesting.assertTaskError(["array.jsonl:1", "JSON object"]) { _ = try self.splits(#"{"name": "jsonl", "path": "array.jsonl", "eval_size": 0}"#) }

        try write("noquestion.jsonl", [#"{"question": "a", "answer": "1"}"#, #"{"prompt": "b", "answer": "2"}"#])
        TaskTesting.assertTaskError(["noquestion.jsonl:2", "'question'", "task.question_field"]) {
            _ = try self.splits(#"{"name": "jsonl", "path": "noquestion.jsonl", "eval_size": 0}"#)
        }

        try write("objectquestion.jsonl", [#"{"question": {"text": "a"}}"#])
        TaskTesting.assertTaskError(["objectquestion.jsonl:1", "field 'question'", "a string or number"]) {
            _ = try self.splits(#"{"name": "jsonl", "path": "objectquestion.jsonl", "eval_size": 0}"#)
        }

        try write("nohash.jsonl", [#"{"question": "a", "answer": "18"}"#])
        TaskTesting.assertTaskError(["nohash.jsonl:1", "field 'answer'", "####"]) {
            _ = try self.splits(#"{"name": "jsonl", "path": "nohash.jsonl", "eval_size": 0, "answer_format": "gsm8k"}"#)
        }
        TaskTesting.assertTaskError(["nohash.jsonl:1", "\\boxed"]) {
            _ = try self.splits(#"{"name": "jsonl", "path": "nohash.jsonl", "eval_size": 0, "answer_format": "boxed"}"#)
        }

        try write("empty.jsonl", ["", "  ", ""])
        TaskTesting.assertTaskError(["empty.jsonl", "no records"]) { _ = try self.splits(#"{"name": "jsonl", "path": "empty.jsonl"}"#) }

        TaskTesting.assertTaskError(["task.path", "file not found", "missing.jsonl"]) {
            _ = try self.splits(#"{"name": "jsonl", "path": "missing.jsonl"}"#)
        }
        try write("ok.jsonl", [#"{"question": "a", "answer": "1"}"#, #"{"question": "b", "answer": "2"}"#])
        TaskTesting.assertTaskError(["task.eval_path", "file not found", "nope.jsonl"]) {
            _ = try self.splits(#"{"name": "jsonl", "path": "ok.jsonl", "eval_path": "nope.jsonl"}"#)
        }
        TaskTesting.assertTaskError(["task.eval_size", "leaves none for training"]) {
            _ = try self.splits(#"{"name": "jsonl", "path": "ok.jsonl", "eval_size": 2}"#)
        }
        TaskTesting.assertTaskError(["task.path", "JSONL file"]) { _ = try self.splits(#"{"name": "jsonl"}"#) }
    }

    func testWindowsLineEndingsAndByteOrderMarkAreAccepted() throws {
        let text = "\u{FEFF}{\"question\": \"a\", \"answer\": \"#### 5\"}\r\n{\"question\": \"b\", \"answer\": \"#### 6\"}\r\n"
        try text.write(to: directory.appendingPathComponent("crlf.jsonl"), atomically: true, encoding: .utf8)
        let s = try splits(#"{"name": "jsonl", "path": "crlf.jsonl", "eval_size": 1}"#)
        XCTAssertEqual(s.train.map(\.answer), ["5"])
        XCTAssertEqual(s.eval.map(\.answer), ["6"])
    }
}
