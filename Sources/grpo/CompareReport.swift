import Foundation
import Trajectories
import Yams

/// Which value of a metric is its best.
enum MetricGoal {
    case maximize, minimize
    /// No value is better than another (learning rate, entropy, lengths): the table shows the range.
    case none
}

/// A metric `grpo compare` can tabulate and plot, and how to read it from a run.
struct CompareMetric {
    var name: String
    var goal: MetricGoal
    /// Evaluations happen every few steps: plotted with markers.
    var isEvaluation = false
    /// Counts: printed without decimals.
    var isCount = false
    var read: (ComparedRun) -> [(step: Int, value: Double)]

    /// The run's values at its steps (or evaluation steps), NaN (not computed) left out.
    func values(of run: ComparedRun) -> [(step: Int, value: Double)] { read(run).filter { !$0.value.isNaN } }
}

/// The metrics of a set of runs, by name.
struct MetricCatalog {
    private(set) var metrics: [CompareMetric] = []
    let anyEvaluations: Bool

    init(runs: [ComparedRun]) {
        anyEvaluations = runs.contains { !$0.evaluations.isEmpty }
        func step(_ name: String, _ goal: MetricGoal, count: Bool = false, _ value: @escaping (StepSummary) -> Double) {
            metrics.append(CompareMetric(name: name, goal: goal, isCount: count) { run in
                run.summaries.map { ($0.metrics.step, value($0)) }
            })
        }
        func evaluation(_ name: String, _ value: @escaping (EvaluationRecord) -> Double) {
            metrics.append(CompareMetric(name: name, goal: .maximize, isEvaluation: true) { run in
                run.evaluations.map { ($0.step, value($0)) }
            })
        }
        step("reward", .maximize) { $0.rewards.totalMean }
        var rules: [String] = []
        for run in runs { for rule in run.metadata.rewardRules where !rules.contains(rule) { rules.append(rule) } }
        for rule in rules {
            metrics.append(CompareMetric(name: "reward/\(rule)", goal: .maximize) { run in
                guard let column = run.metadata.rewardRules.firstIndex(of: rule) else { return [] }
                return run.summaries.map { ($0.metrics.step, column < $0.rewards.ruleMeans.count ? $0.rewards.ruleMeans[column] : .nan) }
            })
        }
        step("reward_std", .none) { $0.rewards.totalStandardDeviation }
        step("loss", .none) { $0.metrics.loss }
        step("kl", .none) { $0.metrics.kl }
        step("entropy", .none) { $0.metrics.entropy }
        step("grad_norm", .none) { $0.metrics.gradNorm }
        step("lr", .none) { $0.metrics.learningRate }
        step("clip_ratio_low", .none) { $0.metrics.clipFractionLow }
        step("clip_ratio_high", .none) { $0.metrics.clipFractionHigh }
        step("completion_length", .none) { $0.completionLengthMean }
        step("zero_variance_groups", .minimize, count: true) { Double($0.metrics.zeroVarianceGroups) }
        step("tokens", .none, count: true) { Double($0.metrics.tokensGenerated) }
        step("step_seconds", .minimize) { s in
            s.metrics.seconds.sample + s.metrics.seconds.score + s.metrics.seconds.reference + s.metrics.seconds.policyUpdate
        }
        evaluation("eval/pass@1") { $0.passAt1 }
        evaluation("eval/pass@k") { $0.passAtK }
        evaluation("eval/maj@k") { $0.majAtK }
        var extras: [String] = []
        for run in runs { for name in run.metadata.extraStepMetrics where !extras.contains(name) { extras.append(name) } }
        let builtIn = Set(metrics.map(\.name))
        for extra in extras {
            metrics.append(CompareMetric(name: builtIn.contains(extra) ? "extra/\(extra)" : extra, goal: .none) { run in
                guard let column = run.metadata.extraStepMetrics.firstIndex(of: extra) else { return [] }
                return run.summaries.map { ($0.metrics.step, column < $0.metrics.extra.count ? $0.metrics.extra[column] : .nan) }
            })
        }
    }

    var names: [String] { metrics.map(\.name) }

    var defaultMetrics: [CompareMetric] {
        (anyEvaluations ? ["reward", "eval/pass@1"] : ["reward"]).map { name in metrics.first { $0.name == name }! }
    }

    func metric(named name: String) throws -> CompareMetric {
        if let metric = metrics.first(where: { $0.name == name }) { return metric }
        let ranked = names.map { ($0, editDistance($0.lowercased(), name.lowercased())) }.min { $0.1 < $1.1 }
        let suggestion = ranked.flatMap { $0.1 <= max(2, name.count / 3) ? $0.0 : nil }
        throw CompareError.unknownMetric(name: name, suggestion: suggestion, valid: names)
    }
}

/// Levenshtein distance.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var row = Array(0...b.count)
    for i in 1...max(1, a.count) where !a.isEmpty {
        var previous = row[0]
        row[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            let current = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
            previous = current
        }
    }
    return row[b.count]
}

enum CompareReport {
    // MARK: Metrics table

    static func metricsTable(runs: [ComparedRun], metrics: [CompareMetric]) -> String {
        var table = TextTable()
        table.addColumn("run", alignment: .left)
        table.addColumn("steps", alignment: .left)
        table.addColumn("wall time", alignment: .right)
        for metric in metrics {
            table.addColumn("final", group: metric.name)
            table.addColumn(metric.goal == .none ? "range" : "best @step", group: metric.name)
        }
        var rules: [String] = []
        for run in runs { for rule in run.metadata.rewardRules where !rules.contains(rule) { rules.append(rule) } }
        for rule in rules { table.addColumn(rule, group: "final reward per rule") }

        for run in runs {
            let steps = run.summaries.map(\.metrics.step)
            var row = [run.name, "\(steps.count) (\(steps.first!)–\(steps.last!))",
                       duration(run.summaries.last!.wallTime - run.summaries.first!.wallTime)]
            for metric in metrics {
                let values = metric.values(of: run)
                guard let last = values.last else { row += ["—", "—"]; continue }
                let format = { (value: Double) in metric.isCount ? String(format: "%.0f", value) : number(value) }
                row.append(format(last.value))
                switch metric.goal {
                case .maximize, .minimize:
                    // The first step that reached the best value.
                    let best = values.reduce(values[0]) { best, next in
                        (metric.goal == .maximize ? next.value > best.value : next.value < best.value) ? next : best
                    }
                    row.append("\(format(best.value)) @\(best.step)")
                case .none:
                    let sorted = values.map(\.value)
                    row.append("\(format(sorted.min()!)) … \(format(sorted.max()!))")
                }
            }
            let final = run.summaries.last!
            for rule in rules {
                if let column = run.metadata.rewardRules.firstIndex(of: rule), column < final.rewards.ruleMeans.count {
                    row.append(final.rewards.ruleMeans[column].isNaN ? "n/a" : number(final.rewards.ruleMeans[column]))
                } else {
                    row.append("—")
                }
            }
            table.addRow(row)
        }
        return table.render()
    }

    /// Four significant digits, without an exponent between 0.001 and 100 000.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "n/a" }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        guard magnitude >= 1e-3, magnitude < 1e5 else { return String(format: "%.3e", value) }
        let decimals = max(0, 3 - Int(log10(magnitude).rounded(.down)))
        return String(format: "%.\(decimals)f", value)
    }

    /// h:mm:ss.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "n/a" }
        let total = Int(seconds.rounded())
        return String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
    }

    // MARK: Config differences

    /// The experiment settings (flattened key paths of each run's experiment YAML) whose values differ between runs.
    static func configDifferences(runs: [ComparedRun]) -> String {
        var lines: [String] = []
        var settings: [(run: ComparedRun, values: [String: String])] = []
        var keys: [String] = []
        for run in runs {
            switch flattenExperiment(run.metadata.experiment) {
            case let .success(pairs):
                var values: [String: String] = [:]
                for (key, value) in pairs {
                    if values[key] == nil && !keys.contains(key) { keys.append(key) }
                    values[key] = value
                }
                settings.append((run, values))
            case let .failure(problem):
                lines.append("  \(run.name): \(problem.message); its settings are not compared")
            }
        }
        guard runs.count > 1 else {
            return "config differences: one run, nothing to compare" + (lines.isEmpty ? "" : "\n" + lines.joined(separator: "\n"))
        }
        let differing = keys.filter { key in Set(settings.map { $0.values[key] ?? "\u{0}absent" }).count > 1 }
        if settings.count < 2 {
            lines.insert("config differences: fewer than two runs have a readable experiment file", at: 0)
        } else if differing.isEmpty {
            lines.insert("config differences: none (the experiment files set the same values)", at: 0)
        } else {
            var table = TextTable()
            table.addColumn("key", alignment: .left)
            for (run, _) in settings { table.addColumn(run.name, alignment: .left) }
            for key in differing {
                table.addRow([key] + settings.map { abbreviated($0.values[key] ?? "—") })
            }
            lines.insert("config differences (experiment settings that are not the same in every run; — = not set):", at: 0)
            lines.insert(table.render(), at: 1)
        }
        return lines.joined(separator: "\n")
    }

    struct ExperimentProblem: Error {
        var message: String
    }

    /// `training.beta = 0.04`-style key paths of a YAML mapping, in file order; sequences of scalars stay one
    /// value (`[a, b]`), other sequences index their elements (`rewards[0].name`).
    static func flattenExperiment(_ text: String) -> Result<[(String, String)], ExperimentProblem> {
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return .failure(ExperimentProblem(message: "the run file holds no experiment text"))
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            let reason = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
            return .failure(ExperimentProblem(message: "its experiment text is not YAML (\(reason))"))
        }
        guard let node, case .mapping = node else {
            return .failure(ExperimentProblem(message: "its experiment text is not a YAML mapping of settings"))
        }
        var pairs: [(String, String)] = []
        func walk(_ node: Node, _ path: String) {
            switch node {
            case let .scalar(scalar):
                pairs.append((path, scalar.string))
            case let .mapping(mapping):
                if mapping.isEmpty { pairs.append((path, "{}")) }
                for (key, value) in mapping {
                    let name = key.string ?? "\(key)"
                    walk(value, path.isEmpty ? name : path + "." + name)
                }
            case let .sequence(sequence):
                let elements = Array(sequence)
                if elements.allSatisfy({ if case .scalar = $0 { return true } else { return false } }) {
                    pairs.append((path, "[" + elements.compactMap(\.string).joined(separator: ", ") + "]"))
                } else {
                    for (index, element) in elements.enumerated() { walk(element, "\(path)[\(index)]") }
                }
            case .alias:
                pairs.append((path, "(alias)"))
            }
        }
        walk(node, "")
        return .success(pairs)
    }

    static func abbreviated(_ value: String, limit: Int = 40) -> String {
        let flat = value.replacingOccurrences(of: "\n", with: "⏎")
        return flat.count <= limit ? flat : String(flat.prefix(limit - 1)) + "…"
    }
}

/// Plain-text table with aligned columns; columns may share a group title printed above them.
struct TextTable {
    enum Alignment { case left, right }

    private var headers: [String] = []
    private var groups: [String?] = []
    private var alignments: [Alignment] = []
    private var rows: [[String]] = []

    mutating func addColumn(_ header: String, group: String? = nil, alignment: Alignment = .right) {
        headers.append(header)
        groups.append(group)
        alignments.append(alignment)
    }

    mutating func addRow(_ cells: [String]) { rows.append(cells) }

    func render(separator: String = "  ") -> String {
        var widths = headers.indices.map { column in
            ([headers[column]] + rows.map { $0[column] }).map(\.count).max()!
        }
        // Spans of equal consecutive groups; a group title wider than its columns widens the last one.
        var spans: [(title: String?, columns: Range<Int>)] = []
        for (column, group) in groups.enumerated() {
            if let last = spans.last, last.title != nil, last.title == group {
                spans[spans.count - 1].columns = last.columns.lowerBound..<(column + 1)
            } else {
                spans.append((group, column..<(column + 1)))
            }
        }
        for span in spans {
            guard let title = span.title else { continue }
            let width = span.columns.map { widths[$0] }.reduce(0, +) + separator.count * (span.columns.count - 1)
            if title.count > width { widths[span.columns.upperBound - 1] += title.count - width }
        }
        func pad(_ text: String, _ width: Int, _ alignment: Alignment) -> String {
            let padding = String(repeating: " ", count: max(0, width - text.count))
            return alignment == .left ? text + padding : padding + text
        }
        func line(_ cells: [String]) -> String {
            cells.indices.map { pad(cells[$0], widths[$0], alignments[$0]) }.joined(separator: separator)
                .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var lines: [String] = []
        if groups.contains(where: { $0 != nil }) {
            let groupLine = spans.map { span -> String in
                let width = span.columns.map { widths[$0] }.reduce(0, +) + separator.count * (span.columns.count - 1)
                return pad(span.title ?? "", width, .left)
            }.joined(separator: separator)
            lines.append(groupLine.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        }
        lines.append(line(headers))
        lines += rows.map(line)
        return lines.joined(separator: "\n")
    }
}
