import Foundation
import XCTest
@testable import Trajectories

/// A fresh directory per test, removed afterwards.
func makeTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "trajectories-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

let testMetadata = RunMetadata(
    experiment: "# arithmetic run\nseed: 7\nrewards:\n  - {name: correctness, weight: 1.0}\n  - {name: format, weight: 0.5}\n",
    seed: 7, swiftGRPOVersion: "0.1.0-test", modelPath: "Tests/Fixtures/qwen2-tiny", modelHash: "sha256:abc123",
    tokenizerPath: "Tests/Fixtures/qwen2-tiny/tokenizer.json", tokenizerHash: "sha256:def456",
    rewardRules: ["correctness", "format"], rewardWeights: [1.0, 0.5], extraStepMetrics: ["tokens_per_second"],
    startTime: "2026-11-24T22:40:18Z")

/// Varied small steps: Unicode text, a completion of zero tokens, rule errors, steps without reference log-probs.
func makeStep(_ step: Int, prompts promptCount: Int = 2, groupSize: Int = 3, seed: UInt64 = 0) -> StepRecord {
    var random = SyntheticSteps(seed: UInt64(step) &* 1000 &+ seed)
    let prompts = (0..<promptCount).map { index in
        PromptRecord(promptIndex: 100 * step + index, text: "Compute \(step) + \(index) = ? Answer in \\boxed{}. Ünïcødé ✓",
                     answer: "\(step + index)")
    }
    var completions: [CompletionRecord] = []
    for group in 0..<promptCount {
        for member in 0..<groupSize {
            let length = (step == 1 && group == 0 && member == 0) ? 0 : Int(random.next() % 12) + 1
            let tokens = (0..<length).map { _ in Int32(random.next() % 50_000) }
            let new = (0..<length).map { _ in random.logProb() }
            let rewards: [Float] = [Float(random.next() % 2), Float(random.next() % 3) / 2]
            let errors = member == 1 ? ["", "format rule: unbalanced <think> tag at 3:14 🙃"] : []
            completions.append(CompletionRecord(
                group: group, text: "<think>\(step)+\(group)</think> 答案 \\boxed{\(member)} 🚀 member \(member)",
                tokenIDs: tokens, finishReason: FinishReason.allCases[(group + member) % 3], rewards: rewards,
                totalReward: rewards[0] + 0.5 * rewards[1], advantage: Float(member) - 1,
                ruleErrors: errors, oldLogProbs: new.map { $0 - 0.001 },
                referenceLogProbs: step % 2 == 0 ? new.map { $0 + 0.01 } : [], newLogProbs: new))
        }
    }
    let metrics = StepMetrics(step: step, learningRate: 1e-5 * Double(step + 1), loss: 0.25 - Double(step) / 100,
                              kl: 0.001 * Double(step), clipFractionLow: 0.01, clipFractionHigh: 0.02,
                              entropy: step == 0 ? .nan : 1.5, gradNorm: 0.75, zeroVarianceGroups: step % 2,
                              tokensGenerated: completions.reduce(0) { $0 + $1.length },
                              seconds: PhaseSeconds(sample: 0.5, score: 0.01, reference: 0.1, policyUpdate: 0.3),
                              extra: [1234.5 + Double(step)])
    return StepRecord(metrics: metrics, prompts: prompts, completions: completions)
}

func writeRun(at path: String, steps: ClosedRange<Int>) throws -> [StepRecord] {
    let writer = try TrajectoryWriter(creating: path, metadata: testMetadata)
    let records = steps.map { makeStep($0) }
    for record in records { try writer.append(record) }
    try writer.close()
    return records
}

/// The Python interpreter with h5py that `make test` provides through GRPO_PYTHON, or nil.
func pythonWithH5py() -> String? {
    guard let python = ProcessInfo.processInfo.environment["GRPO_PYTHON"], !python.isEmpty else { return nil }
    return python
}

struct ProcessResult {
    var status: Int32
    var output: String
}

func runProcess(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

/// Tests/TrajectoriesTests, found from this source file.
let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
/// The package root.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

func XCTAssertThrowsTrajectoryError(_ expression: @autoclosure () throws -> Any, _ expected: TrajectoryError,
                                    file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try expression(), file: file, line: line) { error in
        XCTAssertEqual(error as? TrajectoryError, expected, "\(error)", file: file, line: line)
    }
}

/// Writes a one-step run with no reward rules and no extra metrics; returns what it wrote.
func writeRunWithoutRules(at path: String) throws -> (metadata: RunMetadata, record: StepRecord) {
    var metadata = testMetadata
    metadata.rewardRules = []
    metadata.rewardWeights = []
    metadata.extraStepMetrics = []
    var record = makeStep(0)
    record.metrics.extra = []
    for index in record.completions.indices {
        record.completions[index].rewards = []
        record.completions[index].ruleErrors = []
    }
    let writer = try TrajectoryWriter(creating: path, metadata: metadata)
    try writer.append(record)
    try writer.close()
    return (metadata, record)
}
