import ArgumentParser
import Foundation
import Trajectories

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare runs from their run files: a table of metrics and config differences, and a chart.",
        discussion: """
            Each RUN is a run file (runs/NAME/run.h5) or a run directory holding run.h5; a run is named after its \
            directory (or its file name when that is not run.h5). Prints one row per run (steps, wall time, final \
            and best value of each --metric, final mean reward of each rule), then the experiment settings that \
            differ between the runs. With --out, also draws each metric over steps (one panel per metric, one line \
            per run) as PNG or SVG.

            Metrics: reward (mean total reward), reward/<rule> (mean reward of one rule), reward_std, loss, kl, \
            entropy, grad_norm, lr, clip_ratio_low, clip_ratio_high, completion_length (mean tokens), \
            zero_variance_groups, tokens (completion tokens sampled), step_seconds (sum of the step's phases), \
            eval/pass@1, eval/pass@k, eval/maj@k (at evaluation steps), and each trainer-specific metric the run \
            file names (extra/<name> when the name is taken). Default: reward, and eval/pass@1 when a run has \
            evaluations. Best is the maximum for reward, reward/<rule> and eval/*, the minimum for \
            zero_variance_groups and step_seconds; other metrics (loss and kl too) show their range instead. Values that were not \
            computed (NaN) are skipped. See docs/compare.md.
            """)

    @Argument(help: ArgumentHelp("Run files or run directories, one or more.", valueName: "run"))
    var runs: [String]

    @Option(name: .customLong("metric"),
            help: ArgumentHelp("A metric to compare and plot; repeat it or separate names with commas.", valueName: "name"))
    var metricArguments: [String] = []

    @Option(help: ArgumentHelp("Draw the chart into this file: .png or .svg.", valueName: "file"))
    var out: String?

    func validate() throws {
        if runs.isEmpty { throw ValidationError("give at least one run file or run directory") }
        if let out, ChartFormat(path: out) == nil {
            throw ValidationError("--out \(out): the chart is written as PNG or SVG; end the file name in .png or .svg")
        }
    }

    func run() throws {
        let loaded = try ComparedRun.load(runs)
        let catalog = MetricCatalog(runs: loaded)
        let requested = metricArguments.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            .filter { !$0.isEmpty }
            .reduce(into: [String]()) { names, name in if !names.contains(name) { names.append(name) } }
        let metrics = requested.isEmpty ? catalog.defaultMetrics : try requested.map { try catalog.metric(named: $0) }

        print(CompareReport.metricsTable(runs: loaded, metrics: metrics))
        print("")
        print(CompareReport.configDifferences(runs: loaded))

        if let out, let format = ChartFormat(path: out) {
            let chart = LineChart(runNames: loaded.map(\.name), panels: metrics.map { metric in
                LineChart.Panel(title: metric.name, series: loaded.enumerated().map { index, run in
                    LineChart.Series(run: index, points: metric.values(of: run).map { ChartPoint(x: Double($0.step), y: $0.value) },
                                     markers: metric.isEvaluation)
                }, integerValues: metric.isCount)
            })
            let drawing = chart.drawing()
            let data = format == .png ? PNGCanvas.render(drawing) : Data(SVGCanvas.render(drawing).utf8)
            do {
                try data.write(to: URL(fileURLWithPath: out))
            } catch {
                throw CompareError.cannotWrite(path: out, reason: error.localizedDescription)
            }
            print("")
            print("chart: \(out) (\(metrics.count) panel\(metrics.count == 1 ? "" : "s"), \(drawing.width)×\(drawing.height))")
        }
    }
}

enum ChartFormat {
    case png, svg

    init?(path: String) {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "png": self = .png
        case "svg": self = .svg
        default: return nil
        }
    }
}

enum CompareError: Error, CustomStringConvertible {
    case noSuchRun(path: String)
    case directoryWithoutRunFile(path: String)
    case noSteps(path: String)
    case unreadable(path: String, reason: String)
    case unknownMetric(name: String, suggestion: String?, valid: [String])
    case cannotWrite(path: String, reason: String)

    var description: String {
        switch self {
        case let .noSuchRun(path):
            return "\(path): no such run file or run directory"
        case let .directoryWithoutRunFile(path):
            return "\(path): a directory without run.h5; give a run directory (runs/NAME) or a run file"
        case let .noSteps(path):
            return "\(path): the run has no complete step yet; nothing to compare"
        case let .unreadable(path, reason):
            return "\(path): \(reason)"
        case let .unknownMetric(name, suggestion, valid):
            return "unknown metric '\(name)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
                + "; the metrics of these runs are: " + valid.joined(separator: ", ")
        case let .cannotWrite(path, reason):
            return "\(path): cannot write the chart: \(reason)"
        }
    }
}

/// One run as `grpo compare` sees it: its name, metadata, step summaries and evaluations.
struct ComparedRun {
    var name: String
    var path: String
    var metadata: RunMetadata
    var summaries: [StepSummary]
    var evaluations: [EvaluationRecord]

    /// Reads every argument (a run file, or a directory holding run.h5) and names the runs uniquely.
    static func load(_ arguments: [String]) throws -> [ComparedRun] {
        var runs: [ComparedRun] = []
        for argument in arguments {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                throw CompareError.noSuchRun(path: argument)
            }
            let url = URL(fileURLWithPath: argument).standardizedFileURL
            let path: String
            let name: String
            if isDirectory.boolValue {
                path = url.appendingPathComponent("run.h5").path
                guard FileManager.default.fileExists(atPath: path) else { throw CompareError.directoryWithoutRunFile(path: argument) }
                name = url.lastPathComponent
            } else {
                path = argument
                let stem = url.deletingPathExtension().lastPathComponent
                name = stem == "run" ? url.deletingLastPathComponent().lastPathComponent : stem
            }
            do {
                let reader = try TrajectoryReader(path: path)
                defer { reader.close() }
                let summaries = try reader.summaries()
                guard !summaries.isEmpty else { throw CompareError.noSteps(path: path) }
                runs.append(ComparedRun(name: name, path: path, metadata: reader.metadata, summaries: summaries,
                                        evaluations: try reader.evaluations()))
            } catch let error as TrajectoryError {
                throw error  // its message names the path
            } catch let error as CompareError {
                throw error
            } catch {
                throw CompareError.unreadable(path: path, reason: "\(error)")
            }
        }
        // Same names (two runs/NAME/run.h5 under different parents, or one run twice): number them.
        var seen: [String: Int] = [:]
        for name in runs.map(\.name) { seen[name, default: 0] += 1 }
        var counters: [String: Int] = [:]
        for index in runs.indices where seen[runs[index].name]! > 1 {
            let name = runs[index].name
            counters[name, default: 0] += 1
            var candidate = "\(name)-\(counters[name]!)"
            while seen[candidate] != nil { counters[name]! += 1; candidate = "\(name)-\(counters[name]!)" }
            runs[index].name = candidate
        }
        return runs
    }
}
