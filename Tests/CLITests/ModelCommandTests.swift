import Foundation
import XCTest
import CommandLineSupport

/// Runs the built `grpo` executable as a user would, with the flags and JSONL fields of the contract.
final class ModelCommandTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    var workDirectory: URL!

    override func setUpWithError() throws {
        workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: workDirectory) }

    struct Result { let status: Int32; let output: String; let error: String }

    func grpo(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let result = try runGRPO(arguments, environment: environment)
        return Result(status: result.status, output: result.standardOutput, error: result.standardError)
    }

    func write(_ lines: [String], to name: String) throws -> String {
        let url = workDirectory.appendingPathComponent(name)
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func jsonLines(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    var expected: [String: Any] {
        let data = try! Data(contentsOf: Self.fixtures.appendingPathComponent("qwen2-tiny/expected.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    func testLogprobsWritesOneFloatPerCompletionTokenInInputOrder() throws {
        let batch = expected["batch"] as! [[String: Any]]
        let lines = try batch.map { item in
            String(decoding: try JSONSerialization.data(withJSONObject: ["prompt_ids": item["prompt_ids"]!, "completion_ids": item["completion_ids"]!]), as: UTF8.self)
        }
        let input = try write(lines, to: "pairs.jsonl")
        let outputPath = workDirectory.appendingPathComponent("logprobs.jsonl").path
        let result = try grpo(["logprobs", "--model", Self.fixtures.appendingPathComponent("qwen2-tiny").path,
                               "--input", input, "--output", outputPath])
        XCTAssertEqual(result.status, 0, result.error)
        let written = jsonLines(try String(contentsOfFile: outputPath, encoding: .utf8))
        let reference = expected["logprobs"] as! [[Double]]
        XCTAssertEqual(written.count, reference.count)
        for (line, want) in zip(written, reference) {
            let got = line["logprobs"] as! [Double]
            XCTAssertEqual(got.count, want.count)
            for (a, b) in zip(got, want) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        }
    }

    func testSampleIsSeededAndGreedyMatchesTransformers() throws {
        let greedy = expected["greedy"] as! [[String: Any]]
        let input = try write(try greedy.map { String(decoding: try JSONSerialization.data(withJSONObject: ["prompt_ids": $0["prompt_ids"]!]), as: UTF8.self) },
                              to: "prompts.jsonl")
        let model = Self.fixtures.appendingPathComponent("qwen2-tiny").path
        let greedyRun = try grpo(["sample", "--model", model, "--input", input, "--max-new-tokens", "12", "--greedy", "--ignore-eos"])
        XCTAssertEqual(greedyRun.status, 0, greedyRun.error)
        for (line, want) in zip(jsonLines(greedyRun.output), greedy) {
            XCTAssertEqual(line["completion_ids"] as! [Int], want["completion_ids"] as! [Int])
            XCTAssertEqual(line["finish_reason"] as? String, "length")
        }
        let arguments = ["sample", "--model", model, "--input", input, "--max-new-tokens", "16", "--temperature", "0.9",
                         "--top-k", "20", "--top-p", "0.9", "--min-p", "0.01", "--seed", "5"]
        let first = try grpo(arguments), second = try grpo(arguments)
        XCTAssertEqual(first.status, 0, first.error)
        XCTAssertEqual(first.output, second.output)
        for line in jsonLines(first.output) {
            XCTAssertTrue(["eos", "length", "stop"].contains(line["finish_reason"] as! String))
            XCTAssertLessThanOrEqual((line["completion_ids"] as! [Int]).count, 16)
        }
    }

    /// `--input` may be a pipe: `/dev/stdin`, or a shell's `<(command)`.
    func testInputFromAPipe() throws {
        let model = Self.fixtures.appendingPathComponent("qwen2-tiny").path
        let line = #"{"prompt_ids": [1, 5, 9], "completion_ids": [4, 7]}"#
        let fromFile = try grpo(["logprobs", "--model", model, "--input", try write([line], to: "pair.jsonl")])
        XCTAssertEqual(fromFile.status, 0, fromFile.error)
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "printf '%s\\n' \"$LINE\" | \"$GRPO\" logprobs --model \"$MODEL\" --input /dev/stdin"]
        shell.environment = ProcessInfo.processInfo.environment.merging(
            ["LINE": line, "GRPO": try grpoExecutable().path, "MODEL": model]) { _, new in new }
        let output = Pipe()
        shell.standardOutput = output
        try shell.run()
        let piped = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shell.waitUntilExit()
        XCTAssertEqual(shell.terminationStatus, 0)
        XCTAssertEqual(piped, fromFile.output)
        XCTAssertEqual((jsonLines(piped).first?["logprobs"] as? [Double])?.count, 2)
    }

    func testBadInputIsAClearErrorNamingTheLine() throws {
        let model = Self.fixtures.appendingPathComponent("qwen2-tiny").path
        let outOfVocabulary = try write(["{\"prompt_ids\": [1, 2], \"completion_ids\": [3]}", "{\"prompt_ids\": [1], \"completion_ids\": [9999]}"], to: "bad.jsonl")
        var result = try grpo(["logprobs", "--model", model, "--input", outOfVocabulary])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.error.contains("line 2") && result.error.contains("9999"), result.error)

        let malformed = try write(["{\"prompt_ids\": [1]}", "not json"], to: "malformed.jsonl")
        result = try grpo(["sample", "--model", model, "--input", malformed, "--max-new-tokens", "2"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.error.contains("malformed.jsonl:2"), result.error)

        let wrongType = try write(["{\"prompt_ids\": \"hello\"}"], to: "wrong.jsonl")
        result = try grpo(["sample", "--model", model, "--input", wrongType, "--max-new-tokens", "2"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.error.contains("prompt_ids"), result.error)

        result = try grpo(["sample", "--model", workDirectory.appendingPathComponent("missing").path, "--input", wrongType, "--max-new-tokens", "2"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.error.contains("missing"), result.error)
    }

    func testBenchPrintsOneJSONLine() throws {
        let result = try grpo(["bench", "sample", "--config", "tiny", "--runs", "1", "--batch", "2", "--new-tokens", "4"])
        XCTAssertEqual(result.status, 0, result.error)
        let line = jsonLines(result.output)
        XCTAssertEqual(line.count, 1)
        XCTAssertNotNil(line.first?["new_tokens_per_second"] as? Double)
        XCTAssertNotNil(line.first?["peak_rss_mb"] as? Double)
        let train = try grpo(["bench", "train", "--config", "tiny", "--runs", "1", "--batch", "2", "--sequence-length", "16"])
        XCTAssertEqual(train.status, 0, train.error)
        let trainLine = jsonLines(train.output).first
        XCTAssertNotNil(trainLine?["fwd_plus_bwd_s"] as? Double)
        #if arch(x86_64) // the FMA probe measures x86 FMA units; elsewhere it reports 0
        for line in [line.first, trainLine] {
            for key in ["fma_peak_gflops_before", "fma_peak_gflops_after", "fraction_of_fma_peak"] {
                let value = try XCTUnwrap(line?[key] as? Double, key)
                XCTAssertTrue(value.isFinite && value > 0, "\(key) = \(value)")
            }
        }
        #endif
    }

    func testBenchRejectsSizesItCannotTime() throws {
        for (arguments, flag) in [(["sample", "--runs", "0"], "--runs"), (["sample", "--new-tokens", "1"], "--new-tokens"),
                                  (["sample", "--batch", "0"], "--batch"), (["train", "--runs", "0"], "--runs"),
                                  (["train", "--sequence-length", "1"], "--sequence-length")] {
            let result = try grpo(["bench"] + arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.error.contains("\(flag) must be at least"), result.error)
            XCTAssertFalse(result.error.contains("Backtrace") || result.error.contains("Fatal error"), result.error)
        }
    }

    /// OpenBLAS 0.3.21 gives CPUs newer than its table SSE3 kernels (an Intel Xeon of model 207: `Prescott`);
    /// `grpo` starts again with `OPENBLAS_CORETYPE` set then, and keeps a value the user set.
    func testOpenBLASRunsKernelsForThisCPUsVectorInstructions() throws {
        let arguments = ["bench", "sample", "--config", "tiny", "--runs", "1", "--batch", "1", "--new-tokens", "2"]
        let result = try grpo(arguments)
        XCTAssertEqual(result.status, 0, result.error)
        let core = try XCTUnwrap(jsonLines(result.output).first?["openblas_core"] as? String)
        if cpuFlags.contains("avx2") && cpuFlags.contains("fma") && ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil {
            XCTAssertTrue(["haswell", "excavator", "zen", "skylakex", "cooperlake", "sapphirerapids"].contains(core.lowercased()),
                          "OpenBLAS runs \(core) kernels on a CPU with AVX2 and FMA")
        }
        let chosen = try grpo(arguments, environment: ["OPENBLAS_CORETYPE": "Prescott"])
        XCTAssertEqual(chosen.status, 0, chosen.error)
        XCTAssertEqual(jsonLines(chosen.output).first?["openblas_core"] as? String, "Prescott")
    }

    /// The flags of /proc/cpuinfo's first processor (empty where there is none).
    var cpuFlags: Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(line.split(separator: ":").last?.split(separator: " ").map(String.init) ?? [])
    }
}
