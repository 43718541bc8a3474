import Foundation
import GRPO
import PolicyModel
import ReferenceModel
import Rewards
import RewardSystem
import Tensors
import Tokenizers
import Trajectories

/// Set by SIGINT/SIGTERM; the run checkpoints after the step in flight and stops cleanly.
nonisolated(unsafe) var interruptRequested: sig_atomic_t = 0

/// An experiment being trained: the policy, the trainer, the task's prompts in their seeded order, the run
/// file, the metrics log and the checkpoints of one run directory.
public final class TrainingRun {
    public let experiment: Experiment
    public let runDirectory: URL
    public let trainer: GRPOTrainer
    public let splits: TaskSplits
    let tokenizer: any Tokenizer
    let template: PromptTemplate
    let evaluator: Evaluator
    let log: (String) -> Void
    var writer: TrajectoryWriter
    var metricsLog: FileHandle
    /// Problems of the training stream consumed so far (dynamic sampling and skipped prompts move it).
    var promptCursor = 0
    var skippedPrompts = 0
    public let totalSteps: Int

    public var runFile: URL { runDirectory.appendingPathComponent("run.h5") }
    public var metricsFile: URL { runDirectory.appendingPathComponent("metrics.jsonl") }
    public var checkpointsDirectory: URL { runDirectory.appendingPathComponent("checkpoints") }

    /// Prepares a run. `resume`: continue from the run directory's last checkpoint (or start over when it has
    /// none yet); otherwise the directory must not already hold a run.
    public init(experiment: Experiment, runDirectory: URL? = nil, resume: Bool = false, log: @escaping (String) -> Void = { print($0) }) throws {
        self.experiment = experiment
        self.runDirectory = runDirectory ?? experiment.defaultRunDirectory
        self.log = log
        Parallel.configure(threads: experiment.threads)
        let fileManager = FileManager.default
        let runFile = self.runDirectory.appendingPathComponent("run.h5")
        if !resume, fileManager.fileExists(atPath: runFile.path) {
            throw ExperimentError.runDirectory(path: self.runDirectory.path,
                                               message: "already holds a run (run.h5); pass --resume to continue it or --run-dir for a new one")
        }
        try fileManager.createDirectory(at: self.runDirectory, withIntermediateDirectories: true)

        guard fileManager.fileExists(atPath: experiment.modelPath.appendingPathComponent("config.json").path) else {
            throw ExperimentError.fileNotFound(path: experiment.modelPath.path, what: "model checkpoint (config.json + model.safetensors)")
        }
        guard fileManager.fileExists(atPath: experiment.tokenizerPath.path) else {
            throw ExperimentError.fileNotFound(path: experiment.tokenizerPath.path, what: "tokenizer (tokenizer.json)")
        }
        let tokenizer = try loadTokenizer(path: experiment.tokenizerPath.path)
        let template = try experiment.task.makeTemplate()
        let splits = try experiment.task.makeSplits(relativeTo: experiment.file.deletingLastPathComponent())
        self.tokenizer = tokenizer
        self.template = template
        self.splits = splits
        guard !splits.train.isEmpty else {
            throw ExperimentError.invalidValue(file: experiment.file.path, keyPath: "task", message: "the task has no training problems")
        }
        let registry = try UserRewards.registry()
        let rewards = try registry.makeRewardSet(experiment.rewards)

        let checkpoint = resume ? try Checkpoint.latest(in: self.runDirectory.appendingPathComponent("checkpoints")) : nil
        let policy = try Transformer.load(directory: checkpoint?.directory ?? experiment.modelPath)
        var reference: ReferenceModel?
        if experiment.training.beta != 0 {
            let sync: ReferenceSync = experiment.training.syncRefModel
                ? .every(steps: experiment.training.refModelSyncSteps, mixupAlpha: experiment.training.refModelMixupAlpha) : .never
            let base = checkpoint == nil ? policy.copy() : try Transformer.load(directory: experiment.modelPath)
            if let checkpoint, experiment.training.syncRefModel { try checkpoint.loadReference(into: base) }
            reference = try ReferenceModel(model: base, sync: sync)
        }
        let trainer = try GRPOTrainer(config: experiment.training, policy: policy, reference: reference, rewards: rewards, tokenizer: tokenizer,
                                      eosTokenIDs: experiment.endOfSequenceIDs(model: policy.config, tokenizer: tokenizer),
                                      stopSequences: experiment.stopSequences(tokenizer: tokenizer))
        self.trainer = trainer
        totalSteps = (experiment.training.maxSteps + experiment.training.updatesPerGeneration - 1) / experiment.training.updatesPerGeneration

        // Evaluation on the held-out split.
        let evalSampling = experiment.evaluationSampling(model: policy.config, tokenizer: tokenizer)
        let held = try Evaluator.fitting(Array(splits.eval.prefix(experiment.evaluation.size ?? splits.eval.count)), template: template,
                                         tokenizer: tokenizer, context: policy.config.maxPositionEmbeddings - evalSampling.maxNewTokens)
        if held.skipped > 0 {
            log("\(held.skipped) held-out problems are left out of evaluation: their prompt does not fit the context of \(policy.config.maxPositionEmbeddings) tokens")
        }
        evaluator = Evaluator(experiment: experiment, held: held, rewards: rewards, tokenizer: tokenizer, sampling: evalSampling,
                              k: experiment.evaluation.k)

        // The run file and metrics log: new, or cut back to the checkpoint.
        let metadata = RunMetadata(experiment: experiment.text, seed: experiment.seed, swiftGRPOVersion: swiftGRPOVersion,
                                   modelPath: experiment.modelPath.path, modelHash: Self.contentHash(policy.parameters),
                                   tokenizerPath: experiment.tokenizerPath.path, tokenizerHash: Self.fileHash(experiment.tokenizerPath),
                                   rewardRules: rewards.rules.map(\.name), rewardWeights: rewards.rules.map(\.weight),
                                   extraStepMetrics: Self.extraMetricNames)
        if let checkpoint {
            let state = checkpoint.state
            writer = try TrajectoryWriter(resuming: runFile.path, keepingStepsThrough: state.generationStep)
            try Self.truncateMetrics(at: self.runDirectory.appendingPathComponent("metrics.jsonl"), keepingThrough: state.generationStep)
            try checkpoint.restore(into: trainer)
            promptCursor = state.promptCursor
            skippedPrompts = state.skippedPrompts
            log("resuming \(self.runDirectory.path) from step \(state.generationStep) (\(checkpoint.directory.lastPathComponent))")
        } else {
            writer = try TrajectoryWriter(creating: runFile.path, metadata: metadata, overwrite: resume)
            try? fileManager.removeItem(at: self.runDirectory.appendingPathComponent("metrics.jsonl"))
            if resume { log("no checkpoint in \(self.runDirectory.path) yet: starting the run over") }
        }
        let metricsPath = self.runDirectory.appendingPathComponent("metrics.jsonl").path
        if !fileManager.fileExists(atPath: metricsPath), !fileManager.createFile(atPath: metricsPath, contents: nil) {
            throw ExperimentError.runDirectory(path: self.runDirectory.path, message: "cannot create metrics.jsonl here")
        }
        metricsLog = try FileHandle(forWritingTo: URL(fileURLWithPath: metricsPath))
        try metricsLog.seekToEnd()
        try experiment.text.write(to: self.runDirectory.appendingPathComponent("experiment.yaml"), atomically: true, encoding: .utf8)
    }

    static let extraMetricNames = ["optimizer_steps", "clip_ratio_region", "reward_std", "skipped_updates", "dropped_groups",
                                   "generation_rounds", "truncated_fraction", "completion_length_min", "completion_length_max",
                                   "tokens_per_second", "skipped_prompts", "rule_errors"]

    // MARK: The loop

    /// Trains until `training.max_steps` optimizer updates are done or a signal asks to stop. Evaluates at the
    /// start (when asked), every `eval.every` steps and at the end; checkpoints every `output.checkpoint_every`
    /// steps, at the end and on interruption.
    @discardableResult
    public func run(stopAfterSteps: Int? = nil) throws -> TrainingMetrics? {
        installSignalHandlers()
        defer { try? writer.close(); try? metricsLog.close() }
        var last: TrainingMetrics?
        var stepsThisSession = 0
        var trainingSeconds = 0.0
        if trainer.generationSteps >= totalSteps {
            log("\(runDirectory.path) is already complete (\(totalSteps) steps)")
            return nil
        }
        if trainer.generationSteps == 0, experiment.evaluation.atStart, !evaluator.problems.isEmpty { try evaluate() }
        while trainer.generationSteps < totalSteps {
            let prompts = try nextPrompts(trainer.config.promptsPerStep)
            let result = try trainer.step(prompts: prompts) { [unowned self] count in try self.nextPrompts(count) }
            try record(result)
            last = result.metrics
            stepsThisSession += 1
            trainingSeconds += result.metrics.seconds.total
            log(progressLine(result.metrics, trainingSeconds: trainingSeconds, stepsThisSession: stepsThisSession))
            // Evaluate, then checkpoint: a checkpoint at step s means everything of step s is in the run file.
            let step = trainer.generationSteps
            let finished = step >= totalSteps
            let evaluationDue = finished || (experiment.evaluation.every > 0 && step % experiment.evaluation.every == 0)
            if evaluationDue, !evaluator.problems.isEmpty { try evaluate() }
            let interrupted = interruptRequested != 0 || stopAfterSteps.map { stepsThisSession >= $0 } == true
            if finished || interrupted || (experiment.output.checkpointEvery > 0 && step % experiment.output.checkpointEvery == 0) {
                try saveCheckpoint(final: finished)
            }
            if interrupted && !finished {
                log("stopped after step \(step) (checkpoint saved); continue with --resume")
                return last
            }
        }
        return last
    }

    /// The next `count` problems of the training stream: epoch e is a permutation of the train split seeded
    /// by (seed, e). Problems whose prompt does not fit the context are skipped and counted.
    func nextPrompts(_ count: Int) throws -> [TrainingPrompt] {
        var prompts: [TrainingPrompt] = []
        let limit = trainer.policy.config.maxPositionEmbeddings - experiment.training.maxCompletionLength
        var attempts = 0
        while prompts.count < count {
            let problem = problemAt(promptCursor)
            promptCursor += 1
            attempts += 1
            let text = try template.render(problem)
            let ids = tokenizer.encode(text).map(Int32.init)
            if ids.isEmpty || ids.count > limit {
                skippedPrompts += 1
                if attempts > 10 * max(splits.train.count, count) {
                    throw ExperimentError.invalidValue(file: experiment.file.path, keyPath: "task",
                                                       message: "no prompt fits the model's context of \(trainer.policy.config.maxPositionEmbeddings) tokens with max_completion_length \(experiment.training.maxCompletionLength)")
                }
                continue
            }
            var sample = problem.sample
            sample.prompt = text
            prompts.append(TrainingPrompt(index: problem.index, tokenIDs: ids, sample: sample))
        }
        return prompts
    }

    func problemAt(_ position: Int) -> Problem {
        let count = splits.train.count
        let epoch = position / count
        var order = Array(0..<count)
        var generator = SeededGenerator(seed: experiment.seed, stream: 0x7a5c_0000 | UInt64(epoch))
        order.shuffle(using: &generator)
        return splits.train[order[position % count]]
    }

    // MARK: Records

    func record(_ result: StepResult) throws {
        let metrics = result.metrics
        let prompts = result.prompts.map { PromptRecord(promptIndex: $0.index, text: $0.sample.prompt, answer: $0.sample.answer ?? "") }
        let completions = result.rollouts.map { rollout in
            CompletionRecord(group: rollout.group, text: rollout.text, tokenIDs: rollout.tokenIDs,
                             finishReason: Trajectories.FinishReason(rawValue: rollout.finishReason.rawValue) ?? .length,
                             rewards: rollout.ruleRewards.map(Float.init), totalReward: Float(rollout.totalReward),
                             advantage: rollout.advantage, ruleErrors: rollout.ruleErrors, oldLogProbs: rollout.oldLogProbs,
                             referenceLogProbs: rollout.referenceLogProbs, newLogProbs: rollout.policyLogProbs)
        }
        let seconds = metrics.seconds
        let tokensPerSecond = seconds.total > 0 ? Double(metrics.tokensGenerated) / seconds.total : 0
        let extra: [Double] = [Double(metrics.optimizerSteps), metrics.clipRatioRegion, metrics.rewardStandardDeviation,
                               Double(metrics.skippedUpdates), Double(metrics.droppedGroups), Double(metrics.generationRounds),
                               metrics.truncatedFraction, Double(metrics.completionLengthMin), Double(metrics.completionLengthMax),
                               tokensPerSecond, Double(skippedPrompts), Double(metrics.ruleErrorCounts.reduce(0, +))]
        let stepMetrics = StepMetrics(step: metrics.generationStep, learningRate: metrics.learningRate, loss: metrics.loss, kl: metrics.kl,
                                      clipFractionLow: metrics.clipRatioLow, clipFractionHigh: metrics.clipRatioHigh, entropy: metrics.entropy,
                                      gradNorm: metrics.gradNorm, zeroVarianceGroups: metrics.zeroVarianceGroups,
                                      tokensGenerated: metrics.tokensGenerated,
                                      seconds: PhaseSeconds(sample: seconds.sample, score: seconds.score, reference: seconds.reference,
                                                            policyUpdate: seconds.policyUpdate),
                                      extra: extra)
        _ = try writer.append(StepRecord(metrics: stepMetrics, prompts: prompts, completions: completions))

        var line: [(String, Any)] = [("step", metrics.generationStep), ("optimizer_step", metrics.optimizerSteps),
                                     ("lr", metrics.learningRate), ("loss", metrics.loss), ("kl", metrics.kl),
                                     ("entropy", metrics.entropy), ("grad_norm", metrics.gradNorm),
                                     ("clip_ratio_low", metrics.clipRatioLow), ("clip_ratio_high", metrics.clipRatioHigh),
                                     ("reward", metrics.rewardMean), ("reward_std", metrics.rewardStandardDeviation)]
        for (rule, mean) in zip(trainer.rewards.rules.map(\.name), metrics.ruleRewardMeans) { line.append(("reward/\(rule)", mean)) }
        for (rule, errors) in zip(trainer.rewards.rules.map(\.name), metrics.ruleErrorCounts) where errors > 0 {
            line.append(("rule_errors/\(rule)", errors))
        }
        line += [("zero_variance_groups", metrics.zeroVarianceGroups), ("completion_length", metrics.completionLengthMean),
                 ("truncated_fraction", metrics.truncatedFraction), ("tokens", metrics.tokensGenerated),
                 ("tokens_per_second", tokensPerSecond), ("skipped_updates", metrics.skippedUpdates),
                 ("skipped_prompts", skippedPrompts), ("seconds_sample", seconds.sample), ("seconds_score", seconds.score),
                 ("seconds_reference", seconds.reference), ("seconds_policy_update", seconds.policyUpdate),
                 ("seconds_step", seconds.total)]
        try writeMetricsLine(line)
    }

    func writeMetricsLine(_ fields: [(String, Any)]) throws {
        try metricsLog.write(contentsOf: Data(metricsRecord(fields).utf8))
    }

    func evaluate() throws {
        let result = try evaluator.evaluate(trainer.policy, step: trainer.generationSteps)
        try writer.appendEvaluation(result.record)
        let record = result.record
        var fields: [(String, Any)] = [("eval_step", record.step), ("pass@1", record.passAt1), ("k", record.k)]
        if record.k > 1 { fields += [("pass@k", record.passAtK), ("maj@k", record.majAtK)] }
        for (rule, mean) in zip(evaluator.rewards.rules.map(\.name), result.greedyRuleMeans) { fields.append(("eval_reward/\(rule)", mean)) }
        try writeMetricsLine(fields)
        let k = record.k > 1 ? String(format: " | pass@%d %.1f%% | maj@%d %.1f%%", record.k, 100 * record.passAtK, record.k, 100 * record.majAtK) : ""
        log(String(format: "eval at step %d on %d held-out problems: pass@1 %.1f%%", record.step, record.problems.count, 100 * record.passAt1) + k)
    }

    /// The ETA extrapolates this session's mean step time (evaluations and checkpoints not counted).
    func progressLine(_ metrics: TrainingMetrics, trainingSeconds: Double, stepsThisSession: Int) -> String {
        let rules = zip(trainer.rewards.rules.map(\.name), metrics.ruleRewardMeans).map { String(format: "%@ %.2f", $0, $1) }.joined(separator: ", ")
        let remaining = Double(totalSteps - metrics.generationStep) * trainingSeconds / Double(max(stepsThisSession, 1))
        let tokensPerSecond = metrics.seconds.total > 0 ? Double(metrics.tokensGenerated) / metrics.seconds.total : 0
        let kl = metrics.kl.isNaN ? "–" : String(format: "%.4f", metrics.kl)
        return String(format: "step %d/%d | reward %.3f (%@) | KL %@ | len %.1f | %.0f tok/s | %.2f s/step | ETA %@",
                      metrics.generationStep, totalSteps, metrics.rewardMean, rules, kl, metrics.completionLengthMean,
                      tokensPerSecond, metrics.seconds.total, Self.clock(remaining))
    }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
    }

    // MARK: Checkpoints

    func saveCheckpoint(final: Bool) throws {
        let state = Checkpoint.State(generationStep: trainer.generationSteps, optimizerStep: trainer.optimizerSteps,
                                     promptCursor: promptCursor, skippedPrompts: skippedPrompts, seed: experiment.seed)
        let directory = try Checkpoint.save(trainer: trainer, state: state, tokenizerPath: experiment.tokenizerPath,
                                            in: checkpointsDirectory, keep: experiment.output.keepCheckpoints)
        log("checkpoint \(directory.path)")
    }

    func installSignalHandlers() {
        interruptRequested = 0
        signal(SIGINT) { _ in interruptRequested = 1 }
        signal(SIGTERM) { _ in interruptRequested = 1 }
    }

    // MARK: Identity

    /// FNV-1a over the weights' bytes: enough to tell checkpoints apart in a run file.
    static func contentHash(_ parameters: ModelParameters) -> String {
        fnv1a64(UnsafeRawBufferPointer(start: parameters.values.pointer, count: parameters.count * 4))
    }

    static func fileHash(_ url: URL) -> String {
        guard let data = FileManager.default.contents(atPath: url.path) else { return "" }
        return data.withUnsafeBytes(fnv1a64)
    }

    static func fnv1a64(_ bytes: UnsafeRawBufferPointer) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(format: "fnv1a64:%016llx", hash)
    }

    static func truncateMetrics(at url: URL, keepingThrough step: Int) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else { return }
        let kept = String(decoding: data, as: UTF8.self).split(separator: "\n").filter { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return false }
            let lineStep = (object["step"] ?? object["eval_step"]) as? Int ?? Int.max
            return lineStep <= step
        }
        try (kept.map { $0 + "\n" }.joined()).write(to: url, atomically: true, encoding: .utf8)
    }
}

public let swiftGRPOVersion = "0.1.0-dev"

/// One JSON Lines record of named values in the given order (keys escaped; a non-finite number is null).
func metricsRecord(_ fields: [(String, Any)]) -> String {
    let object = JSONValue.object(fields.map { key, value -> (String, JSONValue) in
        switch value {
        case let number as Double: return (key, number.isFinite ? .number("\(number)") : .null)
        case let number as Int: return (key, .number("\(number)"))
        default: return (key, .string("\(value)"))
        }
    })
    var line = ""
    object.write(to: &line)
    return line + "\n"
}
