import Foundation
import PolicyModel
import Tokenizers
import XCTest

/// A temporary directory with a tiny random Qwen2 (byte-level vocabulary) and its tokenizer, and experiment
/// files written next to it.
struct ExperimentSandbox {
    let directory: URL

    init() throws {
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("experiments-tests-" + UUID().uuidString)
        let model = directory.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        let config = TransformerConfig(modelType: .qwen2, vocabularySize: 259, hiddenSize: 32, intermediateSize: 64, layerCount: 2,
                                       headCount: 4, keyValueHeadCount: 2, maxPositionEmbeddings: 256, tieWordEmbeddings: true,
                                       eosTokenIds: [1])
        let transformer = Transformer(config: config)
        transformer.parameters.initializeRandomly(seed: 3, standardDeviation: 0.1)
        try transformer.save(to: model)
        try ByteLevelVocabulary.tokenizerJSON().write(to: model.appendingPathComponent("tokenizer.json"))
        try ByteLevelVocabulary.tokenizerConfigJSON().write(to: model.appendingPathComponent("tokenizer_config.json"))
    }

    /// A short arithmetic run: 2 prompts × 4 completions of ≤ 12 tokens per step.
    func experiment(_ name: String = "tiny", steps: Int = 4, completionLength: Int = 12, evalEvery: Int = 2, extra: String = "",
                    output: String? = nil) throws -> URL {
        let runDirectory = output ?? directory.appendingPathComponent("runs/\(name)").path
        let text = """
        # tiny arithmetic run for the tests
        seed: 11
        threads: 2
        model: model
        task: {name: arithmetic, digits: 1, operators: "+", train_size: 40, eval_size: 6, template: plain}
        rewards:
          - {name: accuracy, weight: 1.0}
          - {name: length, weight: 0.2, options: {max_len: 20}}
        training:
          num_generations: 4
          per_device_train_batch_size: 8
          learning_rate: 0.001
          beta: 0.04
          max_steps: \(steps)
          lr_scheduler_type: constant
        generation: {max_completion_length: \(completionLength), temperature: 1.0}
        eval: {every: \(evalEvery), k: 2}
        output: {run_dir: \(runDirectory), checkpoint_every: 2, keep_checkpoints: 5}
        \(extra)
        """
        let url = directory.appendingPathComponent("\(name).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
