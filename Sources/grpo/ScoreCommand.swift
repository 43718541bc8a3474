import ArgumentParser
import Foundation
import RewardSystem
import Rewards

/// `grpo score`: scores completions in a JSONL file with reward rules, without a model.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score completions from a JSONL file with reward rules.",
        discussion: """
        Each input line is a JSON object with "completion" (required), "answer" (the gold answer, optional), \
        "prompt" (optional), "token_count" and "truncated" (optional), and any other fields (for example \
        "numbers" and "target"), which the rules receive as metadata.

        Each output line is the input object with "rewards" ({rule: value}), "reward" (the weighted total), \
        "extracted" ({rule: answer or null} for rules that extract an answer) and, when a rule failed on that \
        line, "errors" ({rule: message}). A malformed input line is reported on stderr with its line number \
        (the exit status is then 1); the other lines are still scored.

        Example:
          grpo score --input completions.jsonl --rule accuracy --rule format:0.2 \\
            --option accuracy.extraction=boxed_or_fallback --output scored.jsonl

        See docs/rewards.md for every rule, its options and the math-equivalence conventions.
        """
    )

    @Option(name: .long, help: "JSONL file of completions to score.")
    var input: String?

    @Option(name: .customLong("rule"), help: ArgumentHelp("A rule to apply, with an optional weight (default 1). Repeat for several rules.", valueName: "NAME[:WEIGHT]"))
    var rules: [String] = []

    @Option(name: .customLong("option"), help: ArgumentHelp("An option of a rule, e.g. accuracy.extraction=boxed_or_fallback. Repeatable.", valueName: "NAME.KEY=VALUE"))
    var options: [String] = []

    @Option(name: .long, help: "Write the scored JSONL here instead of stdout.")
    var output: String?

    @Flag(name: .long, help: "Print per-rule means and error counts to stderr when done.")
    var summary = false

    @Flag(name: .long, help: "List the available rules and their options, then exit.")
    var listRules = false

    func run() throws {
        let registry = try UserRewards.registry()
        if listRules {
            print(registry.helpText())
            return
        }
        guard let input else { throw ValidationError("--input FILE.jsonl is required (or use --list-rules)") }
        guard !rules.isEmpty else {
            throw ValidationError("give at least one --rule NAME[:WEIGHT]; available rules: \(registry.names.joined(separator: ", "))")
        }
        var rewardSet = try makeRewardSet(registry)

        guard let data = JSONLines.contents(of: input) else {
            throw ScoreError("cannot read the input file '\(input)'")
        }
        let sink = try LineWriter(path: output)
        var malformed = 0
        var lineNumber = 0
        var start = data.startIndex
        while start < data.endIndex {
            let end = data[start...].firstIndex(of: 0x0A) ?? data.endIndex
            lineNumber += 1
            let lineBytes = [UInt8](data[start..<end])
            start = end < data.endIndex ? data.index(after: end) : end
            var line = String(decoding: lineBytes, as: UTF8.self)
            if lineNumber == 1, line.hasPrefix("\u{FEFF}") { line.removeFirst() }  // a UTF-8 byte-order mark
            if line.allSatisfy({ $0.isWhitespace }) { continue }
            do {
                let (record, completion, sample) = try ScoringRecord.parse(line)
                let scored = rewardSet.score(completion, for: sample)
                sink.write(ScoringRecord.outputLine(record, scored))
            } catch {
                malformed += 1
                FileHandle.standardError.write(Data("\(input):\(lineNumber): \(error)\n".utf8))
            }
        }
        sink.close()
        if summary {
            var lines: [String] = []
            let m = rewardSet.metrics
            lines.append("scored \(m.completions) completions, mean reward \(m.meanTotal)")
            for r in m.rules {
                var line = "  \(r.rule): mean \(r.mean), errors \(r.errors)"
                if let last = r.lastError { line += " (last: \(last))" }
                lines.append(line)
            }
            FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        if malformed > 0 {
            FileHandle.standardError.write(Data("\(malformed) malformed input line(s) were not scored\n".utf8))
            throw ExitCode(1)
        }
    }

    func makeRewardSet(_ registry: RuleRegistry) throws -> RewardSet {
        var specs = try rules.map { try RuleSpec(parsing: $0) }
        for option in options {
            guard let eq = option.firstIndex(of: "=") else {
                throw ValidationError("--option '\(option)': expected NAME.KEY=VALUE")
            }
            let path = option[..<eq]
            let value = String(option[option.index(after: eq)...])
            guard let dot = path.firstIndex(of: "."), dot != path.startIndex, path.index(after: dot) != path.endIndex else {
                throw ValidationError("--option '\(option)': expected NAME.KEY=VALUE, e.g. accuracy.think=true")
            }
            let name = String(path[..<dot]), key = String(path[path.index(after: dot)...])
            guard let i = specs.firstIndex(where: { $0.name == name }) else {
                throw ValidationError("--option '\(option)': rule '\(name)' is not among the --rule arguments (\(specs.map(\.name).joined(separator: ", ")))")
            }
            specs[i].options[key] = value
        }
        return try registry.makeRewardSet(specs)
    }

    struct ScoreError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
