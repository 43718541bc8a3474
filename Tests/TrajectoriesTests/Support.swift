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

/// Rewrites the end-of-allocation address (EOA) in a run file's superblock (format version 2 or 3, 8-byte
/// addresses), with its checksum, as a writer killed between two flushes can leave it. Returns the old EOA.
@discardableResult
func setStoredEndOfAllocation(of path: String, to endOfAllocation: UInt64) throws -> UInt64 {
    let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
    defer { try? handle.close() }
    var superblock = [UInt8](try XCTUnwrap(try handle.read(upToCount: 48)))
    XCTAssertEqual(Array(superblock[0..<8]), [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a], "HDF5 signature")
    XCTAssertTrue([2, 3].contains(superblock[8]), "superblock version \(superblock[8])")
    XCTAssertEqual(superblock[9], 8, "size of addresses")
    func littleEndian(_ range: Range<Int>) -> UInt64 {
        range.reversed().reduce(0) { $0 << 8 | UInt64(superblock[$1]) }
    }
    XCTAssertEqual(UInt32(littleEndian(44..<48)), jenkinsLookup3(superblock[0..<44]), "superblock checksum")
    let old = littleEndian(28..<36)
    for byte in 0..<8 { superblock[28 + byte] = UInt8(truncatingIfNeeded: endOfAllocation >> (8 * byte)) }
    let checksum = jenkinsLookup3(superblock[0..<44])
    for byte in 0..<4 { superblock[44 + byte] = UInt8(truncatingIfNeeded: checksum >> (8 * byte)) }
    try handle.seek(toOffset: 0)
    try handle.write(contentsOf: superblock)
    return old
}

/// Bob Jenkins' lookup3 `hashlittle` with initial value 0: HDF5's metadata checksum.
func jenkinsLookup3<Bytes: Collection>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
    func rotate(_ x: UInt32, _ k: UInt32) -> UInt32 { (x << k) | (x >> (32 - k)) }
    let data = Array(bytes)
    var a = 0xdead_beef &+ UInt32(data.count), b = a, c = a
    func word(_ offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | (offset + $1 < data.count ? UInt32(data[offset + $1]) << (8 * UInt32($1)) : 0) }
    }
    var offset = 0
    while data.count - offset > 12 {
        a &+= word(offset); b &+= word(offset + 4); c &+= word(offset + 8)
        a &-= c; a ^= rotate(c, 4); c &+= b
        b &-= a; b ^= rotate(a, 6); a &+= c
        c &-= b; c ^= rotate(b, 8); b &+= a
        a &-= c; a ^= rotate(c, 16); c &+= b
        b &-= a; b ^= rotate(a, 19); a &+= c
        c &-= b; c ^= rotate(b, 4); b &+= a
        offset += 12
    }
    if data.count == offset { return c }
    // The last 1–12 bytes, zero-padded (`word` reads zeros past the end).
    a &+= word(offset); b &+= word(offset + 4); c &+= word(offset + 8)
    c ^= b; c &-= rotate(b, 14)
    a ^= c; a &-= rotate(c, 11)
    b ^= a; b &-= rotate(a, 25)
    c ^= b; c &-= rotate(b, 16)
    a ^= c; a &-= rotate(c, 4)
    b ^= a; b &-= rotate(a, 14)
    c ^= b; c &-= rotate(b, 24)
    return c
}
