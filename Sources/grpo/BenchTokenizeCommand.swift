import ArgumentParser
import Foundation
import Tokenizers

/// `grpo bench tokenize`: single-threaded encode throughput on GSM8K text, one JSON line.
struct BenchTokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Measure single-threaded encode throughput of a tokenizer on JSONL text.",
        discussion: """
            Encodes every "question", "answer" and "text" string of the input, one thread, \
            without special tokens, `--repeats` times, and prints one JSON line. `cold_seconds` \
            is the first pass (empty word cache); throughput uses the fastest pass, in wall time \
            (`mb_per_s`) and in process CPU time (`cpu_mb_per_s`, steadier on a busy machine). The \
            reference number for the `tokenizers` library comes from \
            Tests/Fixtures/tokenizers/bench_tokenizers.py on the same input.
            """)

    @Option(help: ArgumentHelp("JSONL text to encode.", valueName: "file.jsonl"))
    var input = "../shared/data/gsm8k_train.jsonl"

    @Option(help: ArgumentHelp("A tokenizer.json file or model directory.", valueName: "file-or-dir"))
    var tokenizer = "Tests/Fixtures/tokenizers/deepseek"

    @Option(help: "Number of passes over the input.")
    var repeats = 5

    func run() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        let loadStart = DispatchTime.now()
        let tokenizer: BPETokenizer
        do {
            tokenizer = try BPETokenizer(path: self.tokenizer)
        } catch let error as TokenizerError {
            throw TokenizeCommandError(message: error.description)
        }
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart.uptimeNanoseconds) / 1e9
        let texts = try BenchTokenizeCommand.texts(from: input)
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }

        var tokens = 0
        var times: [Double] = []
        var cpuTimes: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now()
            let cpuStart = BenchTokenizeCommand.processCPUSeconds()
            var count = 0
            for text in texts { count += tokenizer.encode(text, addSpecialTokens: false).count }
            cpuTimes.append(BenchTokenizeCommand.processCPUSeconds() - cpuStart)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)
            tokens = count
        }
        let best = times.min()!
        let bestCPU = cpuTimes.min()!
        let fields: [(String, String)] = [
            ("bench", "\"tokenize\""),
            ("implementation", "\"SwiftGRPO\""),
            ("tokenizer", JSONLines.quoted(self.tokenizer)),
            ("input", JSONLines.quoted(input)),
            ("threads", "1"),
            ("texts", "\(texts.count)"),
            ("bytes", "\(bytes)"),
            ("tokens", "\(tokens)"),
            ("load_seconds", String(format: "%.3f", loadSeconds)),
            ("cold_seconds", String(format: "%.4f", times[0])),
            ("best_seconds", String(format: "%.4f", best)),
            ("mb_per_s", String(format: "%.2f", Double(bytes) / best / 1e6)),
            ("tokens_per_s", String(format: "%.0f", Double(tokens) / best)),
            ("best_cpu_seconds", String(format: "%.4f", bestCPU)),
            ("cpu_mb_per_s", String(format: "%.2f", Double(bytes) / bestCPU / 1e6)),
        ]
        print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
    }

    /// CPU time of this process: less disturbed than wall time when other jobs share the cores.
    static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// The "question", "answer" and "text" strings of each JSONL line, in order.
    static func texts(from path: String) throws -> [String] {
        guard let data = JSONLines.contents(of: path) else {
            throw TokenizeCommandError(message: "cannot read \(path)")
        }
        var texts: [String] = []
        for (index, line) in data.split(separator: 0x0A).enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw TokenizeCommandError(message: "\(path):\(index + 1): expected a JSON object")
            }
            for key in ["question", "answer", "text"] {
                if let text = object[key] as? String { texts.append(text) }
            }
        }
        return texts
    }
}
