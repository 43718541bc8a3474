import Foundation
import XCTest
@testable import Trajectories

/// Reads Swift-written run files with h5py (Tests/TrajectoriesTests/check_run_file.py), as notebooks do, and
/// checks them against the documented schema. Needs GRPO_PYTHON: a Python with h5py (`make test` provides it).
final class H5pyCompatibilityTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func python() throws -> String {
        guard let python = pythonWithH5py() else {
            throw XCTSkip("h5py check skipped: set GRPO_PYTHON to a Python that has h5py (make test sets it up)")
        }
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw PythonNotFound(description: "GRPO_PYTHON is \(python), which is not an executable file")
        }
        return python
    }

    private struct PythonNotFound: Error, CustomStringConvertible { let description: String }

    func testH5pyReadsTheDocumentedSchemaAndValues() throws {
        let python = try python()
        let path = directory + "/run.h5"
        let writer = try TrajectoryWriter(creating: path, metadata: testMetadata)
        let records = (0...2).map { makeStep($0) }
        for record in records { try writer.append(record) }
        let evaluation = EvaluationRecord(step: 2, k: 4, passAt1: 0.5, passAtK: 0.75, problems: [
            EvaluationProblem(problemIndex: 11, correct: true, correctSamples: 3),
            EvaluationProblem(problemIndex: 12, correct: false, correctSamples: 0),
        ])
        try writer.appendEvaluation(evaluation)
        try writer.close()
        try expectCheckPasses(python, path, records: records, evaluations: [evaluation], metadata: testMetadata)
    }

    /// SWMR: h5py reads the file while the writer still has it open, and sees each step once it is flushed.
    func testH5pyReadsARunWhileItIsBeingWritten() throws {
        let python = try python()
        let path = directory + "/run.h5"
        let writer = try TrajectoryWriter(creating: path, metadata: testMetadata)
        var records: [StepRecord] = []
        for step in 0...1 {
            records.append(makeStep(step))
            try writer.append(records.last!)
        }
        try expectCheckPasses(python, path, records: records, evaluations: [], metadata: testMetadata)
        records.append(makeStep(2))
        try writer.append(records.last!)
        try expectCheckPasses(python, path, records: records, evaluations: [], metadata: testMetadata)
        try writer.close()
    }

    func testH5pyReadsARunWithoutRules() throws {
        let python = try python()
        let path = directory + "/run.h5"
        let (metadata, record) = try writeRunWithoutRules(at: path)
        try expectCheckPasses(python, path, records: [record], evaluations: [], metadata: metadata)
    }

    func testCheckScriptRejectsAFileThatBreaksTheSchema() throws {
        let python = try python()
        let path = directory + "/run.h5"
        let records = try writeRun(at: path, steps: 0...0)
        var wrong = testMetadata
        wrong.seed = 8
        let result = try runCheck(python, path, records: records, evaluations: [], metadata: wrong)
        XCTAssertNotEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("seed"), result.output)
    }

    // MARK: Helpers

    private func expectCheckPasses(_ python: String, _ path: String, records: [StepRecord], evaluations: [EvaluationRecord],
                                   metadata: RunMetadata, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try runCheck(python, path, records: records, evaluations: evaluations, metadata: metadata)
        XCTAssertEqual(result.status, 0, result.output, file: file, line: line)
        XCTAssertTrue(result.output.contains("checks passed"), result.output, file: file, line: line)
        print(result.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private func runCheck(_ python: String, _ path: String, records: [StepRecord], evaluations: [EvaluationRecord],
                          metadata: RunMetadata) throws -> ProcessResult {
        let expectedPath = directory + "/expected-\(UUID().uuidString).json"
        let data = try JSONSerialization.data(withJSONObject: expectation(records, evaluations, metadata))
        try data.write(to: URL(fileURLWithPath: expectedPath))
        return try runProcess(python, [testsDirectory + "/check_run_file.py", path, expectedPath])
    }

    private func expectation(_ records: [StepRecord], _ evaluations: [EvaluationRecord], _ metadata: RunMetadata) -> [String: Any] {
        func number(_ value: Double) -> Any { value.isNaN ? "nan" : value }
        func floats(_ values: [Float]) -> [Double] { values.map(Double.init) }
        let meta: [String: Any] = [
            "experiment": metadata.experiment, "seed": metadata.seed, "swiftgrpo_version": metadata.swiftGRPOVersion,
            "model_path": metadata.modelPath, "model_hash": metadata.modelHash, "tokenizer_path": metadata.tokenizerPath,
            "tokenizer_hash": metadata.tokenizerHash, "reward_rules": metadata.rewardRules,
            "reward_weights": metadata.rewardWeights, "extra_step_metrics": metadata.extraStepMetrics,
            "start_time": metadata.startTime,
        ]
        let steps: [[String: Any]] = records.map { record in
            let m = record.metrics
            let metrics: [String: Any] = [
                "learning_rate": number(m.learningRate), "loss": number(m.loss), "kl": number(m.kl),
                "clip_fraction_low": number(m.clipFractionLow), "clip_fraction_high": number(m.clipFractionHigh),
                "entropy": number(m.entropy), "grad_norm": number(m.gradNorm), "zero_variance_groups": m.zeroVarianceGroups,
                "tokens_generated": m.tokensGenerated, "seconds_sample": m.seconds.sample, "seconds_score": m.seconds.score,
                "seconds_reference": m.seconds.reference, "seconds_policy_update": m.seconds.policyUpdate,
            ]
            return [
                "step": m.step, "metrics": metrics, "extra": m.extra,
                "prompts": record.prompts.map { ["prompt_index": $0.promptIndex, "text": $0.text, "answer": $0.answer] },
                "completions": record.completions.map { c -> [String: Any] in
                    ["group": c.group, "text": c.text, "token_ids": c.tokenIDs.map(Int.init),
                     "finish_reason": c.finishReason.rawValue, "rewards": floats(c.rewards), "reward": Double(c.totalReward),
                     "advantage": Double(c.advantage), "rule_errors": c.ruleErrors, "old": floats(c.oldLogProbs),
                     "ref": floats(c.referenceLogProbs), "new": floats(c.newLogProbs)]
                },
            ]
        }
        let evals: [[String: Any]] = evaluations.map { e in
            ["step": e.step, "k": e.k, "pass_at_1": number(e.passAt1), "pass_at_k": number(e.passAtK),
             "maj_at_k": number(e.majAtK), "problem_index": e.problems.map(\.problemIndex),
             "correct": e.problems.map { $0.correct ? 1 : 0 }]
        }
        return ["metadata": meta, "steps": steps, "evals": evals]
    }
}
