import Foundation
import Tensors

/// Text to pretrain a base model on: a file (documents separated by blank lines), or a generator.
///
/// The `arithmetic` generator writes what a base model could have read: sums and differences in many phrasings,
/// short question–answer exchanges, and "format exercises" whose instructions name a pair of made-up tags
/// (copying a format from an instruction is the skill a base needs to follow R1-Zero's template). A fraction
/// `formatCompliance` of the exercises answer in the instructed tags; the others answer in plain prose, as
/// text from the web often ignores the instructions it quotes. It never writes `<think>` or `<answer>`: the
/// answer format of the reward is learned by RL.
public struct PretrainingCorpus {
    public enum Source: Equatable, Sendable {
        case file(URL)
        case arithmetic(ArithmeticCorpus)
    }

    public let source: Source

    public init(_ source: Source) { self.source = source }

    /// `count` documents (a file gives all of its documents, cycling when asked for more).
    public func documents(count: Int, seed: UInt64) throws -> [String] {
        switch source {
        case .file(let url):
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw ExperimentError.fileNotFound(path: url.path, what: "corpus file")
            }
            let text = String(decoding: data, as: UTF8.self)
            let documents = text.components(separatedBy: "\n\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            guard !documents.isEmpty else {
                throw ExperimentError.invalidValue(file: url.path, keyPath: "corpus", message: "the corpus file holds no text")
            }
            return documents
        case .arithmetic(let options):
            var generator = ArithmeticCorpusGenerator(options: options, seed: seed)
            return (0..<count).map { _ in generator.document() }
        }
    }
}

/// Options of the `arithmetic` corpus generator.
public struct ArithmeticCorpus: Equatable, Sendable {
    /// Operands have up to this many digits.
    public var digits: Int
    /// Some of `+ - * /`.
    public var operators: String
    /// The share of documents that are format exercises.
    public var exerciseShare: Double
    /// The share of format exercises whose answer follows the instructed tags.
    public var formatCompliance: Double

    public init(digits: Int = 2, operators: String = "+-", exerciseShare: Double = 0.5, formatCompliance: Double = 0.5) {
        self.digits = digits
        self.operators = operators
        self.exerciseShare = exerciseShare
        self.formatCompliance = formatCompliance
    }
}

/// Documents of the `arithmetic` corpus (see `PretrainingCorpus`).
struct ArithmeticCorpusGenerator {
    let options: ArithmeticCorpus
    let operators: [Character]
    var random: SeededGenerator

    init(options: ArithmeticCorpus, seed: UInt64) {
        self.options = options
        operators = Array(options.operators)
        random = SeededGenerator(seed: seed)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(random.next() % UInt64(range.count)) }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
    mutating func chance(_ probability: Double) -> Bool { Double(random.next() >> 11) / Double(1 << 53) < probability }

    /// An expression of two numbers and its value (subtraction keeps a non-negative result; division is exact).
    mutating func fact() -> (expression: String, value: Int) {
        let largest = Int(pow(10.0, Double(options.digits))) - 1
        let op = pick(operators)
        var a = int(0...largest), b = int(0...largest)
        switch op {
        case "-": if b > a { swap(&a, &b) }; return ("\(a) - \(b)", a - b)
        case "*": return ("\(a) * \(b)", a * b)
        case "/": b = max(b, 1); a = b * int(0...max(largest / b, 0)); return ("\(a) / \(b)", a / b)
        default: return ("\(a) + \(b)", a + b)
        }
    }

    /// A made-up tag name (3–7 letters): the model must copy tag names from the instruction, not recall them.
    /// Never `think` or `answer`, nor a prefix of them.
    mutating func tagName() -> String {
        while true {
            let name = String((0..<int(3...7)).map { _ in Character(UnicodeScalar(UInt8(97 + int(0...25)))) })
            if !"think".hasPrefix(name), !"answer".hasPrefix(name), name != "think", name != "answer" { return name }
        }
    }

    mutating func document() -> String {
        if chance(options.exerciseShare) { return formatExercise() }
        switch int(0...3) {
        case 0:  // a list of facts
            return (0..<int(3...8)).map { _ in let f = fact(); return "\(f.expression) = \(f.value)" }.joined(separator: "\n")
        case 1:  // prose
            let f = fact()
            return pick(["We compute \(f.expression). The result is \(f.value).",
                         "To find \(f.expression), work it out: it equals \(f.value).",
                         "\(f.expression) is \(f.value), so the answer is \(f.value).",
                         "First, \(f.expression) = \(f.value). Therefore the value is \(f.value)."])
        case 2:  // question and answer
            let f = fact()
            return pick(["Question: What is \(f.expression)?\nAnswer: \(f.value)",
                         "User: What is \(f.expression)?\nAssistant: \(f.expression) = \(f.value). The answer is \(f.value).",
                         "Q: \(f.expression) = ?\nA: \(f.value)"])
        default:
            let f = fact()
            return pick(["\(f.expression) = \(f.value)", "The value of \(f.expression) is \(f.value).",
                         "User: Compute \(f.expression).\nAssistant: The result is \(f.value).",
                         "Question: \(f.expression)?\nAnswer: \(f.value)"])
        }
    }

    /// An instruction naming two made-up tags, a question, and an answer that follows the tags or ignores them.
    mutating func formatExercise() -> String {
        let first = tagName()
        var second = tagName()
        while second == first { second = tagName() }
        let f = fact()
        let (asker, replier) = pick([("Question", "Reply"), ("Q", "A"), ("Task", "Response"), ("User", "Assistant"), ("Student", "Teacher")])
        let (working, result) = pick([("working", "result"), ("steps", "final value"), ("reasoning", "answer"), ("thoughts", "number")])
        let instruction = pick([
            "Reply with your \(working) inside <\(first)> </\(first)> and the \(result) inside <\(second)> </\(second)>.",
            "Show the \(working) in <\(first)> </\(first)> tags and give the \(result) in <\(second)> </\(second)> tags.",
            "The \(working) and the \(result) are enclosed within <\(first)> </\(first)> and <\(second)> </\(second)> tags, "
                + "respectively, i.e., <\(first)> \(working) here </\(first)> <\(second)> \(result) here </\(second)>.",
            "A conversation between \(asker) and \(replier). The \(asker.lowercased()) asks a question, and the \(replier) answers it. "
                + "The \(working) and the \(result) are enclosed within <\(first)> </\(first)> and <\(second)> </\(second)> tags, "
                + "respectively, i.e., <\(first)> \(working) here </\(first)> <\(second)> \(result) here </\(second)>.",
        ])
        let steps = pick(["\(f.expression) = \(f.value)", "we compute \(f.expression) which is \(f.value)",
                          "\(f.expression) gives \(f.value)", "first \(f.expression), that is \(f.value)"])
        let reply = chance(options.formatCompliance)
            ? "<\(first)> \(steps) </\(first)> <\(second)> \(f.value) </\(second)>"
            : pick(["\(f.expression) = \(f.value). The answer is \(f.value).", "The result is \(f.value).", "\(f.value)"])
        return "\(instruction) \(asker): What is \(f.expression)? \(replier): \(reply)"
    }
}
