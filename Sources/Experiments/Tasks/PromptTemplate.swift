import Foundation

/// A prompt template: a built-in by name, or literal text with `{field}` placeholders filled from a
/// problem's fields. `{{` and `}}` stand for literal braces; a brace that does not open `{identifier}`
/// is kept as text.
public struct PromptTemplate: Sendable, Equatable {
    enum Segment: Sendable, Equatable {
        case text(String)
        case field(String)
    }

    /// The built-in name, or nil for a literal template.
    public let name: String?
    /// The template text (for a built-in: its text).
    public let text: String
    let segments: [Segment]

    /// The R1-Zero prompt, DeepSeek-R1 paper, Table 1 (`prompt` renamed `{question}`).
    public static let r1Zero = "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The assistant first thinks about the reasoning process in the mind and then provides the user with the answer. The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>. User: {question}. Assistant:"

    /// TinyZero's countdown prompt (`make_prefix`, template_type `base`): the prompt ends with `<think>`,
    /// so completions continue the reasoning and close it with `</think>`.
    public static let r1ZeroCountdown = "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The assistant first thinks about the reasoning process in the mind and then provides the user with the answer.\nUser: {question} Show your work in <think> </think> tags. And return the final answer in <answer> </answer> tags, for example <answer> (1 + 2) / 3 </answer>.\nAssistant: Let me solve this step by step.\n<think>"

    /// The question alone.
    public static let plain = "{question}"

    public static let builtIns: [(name: String, text: String)] = [
        ("r1zero", r1Zero),
        ("r1zero_countdown", r1ZeroCountdown),
        ("plain", plain),
    ]
    public static let builtInNames: [String] = builtIns.map(\.name)

    /// A built-in name (`r1zero`, `r1zero_countdown`, `plain`) or literal text with at least one
    /// `{field}` placeholder. The placeholders are checked against a problem's fields when rendering.
    public init(_ nameOrText: String) throws {
        if let builtIn = PromptTemplate.builtIns.first(where: { $0.name == nameOrText }) {
            name = builtIn.name
            text = builtIn.text
        } else {
            name = nil
            text = nameOrText
        }
        segments = try PromptTemplate.parse(text, displayName: PromptTemplate.display(name: name, text: text))
        if name == nil, !segments.contains(where: { if case .field = $0 { return true } else { return false } }) {
            throw TaskError.invalidTemplate(template: displayName,
                message: "is neither a built-in template (\(PromptTemplate.builtInNames.joined(separator: ", "))) nor text with a {field} placeholder such as {question}")
        }
    }

    /// The placeholders, in order of first use.
    public var fieldNames: [String] {
        var seen: [String] = []
        for case .field(let f) in segments where !seen.contains(f) { seen.append(f) }
        return seen
    }

    /// How errors name this template: `'r1zero'`, or the literal's text in quotes (shortened).
    public var displayName: String { PromptTemplate.display(name: name, text: text) }

    static func display(name: String?, text: String) -> String {
        if let name { return "'\(name)'" }
        let oneLine = text.replacingOccurrences(of: "\n", with: "\\n")
        return oneLine.count <= 60 ? "\"\(oneLine)\"" : "\"\(oneLine.prefix(57))...\""
    }

    /// The prompt for `problem`; a placeholder the problem lacks is an error naming the field and the template.
    public func render(_ problem: Problem) throws -> String {
        var out = ""
        for segment in segments {
            switch segment {
            case .text(let t): out += t
            case .field(let f):
                guard let value = problem.fields[f] else {
                    throw TaskError.missingTemplateField(template: displayName, field: f, available: problem.fields.keys.sorted())
                }
                out += value
            }
        }
        return out
    }

    /// Checks that every placeholder is one of `fields` (e.g. a split's first problem), before a run starts.
    public func check(fields: [String: String]) throws {
        for f in fieldNames where fields[f] == nil {
            throw TaskError.missingTemplateField(template: displayName, field: f, available: fields.keys.sorted())
        }
    }

    static func isIdentifierStart(_ c: Character) -> Bool { c == "_" || (c.isASCII && c.isLetter) }
    static func isIdentifier(_ c: Character) -> Bool { isIdentifierStart(c) || (c.isASCII && c.isNumber) }

    static func parse(_ text: String, displayName: String) throws -> [Segment] {
        var segments: [Segment] = []
        var literal = ""
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "{", i + 1 < chars.count, chars[i + 1] == "{" { literal.append("{"); i += 2; continue }
            if c == "}", i + 1 < chars.count, chars[i + 1] == "}" { literal.append("}"); i += 2; continue }
            if c == "{", i + 1 < chars.count, isIdentifierStart(chars[i + 1]) {
                var j = i + 1
                while j < chars.count, isIdentifier(chars[j]) { j += 1 }
                if j == chars.count {
                    throw TaskError.invalidTemplate(template: displayName,
                        message: "has a placeholder {\(String(chars[(i + 1)..<j])) that is not closed with '}'")
                }
                if chars[j] == "}" {
                    if !literal.isEmpty { segments.append(.text(literal)); literal = "" }
                    segments.append(.field(String(chars[(i + 1)..<j])))
                    i = j + 1
                    continue
                }
            }
            literal.append(c)
            i += 1
        }
        if !literal.isEmpty { segments.append(.text(literal)) }
        return segments
    }

    public static func == (lhs: PromptTemplate, rhs: PromptTemplate) -> Bool { lhs.name == rhs.name && lhs.text == rhs.text }
}
