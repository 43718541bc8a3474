import Foundation
import GRPO
import PolicyModel

/// A training checkpoint: `checkpoints/step-NNNNNN/` in Hugging Face layout (config.json, model.safetensors,
/// tokenizer.json) plus what resuming needs: `trainer_state.json`, `optimizer.safetensors` (AdamW's moments)
/// and, when the reference is synced, `reference/`. Every random stream of a run is derived from the seed
/// and the step number, so the step counters are its random state.
public struct Checkpoint {
    public struct State: Codable, Equatable {
        public var format = 1
        public var generationStep: Int
        public var optimizerStep: Int
        public var promptCursor: Int
        public var skippedPrompts: Int
        public var seed: UInt64

        enum CodingKeys: String, CodingKey {
            case format
            case generationStep = "generation_step"
            case optimizerStep = "optimizer_step"
            case promptCursor = "prompt_cursor"
            case skippedPrompts = "skipped_prompts"
            case seed
        }
    }

    public let directory: URL
    public let state: State

    static let stateFile = "trainer_state.json"
    static let optimizerFile = "optimizer.safetensors"

    public init(directory: URL) throws {
        self.directory = directory
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(Self.stateFile).path) else {
            throw ExperimentError.checkpoint(path: directory.path, message: "\(Self.stateFile) is missing")
        }
        do {
            state = try JSONDecoder().decode(State.self, from: data)
        } catch {
            throw ExperimentError.checkpoint(path: directory.path, message: "\(Self.stateFile) is unreadable: \(error)")
        }
    }

    /// The newest complete checkpoint under `directory` (a checkpoint is renamed into place only once
    /// fully written, so a kill during a save leaves the previous one).
    public static func latest(in directory: URL) throws -> Checkpoint? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let steps = names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("step-"), let step = Int(name.dropFirst(5)) else { return nil }
            return (step, name)
        }.sorted { $0.0 > $1.0 }
        guard let newest = steps.first else { return nil }
        return try Checkpoint(directory: directory.appendingPathComponent(newest.1))
    }

    static func save(trainer: GRPOTrainer, state: State, tokenizerPath: URL, in directory: URL, keep: Int) throws -> URL {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        let name = String(format: "step-%06d", state.generationStep)
        let final = directory.appendingPathComponent(name)
        let staging = directory.appendingPathComponent(".staging-\(name)")
        try? fileManager.removeItem(at: staging)
        try trainer.policy.save(to: staging)
        // The tokenizer goes along, as tokenizer.json (+ tokenizer_config.json when there is one).
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: tokenizerPath.path, isDirectory: &isDirectory) {
            let folder = isDirectory.boolValue ? tokenizerPath : tokenizerPath.deletingLastPathComponent()
            let tokenizerFile = isDirectory.boolValue ? tokenizerPath.appendingPathComponent("tokenizer.json") : tokenizerPath
            for (source, name) in [(tokenizerFile, "tokenizer.json"), (folder.appendingPathComponent("tokenizer_config.json"), "tokenizer_config.json")]
            where fileManager.fileExists(atPath: source.path) {
                try fileManager.copyItem(at: source, to: staging.appendingPathComponent(name))
            }
        }
        let moments = trainer.optimizer.state
        try moments.firstMoment.withUnsafeBufferPointer { first in
            try moments.secondMoment.withUnsafeBufferPointer { second in
                try SafetensorsFile.write([(name: "exp_avg", shape: [first.count], values: first),
                                           (name: "exp_avg_sq", shape: [second.count], values: second)],
                                          metadata: ["step": "\(moments.step)"], to: staging.appendingPathComponent(optimizerFile))
            }
        }
        if let reference = trainer.reference, trainer.config.syncRefModel {
            try reference.save(to: staging.appendingPathComponent("reference"))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(state).write(to: staging.appendingPathComponent(stateFile))
        try? fileManager.removeItem(at: final)
        try fileManager.moveItem(at: staging, to: final)

        // Keep the newest `keep` checkpoints.
        let names = ((try? fileManager.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasPrefix("step-") }.sorted()
        for old in names.dropLast(keep) { try? fileManager.removeItem(at: directory.appendingPathComponent(old)) }
        return final
    }

    /// The reference weights saved with the checkpoint (only when the reference is synced).
    func loadReference(into model: Transformer) throws {
        let directory = self.directory.appendingPathComponent("reference")
        guard FileManager.default.fileExists(atPath: directory.path) else {
            throw ExperimentError.checkpoint(path: self.directory.path, message: "reference/ is missing but sync_ref_model is on")
        }
        model.parameters.copyValues(from: try Transformer.load(directory: directory).parameters)
    }

    /// Puts the trainer back where it was: counters and AdamW's moments (the weights were loaded with the model).
    func restore(into trainer: GRPOTrainer) throws {
        let file = try SafetensorsFile(url: directory.appendingPathComponent(Self.optimizerFile))
        let count = trainer.policy.parameters.count
        var first = [Float](repeating: 0, count: count), second = [Float](repeating: 0, count: count)
        try file.read("exp_avg", into: &first, count: count)
        try file.read("exp_avg_sq", into: &second, count: count)
        guard let step = file.metadata["step"].flatMap(Int.init) else {
            throw ExperimentError.checkpoint(path: directory.path, message: "\(Self.optimizerFile) has no step count")
        }
        try trainer.optimizer.restore(step: step, firstMoment: first, secondMoment: second)
        trainer.generationSteps = state.generationStep
        trainer.optimizerSteps = state.optimizerStep
    }
}
