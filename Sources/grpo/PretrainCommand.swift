import ArgumentParser
import Experiments
import Foundation

struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Pretrain a small Qwen2-shaped base model from scratch (next-token loss), with a byte-level tokenizer.",
        discussion: """
        Writes a Hugging Face checkpoint into --out (config.json, model.safetensors, tokenizer.json, \
        tokenizer_config.json), the config it was made with (pretrain.yaml) and its loss curve (pretrain.jsonl: \
        training loss every log_every steps, held-out loss at checkpoints and at the end). Keys and defaults: \
        docs/pretraining.md.
        """)

    @Option(help: "A corpus generator (arithmetic) or a text file (documents separated by blank lines); overrides the config's corpus.")
    var corpus: String?
    @Option(help: "The pretraining config (YAML: model, training, corpus, seed, threads).") var config: String
    @Option(help: "The output directory for the checkpoint.") var out: String

    func run() throws {
        do {
            let loaded = try PretrainConfig.load(URL(fileURLWithPath: config))
            var source: PretrainingCorpus.Source?
            if let corpus {
                if corpus == "arithmetic" {
                    source = .arithmetic(loaded.corpus.arithmetic)
                } else {
                    guard FileManager.default.fileExists(atPath: corpus) else {
                        throw ValidationError("--corpus \(corpus): not a generator (arithmetic) and no such file")
                    }
                    source = .file(URL(fileURLWithPath: corpus))
                }
            }
            let run = try Pretraining(config: loaded, corpusOverride: source, output: URL(fileURLWithPath: out)) {
                print($0)
                fflush(stdout)
            }
            try run.run()
        } catch let error as ExperimentError {
            throw ValidationError(error.description)
        }
    }
}
