import Foundation
import XCTest
@testable import Trajectories

final class DocumentationAndReportTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// docs/trajectory-format.md documents every dataset and root attribute the writer creates, under its table.
    func testFormatDocumentListsEveryDatasetAndAttribute() throws {
        let document = try String(contentsOfFile: packageRoot + "/docs/trajectory-format.md", encoding: .utf8)
        XCTAssertTrue(document.contains("# Run file format (trajectory store), version \(TrajectorySchema.version)"))
        let sections = document.components(separatedBy: "\n### ")
        for spec in TrajectorySchema.columns {
            guard let section = sections.first(where: { $0.hasPrefix("`\(spec.table)/`") }) else {
                XCTFail("no section for table \(spec.table)/")
                continue
            }
            XCTAssertTrue(section.contains("`\(spec.name)`"), "\(spec.path) is not documented")
            let dtype = spec.kind == .string ? "str" : spec.kind.numpyName
            let rows = section.components(separatedBy: "\n").filter { $0.hasPrefix("|") && $0.contains("`\(spec.name)`") }
            XCTAssertTrue(rows.contains { $0.contains("| \(dtype)") }, "\(spec.path) is not documented as \(dtype)")
        }
        for attribute in TrajectorySchema.rootAttributes {
            XCTAssertTrue(document.contains("`\(attribute)`"), "root attribute \(attribute) is not documented")
        }
    }

    func testSummaryShowsConfigStepsEvaluationsAndLastStepMetrics() throws {
        let path = directory + "/run.h5"
        let writer = try TrajectoryWriter(creating: path, metadata: testMetadata)
        for step in 0...3 { try writer.append(makeStep(step)) }
        try writer.appendEvaluation(EvaluationRecord(step: 3, k: 4, passAt1: 0.25, passAtK: 0.75, problems: []))
        try writer.close()
        let text = try RunReport.summary(of: TrajectoryReader(path: path))
        for expected in ["model      Tests/Fixtures/qwen2-tiny (sha256:abc123)", "seed       7",
                         "rewards    correctness ×1.0, format ×0.5", "steps      4 (0–3), 24 completions",
                         "evals      1 (last at step 3: pass@1 0.250, pass@4 0.750", "last step (3):",
                         "loss 0.220", "tokens_per_second 1237.5", "experiment:", "  # arithmetic run",
                         "  - {name: format, weight: 0.5}"] {
            XCTAssertTrue(text.contains(expected), "missing \(expected) in\n\(text)")
        }
        let last = try TrajectoryReader(path: path).summary(ofStep: 3)
        XCTAssertTrue(text.contains("reward \(RunReport.fixed(last.rewards.totalMean)) ± "), text)
    }

    func testStepViewShowsTheFirstCompletionsWithRewardsAndErrors() throws {
        let path = directory + "/run.h5"
        let records = try writeRun(at: path, steps: 0...2)
        let text = try RunReport.step(2, of: TrajectoryReader(path: path), completions: 2)
        let shown = records[2].completions.prefix(2)
        XCTAssertTrue(text.hasPrefix("step 2: 2 prompts, 6 completions (showing 2)"), text)
        XCTAssertTrue(text.contains("group 0 · prompt 200 · answer 2"), text)
        XCTAssertTrue(text.contains(records[2].prompts[0].text), text)
        for (index, completion) in shown.enumerated() {
            XCTAssertTrue(text.contains("completion \(index) · \(completion.length) tokens · \(completion.finishReason.rawValue)"), text)
            XCTAssertTrue(text.contains(completion.text), text)
            XCTAssertTrue(text.contains("correctness \(RunReport.fixed(Double(completion.rewards[0])))  format "
                + "\(RunReport.fixed(Double(completion.rewards[1])))  total \(RunReport.fixed(Double(completion.totalReward)))"
                + "  advantage \(RunReport.signed(Double(completion.advantage)))"), text)
        }
        XCTAssertTrue(text.contains("error in format: format rule: unbalanced <think> tag at 3:14 🙃"), text)
        XCTAssertFalse(text.contains("completion 2 ·"), text)
        XCTAssertFalse(text.contains("group 1"), text)
    }

    func testStepViewOfAMissingStepNamesTheAvailableSteps() throws {
        let path = directory + "/run.h5"
        _ = try writeRun(at: path, steps: 0...2)
        XCTAssertThrowsError(try RunReport.step(9, of: TrajectoryReader(path: path), completions: 1)) { error in
            XCTAssertEqual("\(error)", "\(path): no step 9 in this run (steps: 0–2)")
        }
    }

    func testSummaryOfARunWithoutStepsSaysSo() throws {
        let path = directory + "/run.h5"
        try TrajectoryWriter(creating: path, metadata: testMetadata).close()
        let text = try RunReport.summary(of: TrajectoryReader(path: path))
        XCTAssertTrue(text.contains("steps      none yet"), text)
        XCTAssertFalse(text.contains("last step"), text)
    }

    /// The benchmark's result is self-consistent on a small run (the real numbers come from `grpo bench store`).
    func testStoreBenchmarkMeasuresAppendsSizeAndCompression() throws {
        let result = try StoreBenchmark.run(path: directory + "/bench.h5", steps: 3, completionsPerStep: 8,
                                            tokensPerCompletion: 32)
        XCTAssertEqual(result.tokens, 3 * 8 * 32)
        XCTAssertGreaterThan(result.secondsPerAppendMedian, 0)
        XCTAssertLessThanOrEqual(result.secondsPerAppendMin, result.secondsPerAppendMax)
        XCTAssertGreaterThan(result.cpuSecondsPerAppendMedian, 0)
        XCTAssertEqual(result.bytesPerToken, Double(result.fileBytes) / Double(result.tokens), accuracy: 1e-9)
        XCTAssertEqual(result.compressionRatio, Double(result.rawBytes) / Double(result.fileBytes), accuracy: 1e-9)
        let size = try FileManager.default.attributesOfItem(atPath: directory + "/bench.h5")[.size] as! NSNumber
        XCTAssertEqual(result.fileBytes, size.intValue)
        XCTAssertEqual(try TrajectoryReader(path: directory + "/bench.h5").steps, [0, 1, 2])
        let json = try JSONSerialization.jsonObject(with: Data(result.jsonLine.utf8)) as! [String: Any]
        XCTAssertEqual(json["benchmark"] as? String, "store")
        XCTAssertNotNil(json["seconds_per_append_median"] as? Double)
        XCTAssertNotNil(json["bytes_per_token"] as? Double)
        XCTAssertNotNil(json["compression_ratio"] as? Double)
        XCTAssertFalse(result.jsonLine.contains("\n"))
    }
}
