import ArgumentParser
import Foundation
import Trajectories

struct BenchStoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Time appending GRPO steps to a run file; prints one JSON line.",
        discussion: """
            Appends --steps synthetic steps of --completions completions × --tokens tokens (text, token ids, \
            old/reference/new log-probs, rewards of two rules) to a new run file, flushing each step as a \
            training run does. Reports seconds per append (median, min, max), bytes per stored token and the \
            compression ratio (the same data uncompressed ÷ file size).
            """)

    @Option(help: "Steps to append.")
    var steps = 20

    @Option(help: "Completions per step.")
    var completions = 64

    @Option(help: "Tokens per completion.")
    var tokens = 256

    @Option(help: ArgumentHelp("Write the benchmark file here and keep it (must not exist yet); "
        + "by default a temporary file, removed afterwards.", valueName: "path"))
    var output: String?

    func validate() throws {
        guard steps >= 1, completions >= 1, tokens >= 1 else {
            throw ValidationError("--steps, --completions and --tokens must be at least 1")
        }
    }

    func run() throws {
        let path = output ?? NSTemporaryDirectory() + "grpo-bench-store-\(ProcessInfo.processInfo.processIdentifier).h5"
        defer { if output == nil { try? FileManager.default.removeItem(atPath: path) } }
        let result = try StoreBenchmark.run(path: path, overwrite: output == nil, steps: steps,
                                            completionsPerStep: completions, tokensPerCompletion: tokens)
        print(result.jsonLine)
    }
}
