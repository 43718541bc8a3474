import Dispatch
import Foundation

/// Appends a run's steps to its HDF5 run file, one step at a time, flushed to disk at the end of every step.
///
/// The file is written in SWMR mode, so h5py (`h5py.File(path, "r", swmr=True)`) and `grpo inspect` can read it
/// while the run goes on. A step's row in `steps` is written and flushed only after its prompts, completions and
/// tokens are on disk: a kill or a full disk loses at most the step in flight, and readers never see half a step.
///
/// Not thread-safe: one writer per file, used from one thread.
public final class TrajectoryWriter {
    public let path: String
    public let metadata: RunMetadata
    /// The last step completely on disk, or nil before the first.
    public private(set) var lastStep: Int?
    /// Steps completely on disk.
    public private(set) var stepCount: Int

    private let file: RunFile
    private var extent: RunFile.Extent
    private var failed = false

    /// Creates a new run file at `path`. Throws `alreadyExists` rather than replace a run unless `overwrite`.
    public init(creating path: String, metadata: RunMetadata, overwrite: Bool = false) throws {
        self.path = path
        self.metadata = metadata
        file = try RunFile.create(path: path, metadata: metadata, overwrite: overwrite)
        extent = RunFile.Extent()
        stepCount = 0
        do {
            try file.startSingleWriterMultipleReaders()
        } catch {
            try? file.close()
            throw TrajectoryError.cannotCreate(path: path, reason: "\(error)")
        }
    }

    /// Reopens an existing run file to continue it: drops every row after step `lastCheckpointStep` (and any step
    /// a kill cut short), then appends from there. With nil, keeps every complete step. A file left open by a
    /// killed writer is accepted. When the file ends before `lastCheckpointStep`, `lastStep` tells where.
    public init(resuming path: String, keepingStepsThrough lastCheckpointStep: Int? = nil) throws {
        self.path = path
        file = try RunFile.open(path: path, writable: true)
        metadata = file.metadata
        do {
            extent = try file.completeExtent(throughStep: lastCheckpointStep)
            try file.truncate(to: extent)
            stepCount = extent.steps
            if extent.steps > 0 {
                let steps: [Int64] = try file.column("steps/step").read(rows: (extent.steps - 1)..<extent.steps)
                lastStep = Int(steps[0])
            }
            try file.flush()
            try file.startSingleWriterMultipleReaders()
        } catch {
            try? file.close()
            if case TrajectoryError.hdf5 = error {
                throw TrajectoryError.cannotOpen(path: path, reason: "\(error)")
            }
            throw error
        }
    }

    deinit { try? file.close() }

    /// Flushes and closes the file. Appending after `close()` throws.
    public func close() throws {
        guard file.isOpen else { return }
        do {
            try file.close()
        } catch where !failed {
            throw TrajectoryError.writeFailed(path: path, step: (lastStep ?? -1) + 1, lastCompleteStep: lastStep,
                                              reason: "\(error)")
        }
    }

    // MARK: Steps

    /// Appends one step and flushes it to disk. Returns the seconds the write took (also stored as `seconds_write`).
    @discardableResult
    public func append(_ record: StepRecord) throws -> Double {
        try validate(record)
        let start = DispatchTime.now().uptimeNanoseconds
        return try guarded(step: record.metrics.step) {
            // Phase 1: the step's prompts, completions and tokens, flushed. Phase 2: the step row, whose `step`
            // column is written last, flushed: only from then on does the step exist for readers and resume.
            let contents = try writeContents(of: record)
            let writeSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            try writeStepRow(of: record, contents: contents, writeSeconds: writeSeconds)
            extent.steps += 1
            extent.prompts += contents.prompts
            extent.completions += contents.completions
            extent.tokens += contents.tokens
            lastStep = record.metrics.step
            stepCount += 1
            return writeSeconds
        }
    }

    /// Phase 1 alone, as a kill between the phases leaves it (for tests).
    func appendContentsOnlyForTesting(_ record: StepRecord) throws {
        try validate(record)
        _ = try writeContents(of: record)
    }

    private struct Contents {
        var prompts: Int, completions: Int, tokens: Int
    }

    private func writeContents(of record: StepRecord) throws -> Contents {
        let step = record.metrics.step
        let ruleCount = metadata.rewardRules.count
        let first = extent
        let completions = record.completions
        let tokenCount = completions.reduce(0) { $0 + $1.length }

        let promptCount = record.prompts.count
        try file.column("prompts/step").append([Int64](repeating: Int64(step), count: promptCount), rows: promptCount)
        try file.column("prompts/prompt_index").append(record.prompts.map { Int64($0.promptIndex) }, rows: promptCount)
        try file.column("prompts/text").append(strings: record.prompts.map(\.text), rows: promptCount)
        try file.column("prompts/answer").append(strings: record.prompts.map(\.answer), rows: promptCount)

        let n = completions.count
        var tokenOffsets: [Int64] = []
        tokenOffsets.reserveCapacity(n)
        var offset = Int64(first.tokens)
        for completion in completions {
            tokenOffsets.append(offset)
            offset += Int64(completion.length)
        }
        try file.column("completions/step").append([Int64](repeating: Int64(step), count: n), rows: n)
        try file.column("completions/prompt_index").append(completions.map { Int64(record.prompts[$0.group].promptIndex) }, rows: n)
        try file.column("completions/group").append(completions.map { Int32($0.group) }, rows: n)
        try file.column("completions/prompt_row").append(completions.map { Int64(first.prompts + $0.group) }, rows: n)
        try file.column("completions/text").append(strings: completions.map(\.text), rows: n)
        try file.column("completions/length").append(completions.map { Int32($0.length) }, rows: n)
        try file.column("completions/token_offset").append(tokenOffsets, rows: n)
        try file.column("completions/finish_reason").append(strings: completions.map(\.finishReason.rawValue), rows: n)
        try file.column("completions/rule_rewards").append(completions.flatMap(\.rewards), rows: n)
        try file.column("completions/reward").append(completions.map(\.totalReward), rows: n)
        try file.column("completions/advantage").append(completions.map(\.advantage), rows: n)
        try file.column("completions/rule_errors").append(strings: completions.flatMap {
            $0.ruleErrors.isEmpty ? [String](repeating: "", count: ruleCount) : $0.ruleErrors
        }, rows: n)

        try file.column("tokens/token_id").append(completions.flatMap(\.tokenIDs), rows: tokenCount)
        for (name, values) in [("old_logprob", \CompletionRecord.oldLogProbs), ("ref_logprob", \.referenceLogProbs),
                               ("new_logprob", \.newLogProbs)] {
            var flat: [Float] = []
            flat.reserveCapacity(tokenCount)
            for completion in completions {
                let perToken = completion[keyPath: values]
                if perToken.isEmpty { flat.append(contentsOf: repeatElement(.nan, count: completion.length)) }
                else { flat.append(contentsOf: perToken) }
            }
            try file.column("tokens/\(name)").append(flat, rows: tokenCount)
        }
        try file.flush()
        return Contents(prompts: promptCount, completions: n, tokens: tokenCount)
    }

    private func writeStepRow(of record: StepRecord, contents: Contents, writeSeconds: Double) throws {
        let metrics = record.metrics
        let ruleCount = metadata.rewardRules.count
        let rewards = RewardStatistics(of: record.completions, ruleCount: ruleCount)
        let lengthMean = contents.completions == 0 ? Double.nan : Double(contents.tokens) / Double(contents.completions)
        let scalars: [(String, Double)] = [
            ("learning_rate", metrics.learningRate), ("loss", metrics.loss), ("kl", metrics.kl),
            ("clip_fraction_low", metrics.clipFractionLow), ("clip_fraction_high", metrics.clipFractionHigh),
            ("entropy", metrics.entropy), ("grad_norm", metrics.gradNorm),
            ("reward_mean", rewards.totalMean), ("reward_std", rewards.totalStandardDeviation),
            ("completion_length_mean", lengthMean),
            ("seconds_sample", metrics.seconds.sample), ("seconds_score", metrics.seconds.score),
            ("seconds_reference", metrics.seconds.reference), ("seconds_policy_update", metrics.seconds.policyUpdate),
            ("seconds_write", writeSeconds), ("wall_time", Date().timeIntervalSince1970),
        ]
        for (name, value) in scalars { try file.column("steps/\(name)").append([value], rows: 1) }
        let counts: [(String, Int)] = [
            ("zero_variance_groups", metrics.zeroVarianceGroups), ("tokens_generated", metrics.tokensGenerated),
            ("first_prompt", extent.prompts), ("prompt_count", contents.prompts),
            ("first_completion", extent.completions), ("completion_count", contents.completions),
            ("first_token", extent.tokens), ("token_count", contents.tokens),
        ]
        for (name, value) in counts { try file.column("steps/\(name)").append([Int64(value)], rows: 1) }
        try file.column("steps/rule_reward_mean").append(rewards.ruleMeans, rows: 1)
        try file.column("steps/rule_reward_std").append(rewards.ruleStandardDeviations, rows: 1)
        try file.column("steps/extra").append(metrics.extra, rows: 1)
        try file.column("steps/step").append([Int64(metrics.step)], rows: 1)
        try file.flush()
    }

    // MARK: Evaluations

    /// Appends one evaluation and flushes it. Evaluations are kept on resume when their step is kept.
    public func appendEvaluation(_ record: EvaluationRecord) throws {
        guard record.step >= 0, record.k >= 1 else {
            throw TrajectoryError.invalidRecord("evaluation at step \(record.step) with k = \(record.k): "
                + "expected step ≥ 0 and k ≥ 1")
        }
        try guarded(step: record.step) {
            let problems = record.problems
            let n = problems.count
            try file.column("eval_problems/step").append([Int64](repeating: Int64(record.step), count: n), rows: n)
            try file.column("eval_problems/problem_index").append(problems.map { Int64($0.problemIndex) }, rows: n)
            try file.column("eval_problems/correct").append(problems.map { UInt8($0.correct ? 1 : 0) }, rows: n)
            try file.column("eval_problems/correct_samples").append(problems.map { Int32($0.correctSamples) }, rows: n)
            try file.column("evals/k").append([Int64(record.k)], rows: 1)
            try file.column("evals/pass_at_1").append([record.passAt1], rows: 1)
            try file.column("evals/pass_at_k").append([record.passAtK], rows: 1)
            try file.column("evals/maj_at_k").append([record.majAtK], rows: 1)
            try file.column("evals/first_problem").append([Int64(extent.evalProblems)], rows: 1)
            try file.column("evals/problem_count").append([Int64(n)], rows: 1)
            try file.flush()
            try file.column("evals/step").append([Int64(record.step)], rows: 1)
            try file.flush()
            extent.evals += 1
            extent.evalProblems += n
        }
    }

    // MARK: Checks

    /// Runs a write; any failure marks the writer failed and becomes a `writeFailed` naming the last complete step.
    private func guarded<T>(step: Int, _ body: () throws -> T) throws -> T {
        guard !failed else { throw TrajectoryError.writerFailed(path: path) }
        guard file.isOpen else { throw TrajectoryError.writerClosed(path: path) }
        do {
            return try body()
        } catch {
            failed = true
            throw TrajectoryError.writeFailed(path: path, step: step, lastCompleteStep: lastStep,
                                              reason: HDF5.leadingSystemReason("\(error)"))
        }
    }


    private func validate(_ record: StepRecord) throws {
        let step = record.metrics.step
        func fail(_ detail: String) -> TrajectoryError { .invalidRecord("step \(step): \(detail)") }
        guard step >= 0 else { throw fail("step numbers start at 0") }
        if let lastStep, step <= lastStep {
            throw fail("steps must increase; the file already ends at step \(lastStep)")
        }
        let ruleCount = metadata.rewardRules.count
        guard record.metrics.extra.count == metadata.extraStepMetrics.count else {
            throw fail("\(record.metrics.extra.count) extra metrics, the run declares \(metadata.extraStepMetrics.count) "
                + "(\(metadata.extraStepMetrics.joined(separator: ", ")))")
        }
        for (index, completion) in record.completions.enumerated() {
            let at = "completion \(index)"
            guard record.prompts.indices.contains(completion.group) else {
                throw fail("\(at): group \(completion.group), but the step has \(record.prompts.count) prompts")
            }
            guard completion.rewards.count == ruleCount else {
                throw fail("\(at): \(completion.rewards.count) rewards, the run has \(ruleCount) rules")
            }
            guard completion.ruleErrors.isEmpty || completion.ruleErrors.count == ruleCount else {
                throw fail("\(at): \(completion.ruleErrors.count) rule errors, expected none or \(ruleCount)")
            }
            for (name, values) in [("oldLogProbs", completion.oldLogProbs), ("referenceLogProbs", completion.referenceLogProbs),
                                   ("newLogProbs", completion.newLogProbs)] {
                guard values.isEmpty || values.count == completion.length else {
                    throw fail("\(at): \(values.count) \(name) for \(completion.length) tokens")
                }
            }
        }
    }
}
