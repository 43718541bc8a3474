import Foundation
import GRPO
import PolicyModel
import RewardSystem
import Tokenizers
import Yams

/// One experiment file: everything a run needs, read from YAML with every default filled in.
///
/// Sections: `model`, `tokenizer`, `task`, `rewards`, `training` (the trainer's TRL-named fields),
/// `generation`, `eval`, `output`, `seed`, `threads`. docs/experiments.md lists every key and its default.
public struct Experiment: Sendable {
    /// The file it was read from, and its exact text (stored in every run file).
    public var file: URL
    public var text: String
    /// The file's name without extension: the default run directory is `runs/<name>`.
    public var name: String
    public var seed: UInt64
    public var threads: Int?
    public var modelPath: URL
    public var tokenizerPath: URL
    public var task: TaskConfig
    public var rewards: [RuleSpec]
    /// The trainer's configuration: `training` and `generation` keys, and the experiment's seed.
    public var training: GRPOConfig
    /// Strings that end a completion (besides the model's EOS token), e.g. `</answer>`.
    public var stop: [String]
    public var evaluation: EvaluationConfig
    public var output: OutputConfig

    /// Keys of the `generation` section (the rest of the trainer's keys live in `training`).
    public static let generationKeys = ["max_completion_length", "temperature", "top_p", "top_k", "min_p", "stop"]
    public static var trainingKeys: [String] {
        GRPOConfig.keys.filter { !generationKeys.contains($0) && $0 != "seed" }
    }
    public static let topLevelKeys = ["model", "tokenizer", "task", "rewards", "training", "generation", "eval", "output", "seed", "threads"]

    /// Reads and checks an experiment file. Paths inside it are relative to the file's directory.
    public static func load(_ file: URL) throws -> Experiment {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw ExperimentError.fileNotFound(path: file.path, what: "experiment file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ExperimentError.syntax(file: file.path, message: "the file is not UTF-8 text")
        }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: URL) throws -> Experiment {
        let reader = YAMLReader(file: file.path)
        let root = try reader.root(of: text)
        try reader.checkKeys(root, allowed: topLevelKeys, at: "")
        let directory = file.deletingLastPathComponent()

        let seed = try reader.decode(UInt64.self, at: "seed", in: root) ?? 42
        let threads = try reader.decode(Int.self, at: "threads", in: root)
        if let threads, threads < 1 {
            throw ExperimentError.invalidValue(file: file.path, keyPath: "threads", message: "expected a positive count, got \(threads)")
        }
        guard let model = try reader.decode(String.self, at: "model", in: root) else {
            throw ExperimentError.invalidValue(file: file.path, keyPath: "model", message: "missing: the checkpoint directory (config.json + model.safetensors)")
        }
        let modelPath = resolve(model, relativeTo: directory)
        let tokenizerPath = try reader.decode(String.self, at: "tokenizer", in: root).map { resolve($0, relativeTo: directory) }
            ?? modelPath.appendingPathComponent("tokenizer.json")

        let taskNode = root.mapping?["task"] ?? YAMLReader.emptyMapping
        try reader.checkKeys(taskNode, allowed: TaskConfig.keys, at: "task")
        let task = try reader.decode(TaskConfig.self, at: "task", node: taskNode)
        try reader.wrap("task") { try task.validate() }

        let rewards = try reader.rewards(root.mapping?["rewards"])

        // The trainer's keys come from two sections; each key is checked against its own section.
        let trainingNode = root.mapping?["training"] ?? YAMLReader.emptyMapping
        let generationNode = root.mapping?["generation"] ?? YAMLReader.emptyMapping
        try reader.checkKeys(trainingNode, allowed: trainingKeys, at: "training", elsewhere: ("generation", generationKeys))
        try reader.checkKeys(generationNode, allowed: generationKeys, at: "generation", elsewhere: ("training", trainingKeys))
        var merged: [(Node, Node)] = []
        for section in [trainingNode, generationNode] {
            for (key, value) in section.mapping ?? YAMLReader.emptyMapping.mapping! where key.string != "stop" { merged.append((key, value)) }
        }
        var training = try reader.decode(GRPOConfig.self, at: "training", node: Node.mapping(Node.Mapping(merged)),
                                         sectionOf: { generationKeys.contains($0) ? "generation" : "training" })
        training.seed = seed
        try reader.wrap("training") { try training.validate() }
        let stop = try reader.decode([String].self, at: "stop", in: generationNode, sectionPath: "generation") ?? []
        if stop.contains("") {
            throw ExperimentError.invalidValue(file: file.path, keyPath: "generation.stop", message: "expected non-empty strings")
        }

        let evalNode = root.mapping?["eval"] ?? YAMLReader.emptyMapping
        try reader.checkKeys(evalNode, allowed: EvaluationConfig.keys, at: "eval")
        let evaluation = try reader.decode(EvaluationConfig.self, at: "eval", node: evalNode)
        try reader.wrap("eval") { try evaluation.validate() }
        let outputNode = root.mapping?["output"] ?? YAMLReader.emptyMapping
        try reader.checkKeys(outputNode, allowed: OutputConfig.keys, at: "output")
        let output = try reader.decode(OutputConfig.self, at: "output", node: outputNode)
        try reader.wrap("output") { try output.validate() }

        return Experiment(file: file, text: text, name: file.deletingPathExtension().lastPathComponent, seed: seed, threads: threads,
                          modelPath: modelPath, tokenizerPath: tokenizerPath, task: task, rewards: rewards, training: training,
                          stop: stop, evaluation: evaluation, output: output)
    }

    /// The run directory: `output.run_dir` (relative to the current directory), else `runs/<name>`.
    public var defaultRunDirectory: URL {
        URL(fileURLWithPath: output.runDir ?? "runs/\(name)")
    }

    /// The ids that end a completion: the model's EOS ids and the tokenizer's EOS token.
    public func endOfSequenceIDs(model: TransformerConfig, tokenizer: any Tokenizer) -> Set<Int32> {
        Set((model.eosTokenIds + (tokenizer.specialTokens.eos.map { [$0.id] } ?? [])).map(Int32.init))
    }

    /// `generation.stop` as token sequences.
    public func stopSequences(tokenizer: any Tokenizer) -> [[Int32]] {
        stop.map { tokenizer.encode($0).map(Int32.init) }
    }

    /// The generation settings with the evaluation's completion limit.
    public func evaluationSampling(model: TransformerConfig, tokenizer: any Tokenizer) -> SamplingParameters {
        SamplingParameters(maxNewTokens: evaluation.maxCompletionLength ?? training.maxCompletionLength,
                           temperature: training.temperature, topK: training.topK, topP: training.topP,
                           minP: training.minP ?? 0, eosTokenIds: endOfSequenceIDs(model: model, tokenizer: tokenizer),
                           stopSequences: stopSequences(tokenizer: tokenizer))
    }

    static func resolve(_ path: String, relativeTo directory: URL) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : directory.appendingPathComponent(path).standardizedFileURL
    }
}

/// The `eval` section: how often and how the policy is evaluated on the held-out split.
public struct EvaluationConfig: Codable, Equatable, Sendable {
    /// Evaluate every this many training steps (0: only at the start and the end).
    public var every = 0
    /// Problems of the eval split to use (nil: all of them).
    public var size: Int?
    /// Samples per problem for pass@k and maj@k (1: greedy pass@1 only).
    public var k = 1
    /// Sampling temperature of the k samples (pass@1 is always greedy).
    public var temperature: Float = 1
    /// Also evaluate before the first step (the "before" number).
    public var atStart = true
    /// Completion limit for evaluation (nil: `generation.max_completion_length`).
    public var maxCompletionLength: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case every, size, k, temperature
        case atStart = "at_start"
        case maxCompletionLength = "max_completion_length"
    }
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }

    public init() {}

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = EvaluationConfig()
        every = try container.decodeIfPresent(Int.self, forKey: .every) ?? defaults.every
        size = try container.decodeIfPresent(Int.self, forKey: .size)
        k = try container.decodeIfPresent(Int.self, forKey: .k) ?? defaults.k
        temperature = try container.decodeIfPresent(Float.self, forKey: .temperature) ?? defaults.temperature
        atStart = try container.decodeIfPresent(Bool.self, forKey: .atStart) ?? defaults.atStart
        maxCompletionLength = try container.decodeIfPresent(Int.self, forKey: .maxCompletionLength)
    }

    public func validate() throws {
        if every < 0 { throw GRPOError.invalidConfig(key: "every", message: "expected 0 (start and end only) or a positive step count, got \(every)") }
        if let size, size < 1 { throw GRPOError.invalidConfig(key: "size", message: "expected a positive count, got \(size)") }
        if k < 1 { throw GRPOError.invalidConfig(key: "k", message: "expected a positive count, got \(k)") }
        if !(temperature > 0) { throw GRPOError.invalidConfig(key: "temperature", message: "expected a positive number, got \(temperature)") }
        if let limit = maxCompletionLength, limit < 1 {
            throw GRPOError.invalidConfig(key: "max_completion_length", message: "expected a positive count, got \(limit)")
        }
    }
}

/// The `output` section: where the run goes and how often it is checkpointed.
public struct OutputConfig: Codable, Equatable, Sendable {
    /// The run directory (run.h5, metrics.jsonl, checkpoints/); nil: `runs/<experiment name>`.
    public var runDir: String?
    /// Save a checkpoint every this many steps (0: only at the end and on interruption).
    public var checkpointEvery = 50
    /// Checkpoints kept on disk (the newest); the final one is always kept.
    public var keepCheckpoints = 2

    enum CodingKeys: String, CodingKey, CaseIterable {
        case runDir = "run_dir"
        case checkpointEvery = "checkpoint_every"
        case keepCheckpoints = "keep_checkpoints"
    }
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }

    public init() {}

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        runDir = try container.decodeIfPresent(String.self, forKey: .runDir)
        checkpointEvery = try container.decodeIfPresent(Int.self, forKey: .checkpointEvery) ?? 50
        keepCheckpoints = try container.decodeIfPresent(Int.self, forKey: .keepCheckpoints) ?? 2
    }

    public func validate() throws {
        if checkpointEvery < 0 {
            throw GRPOError.invalidConfig(key: "checkpoint_every", message: "expected 0 (end only) or a positive step count, got \(checkpointEvery)")
        }
        if keepCheckpoints < 1 { throw GRPOError.invalidConfig(key: "keep_checkpoints", message: "expected at least 1, got \(keepCheckpoints)") }
    }
}
