import Foundation
import RewardSystem

/// The task kinds an experiment can train on.
public enum TaskName: String, CaseIterable, Codable, Sendable {
    case arithmetic, countdown, jsonl
}

/// The `task:` section of an experiment file. Every key is optional; `docs/tasks.md` lists each with its
/// default. Keys of another task kind are ignored (their values are still checked).
public struct TaskConfig: Codable, Equatable, Sendable {
    public var name = TaskName.arithmetic
    /// A built-in template name (`r1zero`, `r1zero_countdown`, `plain`) or text with `{field}` placeholders;
    /// nil: `r1zero_countdown` for countdown, `r1zero` otherwise.
    public var template: String?
    /// Training problems: generators make this many (default 1000); jsonl keeps at most this many (default: all).
    public var trainSize: Int?
    /// Held-out evaluation problems (see `makeSplits`).
    public var evalSize = 100
    /// The task's own seed: problems depend on it alone, never on the training seed or thread count.
    public var seed: UInt64 = 0

    // arithmetic
    /// Largest number of digits per operand (operands are drawn from 0 … 10^digits − 1).
    public var digits = 2
    /// The operators to draw from, any of `+-*/`.
    public var operators = "+-"
    /// Numbers per expression.
    public var operands = 2
    public var allowNegativeResults = false

    // countdown (TinyZero)
    public var minNumbers = 3
    public var maxNumbers = 4
    public var minNumber = 1
    public var maxNumber = 99
    public var minTarget = 1
    public var maxTarget = 100

    // jsonl
    /// The training file, relative to the experiment file's directory (or absolute).
    public var path: String?
    /// A separate evaluation file; without it the last `eval_size` records of `path` are held out.
    public var evalPath: String?
    public var questionField = "question"
    public var answerField = "answer"
    public var answerFormat = AnswerFormat.auto

    public init(name: TaskName = .arithmetic) { self.name = name }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, template
        case trainSize = "train_size"
        case evalSize = "eval_size"
        case seed
        case digits, operators, operands
        case allowNegativeResults = "allow_negative_results"
        case minNumbers = "min_numbers"
        case maxNumbers = "max_numbers"
        case minNumber = "min_number"
        case maxNumber = "max_number"
        case minTarget = "min_target"
        case maxTarget = "max_target"
        case path
        case evalPath = "eval_path"
        case questionField = "question_field"
        case answerField = "answer_field"
        case answerFormat = "answer_format"
    }

    /// Every key the `task:` section may set, in declaration order.
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try container.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        let defaults = TaskConfig()
        if let raw = try container.decodeIfPresent(String.self, forKey: .name) {
            guard let name = TaskName(rawValue: raw) else {
                throw TaskError.invalidConfig(key: "name", message: "expected one of \(TaskName.allCases.map(\.rawValue).joined(separator: ", ")), got '\(raw)'")
            }
            self.name = name
        }
        template = try container.decodeIfPresent(String.self, forKey: .template)
        trainSize = try container.decodeIfPresent(Int.self, forKey: .trainSize)
        evalSize = try value(.evalSize, defaults.evalSize)
        seed = try value(.seed, defaults.seed)
        digits = try value(.digits, defaults.digits)
        operators = try value(.operators, defaults.operators)
        operands = try value(.operands, defaults.operands)
        allowNegativeResults = try value(.allowNegativeResults, defaults.allowNegativeResults)
        minNumbers = try value(.minNumbers, defaults.minNumbers)
        maxNumbers = try value(.maxNumbers, defaults.maxNumbers)
        minNumber = try value(.minNumber, defaults.minNumber)
        maxNumber = try value(.maxNumber, defaults.maxNumber)
        minTarget = try value(.minTarget, defaults.minTarget)
        maxTarget = try value(.maxTarget, defaults.maxTarget)
        path = try container.decodeIfPresent(String.self, forKey: .path)
        evalPath = try container.decodeIfPresent(String.self, forKey: .evalPath)
        questionField = try value(.questionField, defaults.questionField)
        answerField = try value(.answerField, defaults.answerField)
        if let raw = try container.decodeIfPresent(String.self, forKey: .answerFormat) {
            guard let format = AnswerFormat(rawValue: raw) else {
                throw TaskError.invalidConfig(key: "answer_format", message: "expected one of \(AnswerFormat.allCases.map(\.rawValue).joined(separator: ", ")), got '\(raw)'")
            }
            answerFormat = format
        }
    }

    // MARK: Derived

    /// The template this task renders with: `template`, or the task's default.
    public var templateName: String { template ?? (name == .countdown ? "r1zero_countdown" : "r1zero") }

    public func makeTemplate() throws -> PromptTemplate {
        do { return try PromptTemplate(templateName) } catch let error as TaskError {
            throw TaskError.invalidConfig(key: "template", message: error.description)
        }
    }

    /// Training problems a generator makes.
    public var generatedTrainSize: Int { trainSize ?? 1000 }

    // MARK: Validation

    /// Checks every value and their combinations; the error names `task.<key>` and what was expected.
    public func validate() throws {
        func require(_ condition: Bool, _ key: CodingKeys, _ expected: String, _ actual: Any) throws {
            if !condition { throw TaskError.invalidConfig(key: key.rawValue, message: "expected \(expected), got \(actual)") }
        }
        _ = try makeTemplate()
        if let trainSize { try require(trainSize >= 1, .trainSize, "at least 1", trainSize) }
        try require(evalSize >= 0, .evalSize, "0 (no evaluation split) or more", evalSize)

        try require((1...9).contains(digits), .digits, "a digit count in 1…9", digits)
        try require(!operators.isEmpty && operators.allSatisfy { "+-*/".contains($0) }, .operators,
                    "one or more of the characters + - * / (e.g. \"+-\" or \"+-*/\")", "'\(operators)'")
        try require(Set(operators).count == operators.count, .operators, "each operator at most once", "'\(operators)'")
        try require((2...8).contains(operands), .operands, "a number of operands in 2…8", operands)

        try require((2...5).contains(minNumbers), .minNumbers, "a count in 2…5", minNumbers)
        try require((2...5).contains(maxNumbers), .maxNumbers, "a count in 2…5 (the solver searches every equation)", maxNumbers)
        try require(minNumbers <= maxNumbers, .minNumbers, "at most max_numbers (\(maxNumbers))", minNumbers)
        try require(minNumber >= 1 && minNumber <= 1_000_000, .minNumber, "a number in 1…1000000", minNumber)
        try require(maxNumber >= minNumber && maxNumber <= 1_000_000, .maxNumber, "a number in min_number (\(minNumber))…1000000", maxNumber)
        try require(minTarget <= maxTarget, .minTarget, "at most max_target (\(maxTarget))", minTarget)

        try require(!questionField.isEmpty, .questionField, "a field name", "''")
        try require(!answerField.isEmpty, .answerField, "a field name", "''")
        try require(questionField != answerField, .answerField, "a field other than question_field", "'\(answerField)'")
        if name == .jsonl {
            try require(path.map { !$0.isEmpty } ?? false, .path, "the path of a JSONL file (task 'jsonl' reads its problems from one)", path.map { "'\($0)'" } ?? "nothing")
            if let evalPath { try require(!evalPath.isEmpty, .evalPath, "a file path", "''") }
        }
    }

    // MARK: Splits

    /// The training and held-out evaluation problems. Validates first.
    ///
    /// - Generators draw from one stream seeded by `seed`: first `eval_size` distinct problems for
    ///   evaluation, then `train_size` training problems, skipping any that equal an evaluation problem.
    /// - jsonl: evaluation = the first `eval_size` records of `eval_path` if given, else the last `eval_size`
    ///   records of `path`; training = the other records of `path` (at most `train_size`), without any
    ///   whose question text is an evaluation question.
    ///
    /// Relative paths are resolved against `directory` (the experiment file's directory).
    public func makeSplits(relativeTo directory: URL) throws -> TaskSplits {
        try validate()
        let template = try makeTemplate()
        let splits: TaskSplits
        switch name {
        case .arithmetic:
            let task = ArithmeticTask(config: self)
            splits = try ProblemStream(draw: task.draw)
                .splits(seed: seed, trainSize: generatedTrainSize, evalSize: evalSize, describe: "arithmetic")
        case .countdown:
            let task = CountdownTask(config: self)
            splits = try ProblemStream(draw: task.draw, key: CountdownTask.key)
                .splits(seed: seed, trainSize: generatedTrainSize, evalSize: evalSize, describe: "countdown")
        case .jsonl:
            splits = try jsonlSplits(relativeTo: directory)
        }
        for first in [splits.train.first, splits.eval.first].compactMap({ $0 }) {
            do { try template.check(fields: first.fields) } catch let error as TaskError {
                throw TaskError.invalidConfig(key: "template", message: error.description)
            }
        }
        return splits
    }

    /// `path` resolved against `directory` unless absolute; `~` is expanded.
    public static func resolve(_ path: String, relativeTo directory: URL) -> URL {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded).standardizedFileURL }
        return directory.appendingPathComponent(expanded).standardizedFileURL
    }

    func jsonlSplits(relativeTo directory: URL) throws -> TaskSplits {
        let task = JSONLTask(config: self)
        let trainURL = TaskConfig.resolve(path ?? "", relativeTo: directory)
        let records = try task.load(trainURL, key: "path")
        var eval: [Problem]
        var rest: [Problem]
        if let evalPath {
            let evalURL = TaskConfig.resolve(evalPath, relativeTo: directory)
            eval = Array(try task.load(evalURL, key: "eval_path").prefix(evalSize))
            rest = records
        } else {
            guard evalSize < records.count else {
                throw TaskError.invalidConfig(key: "eval_size",
                    message: "holding out \(evalSize) of the \(records.count) records of \(trainURL.path) leaves none for training; lower eval_size or give eval_path")
            }
            eval = Array(records.suffix(evalSize))
            rest = Array(records.prefix(records.count - evalSize))
        }
        let evalQuestions = Set(eval.map(\.question))
        rest.removeAll { evalQuestions.contains($0.question) }
        if rest.isEmpty {
            throw TaskError.invalidConfig(key: "eval_path",
                message: "every question of \(trainURL.path) is also an evaluation question; nothing is left for training")
        }
        if let trainSize { rest = Array(rest.prefix(trainSize)) }
        return TaskSplits.heldOut(train: rest, eval: eval)
    }
}
