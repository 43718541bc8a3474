import Foundation
import XCTest
import CommandLineSupport
@testable import Trajectories

/// `grpo inspect` and `grpo bench store` run as a user runs them: the built executable, its output and exit status.
final class InspectCommandTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    func grpo(_ arguments: [String]) throws -> CommandResult { try runGRPO(arguments) }

    func testInspectSummarizesTheRun() throws {
        let path = directory + "/run.h5"
        _ = try writeRun(at: path, steps: 0...2)
        let result = try grpo(["inspect", path])
        XCTAssertEqual(result.status, 0, result.standardError)
        for expected in ["run file   \(path)", "model      Tests/Fixtures/qwen2-tiny (sha256:abc123)",
                         "rewards    correctness ×1.0, format ×0.5", "steps      3 (0–2), 18 completions",
                         "last step (2):", "experiment:", "  # arithmetic run"] {
            XCTAssertTrue(result.standardOutput.contains(expected), "missing \(expected) in\n\(result.standardOutput)")
        }
        XCTAssertFalse(result.standardOutput.contains("completion 0 ·"), result.standardOutput)
    }

    func testInspectStepShowsTheRequestedNumberOfCompletionsWithRewards() throws {
        let path = directory + "/run.h5"
        let records = try writeRun(at: path, steps: 0...2)
        let result = try grpo(["inspect", path, "--step", "1", "--completions", "2"])
        XCTAssertEqual(result.status, 0, result.standardError)
        let text = result.standardOutput
        XCTAssertTrue(text.hasPrefix("step 1: 2 prompts, 6 completions (showing 2)"), text)
        for completion in records[1].completions.prefix(2) {
            XCTAssertTrue(text.contains(completion.text), text)
            XCTAssertTrue(text.contains("total \(RunReport.fixed(Double(completion.totalReward)))"), text)
        }
        XCTAssertTrue(text.contains("completion 1 ·") && !text.contains("completion 2 ·"), text)
        XCTAssertFalse(text.contains(records[1].completions[2].text), text)
    }

    func testInspectWithoutStepShowsTheLastStepsCompletionsWhenAsked() throws {
        let path = directory + "/run.h5"
        _ = try writeRun(at: path, steps: 0...2)
        let result = try grpo(["inspect", path, "--completions", "1"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertTrue(result.standardOutput.contains("last step (2):"), result.standardOutput)
        XCTAssertTrue(result.standardOutput.contains("step 2: 2 prompts, 6 completions (showing 1)"), result.standardOutput)
    }

    func testInspectFailsWithAMessageOnBadInput() throws {
        let path = directory + "/run.h5"
        _ = try writeRun(at: path, steps: 0...2)
        let text = directory + "/notes.txt"
        try "not a run".write(toFile: text, atomically: true, encoding: .utf8)
        for (arguments, message) in [
            (["inspect", path, "--step", "9"], "no step 9 in this run (steps: 0–2)"),
            (["inspect", text], "not an HDF5 file"),
            (["inspect", directory + "/missing.h5"], "no such file"),
            (["inspect", path, "--completions=-1"], "--completions must be 0 or more"),
        ] {
            let result = try grpo(arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.standardError.contains(message), "\(arguments): \(result.standardError)")
            XCTAssertFalse(result.standardError.contains("Fatal error"), result.standardError)
        }
    }

    func testBenchStorePrintsOneJSONLine() throws {
        let result = try grpo(["bench", "store", "--steps", "2", "--completions", "4", "--tokens", "8"])
        XCTAssertEqual(result.status, 0, result.standardError)
        let lines = result.standardOutput.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, result.standardOutput)
        let json = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        XCTAssertEqual(json?["benchmark"] as? String, "store")
        XCTAssertEqual(json?["tokens"] as? Int, 2 * 4 * 8)
        for key in ["seconds_per_append_median", "bytes_per_token", "compression_ratio", "cpu_seconds_per_append_median"] {
            XCTAssertNotNil(json?[key] as? Double, key)
        }
    }
}
