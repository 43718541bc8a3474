import ArgumentParser
import Foundation
import PolicyModel
import Tensors

struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for our kernels and OpenBLAS (default: GRPO_THREADS, else all cores).")
    var threads: Int?

    func apply() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
        Parallel.configure(threads: threads)
    }
}

/// Loads a checkpoint, turning model errors into messages for the user.
func loadModel(_ path: String) throws -> Transformer {
    do {
        return try Transformer.load(directory: URL(fileURLWithPath: path))
    } catch let error as PolicyModelError {
        throw ValidationError(error.description)
    }
}

struct LogProbsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logprobs",
        abstract: "Per-token log-probs of completions given their prompts.",
        discussion: """
        Each input line is {"prompt_ids": [...], "completion_ids": [...]}; each output line is
        {"logprobs": [...]}, one float per completion token (log p(token | everything before it)),
        in input order. With --entropies, lines also carry "entropies" (nats, per token).
        """)

    @Option(help: "Checkpoint directory (config.json + model.safetensors).") var model: String
    @Option(help: "JSONL file of prompt_ids/completion_ids pairs.") var input: String
    @Option(help: "Output JSONL file (default: standard output).") var output: String?
    @Option(help: "Divide logits by this before the softmax.") var temperature: Float = 1
    @Option(help: "Sequences per forward pass.") var batchSize: Int = 16
    @Flag(help: "Also write per-token entropies.") var entropies = false
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try threadOptions.apply()
        guard batchSize > 0 else { throw ValidationError("--batch-size must be ≥ 1") }
        let transformer = try loadModel(model)
        let lines = try JSONLines.read(input)
        let sequences = try lines.map { line, object in
            TokenSequence(prompt: try JSONLines.tokenIds(object, "prompt_ids", path: input, line: line),
                          completion: try JSONLines.tokenIds(object, "completion_ids", path: input, line: line))
        }
        let writer = try LineWriter(path: output)
        for start in stride(from: 0, to: sequences.count, by: batchSize) {
            let batch = Array(sequences[start..<min(start + batchSize, sequences.count)])
            let result: (logProbs: [[Float]], entropies: [[Float]])
            do {
                result = try transformer.logProbs(of: batch, temperature: temperature)
            } catch let error as PolicyModelError {
                throw ValidationError("\(input): \(renumber(error, offset: start, lines: lines))")
            }
            for index in batch.indices {
                var object: [String: Any] = ["logprobs": result.logProbs[index].map(Double.init)]
                if entropies { object["entropies"] = result.entropies[index].map(Double.init) }
                writer.write(try JSONLines.encode(object))
            }
        }
    }
}

/// Turns a batch-relative sequence index in an error into the input file's line number.
func renumber(_ error: PolicyModelError, offset: Int, lines: [(line: Int, object: [String: Any])]) -> String {
    func line(_ sequence: Int) -> Int { lines[offset + sequence].line }
    switch error {
    case let .tokenOutOfVocabulary(sequence, position, token, vocabularySize):
        return "line \(line(sequence)): token id \(token) at position \(position) (prompt + completion) is outside the vocabulary [0, \(vocabularySize))"
    case let .emptyPrompt(sequence):
        return "line \(line(sequence)): prompt_ids is empty; the first completion token needs at least one prompt token to condition on"
    case let .sequenceTooLong(sequence, length, maximum):
        return "line \(line(sequence)): \(length) tokens exceed the model's max_position_embeddings = \(maximum)"
    default:
        return error.description
    }
}

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Sample completions with the KV cache.",
        discussion: """
        Each input line is {"prompt_ids": [...]}; each output line is
        {"completion_ids": [...], "finish_reason": "eos"|"length"|"stop"}, in input order.
        Filters apply as in Hugging Face generate: temperature, then top-k, top-p, min-p.
        The same --seed gives the same tokens; prompt i uses random stream i of the seed.
        """)

    @Option(help: "Checkpoint directory (config.json + model.safetensors).") var model: String
    @Option(help: "JSONL file with prompt_ids per line.") var input: String
    @Option(help: "Output JSONL file (default: standard output).") var output: String?
    @Option(help: "Maximum tokens to generate per prompt.") var maxNewTokens: Int
    @Option(help: "Softmax temperature (> 0).") var temperature: Float = 1
    @Option(help: "Keep the k most likely tokens (0: off).") var topK: Int = 0
    @Option(help: "Keep the smallest set of tokens whose probability reaches p (1: off).") var topP: Float = 1
    @Option(help: "Drop tokens below min-p × the top token's probability (0: off).") var minP: Float = 0
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Flag(help: "Take the most likely token at every step.") var greedy = false
    @Option(parsing: .upToNextOption, help: "End-of-sequence token ids (default: eos_token_id of config.json).") var eos: [Int32] = []
    @Flag(help: "Do not stop at EOS tokens.") var ignoreEos = false
    @Option(help: "A stop token sequence, comma-separated ids (repeatable).") var stop: [String] = []
    @Option(help: "Prompts per batch.") var batchSize: Int = 64
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try threadOptions.apply()
        guard batchSize > 0 else { throw ValidationError("--batch-size must be ≥ 1") }
        let transformer = try loadModel(model)
        let stopSequences = try stop.map { text in
            try text.split(separator: ",").map { part -> Int32 in
                guard let id = Int32(part.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--stop \(text): expected comma-separated token ids")
                }
                return id
            }
        }
        let eosIds = ignoreEos ? [] : (eos.isEmpty ? transformer.config.eosTokenIds.map(Int32.init) : eos)
        let parameters = SamplingParameters(maxNewTokens: maxNewTokens, temperature: temperature, topK: topK, topP: topP,
                                            minP: minP, greedy: greedy, eosTokenIds: Set(eosIds), stopSequences: stopSequences)
        do { try parameters.validate() } catch let error as PolicyModelError { throw ValidationError(error.description) }
        let lines = try JSONLines.read(input)
        let prompts = try lines.map { try JSONLines.tokenIds($0.object, "prompt_ids", path: input, line: $0.line) }
        let writer = try LineWriter(path: output)
        var generators = prompts.indices.map { SeededGenerator(seed: seed, stream: UInt64($0)) }
        for start in stride(from: 0, to: prompts.count, by: batchSize) {
            let range = start..<min(start + batchSize, prompts.count)
            var batchGenerators = Array(generators[range])
            let generations: [Generation]
            do {
                generations = try transformer.generate(prompts: Array(prompts[range]), parameters: parameters, generators: &batchGenerators)
            } catch let error as PolicyModelError {
                throw ValidationError("\(input): \(renumber(error, offset: start, lines: lines))")
            }
            generators.replaceSubrange(range, with: batchGenerators)
            for generation in generations {
                writer.write(try JSONLines.encode(["completion_ids": generation.tokens.map(Int.init),
                                                   "finish_reason": generation.finishReason.rawValue]))
            }
        }
    }
}
