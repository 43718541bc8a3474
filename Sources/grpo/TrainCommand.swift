import ArgumentParser
import Experiments
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Run a GRPO experiment from its YAML file.",
        discussion: """
        Writes into the run directory (default: output.run_dir, else runs/<experiment name>): run.h5 (every \
        rollout, reward, advantage, log-prob and metric; docs/trajectory-format.md), metrics.jsonl (one line per \
        step and per evaluation), experiment.yaml, and checkpoints/step-NNNNNN/ in Hugging Face layout. Ctrl-C or \
        SIGTERM finishes the step in flight, saves a checkpoint and closes the run file; --resume continues from \
        the last checkpoint, step for step as if never stopped. Keys and defaults: docs/experiments.md.
        """)

    @Argument(help: "The experiment file (e.g. Experiments/r1zero-arithmetic.yaml).") var experiment: String
    @Option(help: "The run directory (overrides output.run_dir).") var runDir: String?
    @Flag(help: "Continue the run in the run directory from its last checkpoint.") var resume = false
    @Option(help: "Stop (with a checkpoint) after this many steps of this invocation.") var stopAfter: Int?

    func run() throws {
        do {
            let loaded = try Experiment.load(URL(fileURLWithPath: experiment))
            let training = try TrainingRun(experiment: loaded, runDirectory: runDir.map { URL(fileURLWithPath: $0) }, resume: resume) {
                print($0)
                fflush(stdout)
            }
            print("training \(loaded.name): \(training.totalSteps) steps, \(training.splits.train.count) training and "
                + "\(training.splits.eval.count) held-out problems → \(training.runDirectory.path)")
            try training.run(stopAfterSteps: stopAfter)
        } catch let error as ExperimentError {
            throw ValidationError(error.description)
        }
    }
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint on an experiment's held-out problems: pass@1 (greedy), pass@k, maj@k.",
        discussion: """
        Uses the experiment's task, template, rewards and generation settings. Per-problem results go into \
        --run-file: appended as an evaluation to an existing run file, or a new file holding only this \
        evaluation (default: eval.h5 in the model directory's parent). Prints one JSON line of results.
        """)

    @Option(help: "The checkpoint directory to evaluate.") var model: String
    @Option(help: "The experiment file whose task, template, rewards and generation settings to use.") var experiment: String
    @Option(help: "Samples per problem for pass@k and maj@k (default: eval.k).") var k: Int?
    @Option(help: "Number of held-out problems (default: eval.size, else the whole split).") var samples: Int?
    @Option(help: "The run file to add the evaluation to (created if missing).") var runFile: String?
    @Option(help: "Step number to record (default: the checkpoint's step, else 0).") var step: Int?
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try threadOptions.apply()
        if let k, k < 1 { throw ValidationError("--k must be ≥ 1, got \(k)") }
        if let samples, samples < 1 { throw ValidationError("--samples must be ≥ 1, got \(samples)") }
        do {
            let loaded = try Experiment.load(URL(fileURLWithPath: experiment))
            let modelURL = URL(fileURLWithPath: model)
            let output = runFile ?? modelURL.deletingLastPathComponent().appendingPathComponent("eval.h5").path
            let result = try ModelEvaluation.run(experiment: loaded, model: modelURL, k: k, problems: samples, step: step, runFile: output)
            let record = result.record
            var fields: [String: Any] = ["model": model, "problems": record.problems.count, "k": record.k, "pass@1": record.passAt1,
                                         "step": record.step, "run_file": output]
            if record.k > 1 { fields["pass@k"] = record.passAtK; fields["maj@k"] = record.majAtK }
            print(String(decoding: try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]), as: UTF8.self))
        } catch let error as ExperimentError {
            throw ValidationError(error.description)
        }
    }
}
