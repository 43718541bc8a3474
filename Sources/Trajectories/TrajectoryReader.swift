import Foundation

/// Reads a run file: its metadata, its steps' metrics, each step's prompts, completions and per-token log-probs,
/// and its evaluations. Opens in SWMR read mode, so it can read a file a run is writing (`refresh()` picks up
/// the steps written since), and sees only complete steps: a step a kill cut short is invisible.
public final class TrajectoryReader {
    public let path: String
    public let metadata: RunMetadata
    private let file: RunFile
    private var extent: RunFile.Extent
    /// Step numbers of the complete step rows, in row order (strictly increasing).
    public private(set) var steps: [Int]

    /// Opens `path`. Throws `fileNotFound`, `notHDF5`, `notARunFile`, `unsupportedFormatVersion`, `missingDataset`,
    /// `missingAttribute` or `schemaMismatch` when it is not a run file this version reads.
    public init(path: String) throws {
        self.path = path
        file = try RunFile.open(path: path, writable: false)
        metadata = file.metadata
        extent = RunFile.Extent()
        steps = []
        try reload()
    }

    deinit { try? file.close() }

    public func close() { try? file.close() }

    public var stepCount: Int { steps.count }
    public var evaluationCount: Int { extent.evals }

    /// Re-reads the extent of the tables: steps a running writer completed since opening become visible.
    public func refresh() throws {
        try file.refresh()
        try reload()
    }

    private func reload() throws {
        extent = try file.completeExtent()
        let numbers: [Int64] = try file.column("steps/step").read(rows: 0..<extent.steps)
        steps = numbers.map(Int.init)
    }

    private func row(ofStep step: Int) throws -> Int {
        // Steps increase strictly, so a binary search finds the row.
        var low = 0, high = steps.count
        while low < high {
            let middle = (low + high) / 2
            if steps[middle] < step { low = middle + 1 } else { high = middle }
        }
        guard low < steps.count, steps[low] == step else {
            throw TrajectoryError.stepNotFound(path: path, step: step, available: Self.describe(steps))
        }
        return low
    }

    /// "0–41" for a contiguous run of steps, "0–10, 12–20" with gaps, "none" when empty.
    static func describe(_ steps: [Int]) -> String {
        guard !steps.isEmpty else { return "none" }
        var parts: [String] = []
        var start = steps[0], previous = steps[0]
        for step in steps.dropFirst() + [Int.min] {
            if step == previous + 1 { previous = step; continue }
            parts.append(start == previous ? "\(start)" : "\(start)–\(previous)")
            start = step
            previous = step
        }
        return parts.joined(separator: ", ")
    }

    // MARK: Steps

    /// The metrics of every complete step, in step order.
    public func summaries() throws -> [StepSummary] {
        try summaries(rows: 0..<extent.steps)
    }

    public func summary(ofStep step: Int) throws -> StepSummary {
        let row = try row(ofStep: step)
        return try summaries(rows: row..<(row + 1))[0]
    }

    private func summaries(rows: Range<Int>) throws -> [StepSummary] {
        func doubles(_ name: String) throws -> [Double] { try file.column("steps/\(name)").read(rows: rows) }
        func ints(_ name: String) throws -> [Int] { try file.column("steps/\(name)").read(rows: rows, as: Int64.self).map(Int.init) }
        let ruleCount = metadata.rewardRules.count, extraCount = metadata.extraStepMetrics.count
        let step = try ints("step"), learningRate = try doubles("learning_rate"), loss = try doubles("loss")
        let kl = try doubles("kl"), clipLow = try doubles("clip_fraction_low"), clipHigh = try doubles("clip_fraction_high")
        let entropy = try doubles("entropy"), gradNorm = try doubles("grad_norm")
        let rewardMean = try doubles("reward_mean"), rewardStd = try doubles("reward_std")
        let ruleMean = try doubles("rule_reward_mean"), ruleStd = try doubles("rule_reward_std")
        let zeroVariance = try ints("zero_variance_groups"), tokensGenerated = try ints("tokens_generated")
        let lengthMean = try doubles("completion_length_mean")
        let sample = try doubles("seconds_sample"), score = try doubles("seconds_score")
        let reference = try doubles("seconds_reference"), update = try doubles("seconds_policy_update")
        let write = try doubles("seconds_write"), wallTime = try doubles("wall_time")
        let firstPrompt = try ints("first_prompt"), promptCount = try ints("prompt_count")
        let firstCompletion = try ints("first_completion"), completionCount = try ints("completion_count")
        let firstToken = try ints("first_token"), tokenCount = try ints("token_count")
        let extra = try doubles("extra")
        return (0..<rows.count).map { i in
            let metrics = StepMetrics(
                step: step[i], learningRate: learningRate[i], loss: loss[i], kl: kl[i], clipFractionLow: clipLow[i],
                clipFractionHigh: clipHigh[i], entropy: entropy[i], gradNorm: gradNorm[i],
                zeroVarianceGroups: zeroVariance[i], tokensGenerated: tokensGenerated[i],
                seconds: PhaseSeconds(sample: sample[i], score: score[i], reference: reference[i], policyUpdate: update[i]),
                extra: Array(extra[(i * extraCount)..<((i + 1) * extraCount)]))
            let rewards = RewardStatistics(
                ruleMeans: Array(ruleMean[(i * ruleCount)..<((i + 1) * ruleCount)]),
                ruleStandardDeviations: Array(ruleStd[(i * ruleCount)..<((i + 1) * ruleCount)]),
                totalMean: rewardMean[i], totalStandardDeviation: rewardStd[i])
            return StepSummary(
                metrics: metrics, rewards: rewards, completionLengthMean: lengthMean[i], writeSeconds: write[i],
                wallTime: wallTime[i], promptRows: firstPrompt[i]..<(firstPrompt[i] + promptCount[i]),
                completionRows: firstCompletion[i]..<(firstCompletion[i] + completionCount[i]),
                tokenRows: firstToken[i]..<(firstToken[i] + tokenCount[i]))
        }
    }

    /// Everything stored for `step`: metrics, prompts, and completions with their tokens and log-probs.
    /// Log-prob arrays the step did not compute (all NaN) and rule errors that are all empty come back empty.
    public func record(ofStep step: Int) throws -> StepRecord {
        try record(ofStep: step, completionLimit: nil)
    }

    /// Like `record(ofStep:)`, with only the first `completionLimit` completions (for a quick look at a big step).
    public func record(ofStep step: Int, completionLimit: Int?) throws -> StepRecord {
        let summary = try summary(ofStep: step)
        let prompts = summary.promptRows
        let promptIndex: [Int64] = try file.column("prompts/prompt_index").read(rows: prompts)
        let promptText = try file.column("prompts/text").readStrings(rows: prompts)
        let answers = try file.column("prompts/answer").readStrings(rows: prompts)
        let promptRecords = (0..<prompts.count).map {
            PromptRecord(promptIndex: Int(promptIndex[$0]), text: promptText[$0], answer: answers[$0])
        }

        var rows = summary.completionRows
        if let completionLimit { rows = rows.lowerBound..<min(rows.upperBound, rows.lowerBound + max(0, completionLimit)) }
        let ruleCount = metadata.rewardRules.count
        let group: [Int32] = try file.column("completions/group").read(rows: rows)
        let text = try file.column("completions/text").readStrings(rows: rows)
        let length: [Int32] = try file.column("completions/length").read(rows: rows)
        let tokenOffset: [Int64] = try file.column("completions/token_offset").read(rows: rows)
        let finish = try file.column("completions/finish_reason").readStrings(rows: rows)
        let ruleRewards: [Float] = try file.column("completions/rule_rewards").read(rows: rows)
        let reward: [Float] = try file.column("completions/reward").read(rows: rows)
        let advantage: [Float] = try file.column("completions/advantage").read(rows: rows)
        let ruleErrors = try file.column("completions/rule_errors").readStrings(rows: rows)

        // The completions' tokens must follow each other from the step's first token on, within its tokens, and
        // their groups must name the step's prompts: checked, so a damaged file gives an error, not a trap.
        var end = summary.tokenRows.lowerBound
        for i in 0..<rows.count {
            guard tokenOffset[i] == Int64(end), length[i] >= 0, Int(length[i]) <= summary.tokenRows.upperBound - end,
                  group[i] >= 0, Int(group[i]) < prompts.count else {
                throw TrajectoryError.schemaMismatch(path: path, detail: "completion row \(rows.lowerBound + i) of step "
                    + "\(step) does not match its step (token_offset, length or group out of place)")
            }
            end += Int(length[i])
        }
        let tokens = summary.tokenRows.lowerBound..<end
        let tokenIDs: [Int32] = try file.column("tokens/token_id").read(rows: tokens)
        let old: [Float] = try file.column("tokens/old_logprob").read(rows: tokens)
        let reference: [Float] = try file.column("tokens/ref_logprob").read(rows: tokens)
        let new: [Float] = try file.column("tokens/new_logprob").read(rows: tokens)

        var completions: [CompletionRecord] = []
        completions.reserveCapacity(rows.count)
        for i in 0..<rows.count {
            let start = Int(tokenOffset[i]) - tokens.lowerBound
            let span = start..<(start + Int(length[i]))
            func perToken(_ values: [Float]) -> [Float] {
                let slice = values[span]
                return slice.allSatisfy(\.isNaN) ? [] : Array(slice)
            }
            guard let reason = FinishReason(rawValue: finish[i]) else {
                throw TrajectoryError.schemaMismatch(path: path, detail:
                    "completion row \(rows.lowerBound + i) has finish_reason '\(finish[i])'; expected one of "
                    + FinishReason.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let errors = Array(ruleErrors[(i * ruleCount)..<((i + 1) * ruleCount)])
            completions.append(CompletionRecord(
                group: Int(group[i]), text: text[i], tokenIDs: Array(tokenIDs[span]), finishReason: reason,
                rewards: Array(ruleRewards[(i * ruleCount)..<((i + 1) * ruleCount)]), totalReward: reward[i],
                advantage: advantage[i], ruleErrors: errors.allSatisfy(\.isEmpty) ? [] : errors,
                oldLogProbs: perToken(old), referenceLogProbs: perToken(reference), newLogProbs: perToken(new)))
        }
        return StepRecord(metrics: summary.metrics, prompts: promptRecords, completions: completions)
    }

    // MARK: Evaluations

    public func evaluations() throws -> [EvaluationRecord] {
        let rows = 0..<extent.evals
        let step: [Int64] = try file.column("evals/step").read(rows: rows)
        let k: [Int64] = try file.column("evals/k").read(rows: rows)
        let passAt1: [Double] = try file.column("evals/pass_at_1").read(rows: rows)
        let passAtK: [Double] = try file.column("evals/pass_at_k").read(rows: rows)
        let majAtK: [Double] = try file.column("evals/maj_at_k").read(rows: rows)
        let first: [Int64] = try file.column("evals/first_problem").read(rows: rows)
        let count: [Int64] = try file.column("evals/problem_count").read(rows: rows)
        let problemRows = 0..<extent.evalProblems
        let index: [Int64] = try file.column("eval_problems/problem_index").read(rows: problemRows)
        let correct: [UInt8] = try file.column("eval_problems/correct").read(rows: problemRows)
        let samples: [Int32] = try file.column("eval_problems/correct_samples").read(rows: problemRows)
        return rows.map { i in
            let problems = (Int(first[i])..<Int(first[i] + count[i])).map {
                EvaluationProblem(problemIndex: Int(index[$0]), correct: correct[$0] != 0, correctSamples: Int(samples[$0]))
            }
            return EvaluationRecord(step: Int(step[i]), k: Int(k[i]), passAt1: passAt1[i], passAtK: passAtK[i],
                                    majAtK: majAtK[i], problems: problems)
        }
    }
}
