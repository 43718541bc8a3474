import Foundation

/// The text `grpo inspect` prints: a run's summary, and one step's completions with their rewards.
public enum RunReport {
    /// Config, steps, evaluations and the metrics of the last step.
    public static func summary(of reader: TrajectoryReader) throws -> String {
        let metadata = reader.metadata
        var lines: [String] = []
        func field(_ name: String, _ value: String) { lines.append(name.padding(toLength: 11, withPad: " ", startingAt: 0) + value) }
        func identity(_ path: String, _ hash: String) -> String { hash.isEmpty ? path : "\(path) (\(hash))" }

        field("run file", "\(reader.path) (format \(TrajectorySchema.version), written by SwiftGRPO \(metadata.swiftGRPOVersion))")
        field("started", metadata.startTime)
        field("model", identity(metadata.modelPath, metadata.modelHash))
        field("tokenizer", identity(metadata.tokenizerPath, metadata.tokenizerHash))
        field("seed", "\(metadata.seed)")
        field("rewards", metadata.rewardRules.isEmpty ? "none"
            : zip(metadata.rewardRules, metadata.rewardWeights).map { "\($0) ×\(number($1))" }.joined(separator: ", "))
        let summaries = try reader.summaries()
        let completions = summaries.reduce(0) { $0 + $1.completionRows.count }
        let tokens = summaries.reduce(0) { $0 + $1.tokenRows.count }
        field("steps", summaries.isEmpty ? "none yet"
            : "\(summaries.count) (\(TrajectoryReader.describe(reader.steps))), \(completions) completions, \(tokens) tokens")
        if let first = summaries.first, let last = summaries.last, summaries.count > 1 {
            field("wall time", String(format: "%.1f s from the first step's write to the last", last.wallTime - first.wallTime))
        }
        let evaluations = try reader.evaluations()
        if let last = evaluations.last {
            var text = "\(evaluations.count) (last at step \(last.step): pass@1 \(fixed(last.passAt1)), "
                + "pass@\(last.k) \(fixed(last.passAtK))"
            if !last.majAtK.isNaN { text += ", maj@\(last.k) \(fixed(last.majAtK))" }
            field("evals", text + ", \(last.problems.count) problems)")
        }
        if let last = summaries.last {
            lines.append("")
            lines.append("last step (\(last.metrics.step)):")
            lines += metricLines(last, metadata: metadata).map { "  " + $0 }
        }
        lines.append("")
        lines.append("experiment:")
        let experiment = metadata.experiment.trimmingCharacters(in: .newlines)
        lines += (experiment.isEmpty ? ["(empty)"] : experiment.components(separatedBy: "\n")).map { "  " + $0 }
        return lines.joined(separator: "\n")
    }

    /// One step: its metrics, then its first `completions` completions with prompt, text, rewards and errors.
    public static func step(_ step: Int, of reader: TrajectoryReader, completions limit: Int) throws -> String {
        let summary = try reader.summary(ofStep: step)
        let record = try reader.record(ofStep: step, completionLimit: limit)
        let metadata = reader.metadata
        let total = summary.completionRows.count
        var lines = ["step \(step): \(record.prompts.count) prompts, \(total) completions"
            + (limit < total ? " (showing \(record.completions.count))" : "")]
        lines += metricLines(summary, metadata: metadata).map { "  " + $0 }
        var shownGroup: Int?
        for (index, completion) in record.completions.enumerated() {
            let prompt = record.prompts[completion.group]
            lines.append("")
            if shownGroup != completion.group {
                lines.append("group \(completion.group) · prompt \(prompt.promptIndex)"
                    + (prompt.answer.isEmpty ? "" : " · answer \(prompt.answer)"))
                lines += indented(prompt.text, by: "  │ ")
                lines.append("")
                shownGroup = completion.group
            }
            lines.append("  completion \(index) · \(completion.length) tokens · \(completion.finishReason.rawValue)")
            lines += indented(completion.text, by: "    ")
            var rewards = zip(metadata.rewardRules, completion.rewards).map { "\($0) \(fixed(Double($1)))" }
            rewards.append("total \(fixed(Double(completion.totalReward)))")
            rewards.append("advantage \(signed(Double(completion.advantage)))")
            lines.append("    rewards: " + rewards.joined(separator: "  "))
            for (rule, error) in zip(metadata.rewardRules, completion.ruleErrors) where !error.isEmpty {
                lines.append("    error in \(rule): \(error)")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func metricLines(_ summary: StepSummary, metadata: RunMetadata) -> [String] {
        let m = summary.metrics
        var lines = [
            "loss \(fixed(m.loss))  kl \(scientific(m.kl))  lr \(scientific(m.learningRate))  entropy \(fixed(m.entropy))  "
                + "grad norm \(fixed(m.gradNorm))  clip low \(fixed(m.clipFractionLow))  clip high \(fixed(m.clipFractionHigh))",
        ]
        var rewards = ["reward \(fixed(summary.rewards.totalMean)) ± \(fixed(summary.rewards.totalStandardDeviation))"]
        for (index, rule) in metadata.rewardRules.enumerated() {
            rewards.append("\(rule) \(fixed(summary.rewards.ruleMeans[index])) ± \(fixed(summary.rewards.ruleStandardDeviations[index]))")
        }
        lines.append(rewards.joined(separator: "  "))
        lines.append("\(summary.completionRows.count) completions, mean length \(String(format: "%.1f", summary.completionLengthMean)) "
            + "tokens, \(m.tokensGenerated) tokens generated, \(m.zeroVarianceGroups) zero-variance groups")
        let s = m.seconds
        lines.append("seconds: sample \(fixed(s.sample))  score \(fixed(s.score))  reference \(fixed(s.reference))  "
            + "update \(fixed(s.policyUpdate))  write \(fixed(summary.writeSeconds))")
        if !metadata.extraStepMetrics.isEmpty {
            lines.append(zip(metadata.extraStepMetrics, m.extra).map { "\($0) \(number($1))" }.joined(separator: "  "))
        }
        return lines
    }

    private static func indented(_ text: String, by prefix: String) -> [String] {
        text.components(separatedBy: "\n").map { prefix + $0 }
    }

    static func fixed(_ value: Double) -> String { value.isNaN ? "n/a" : String(format: "%.3f", value) }
    static func signed(_ value: Double) -> String { value.isNaN ? "n/a" : String(format: "%+.3f", value) }
    static func scientific(_ value: Double) -> String { value.isNaN ? "n/a" : String(format: "%.3g", value) }
    static func number(_ value: Double) -> String {
        if value.isNaN { return "n/a" }
        return value == value.rounded() && abs(value) < 1e15 ? String(format: "%.1f", value) : String(format: "%g", value)
    }
}
