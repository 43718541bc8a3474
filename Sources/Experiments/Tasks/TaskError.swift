import Foundation

/// What went wrong while configuring a task, reading its dataset or rendering a prompt. Each message names
/// the key (`task.<key>`), the file and line, or the template and field, and what was expected.
public enum TaskError: Error, CustomStringConvertible, Equatable {
    /// A `task:` key has a bad value.
    case invalidConfig(key: String, message: String)
    /// A dataset file does not exist or cannot be read.
    case fileNotFound(path: String, key: String)
    case unreadableFile(path: String, message: String)
    /// A dataset file has no records (only blank lines, or nothing).
    case emptyFile(path: String)
    /// A JSONL line is not valid JSON, or not a JSON object.
    case invalidJSON(path: String, line: Int, message: String)
    /// A JSONL record lacks a required field.
    case missingField(path: String, line: Int, field: String, key: String)
    /// A JSONL record's field has the wrong type or shape.
    case invalidField(path: String, line: Int, field: String, expected: String)
    /// The generator could not produce enough distinct problems for the configuration.
    case cannotGenerate(key: String, message: String)
    /// A prompt template is malformed (unknown built-in name, unbalanced braces, no placeholder).
    case invalidTemplate(template: String, message: String)
    /// A template placeholder names a field the problem does not have.
    case missingTemplateField(template: String, field: String, available: [String])

    public var description: String {
        switch self {
        case .invalidConfig(let key, let message):
            return "task.\(key): \(message)"
        case .fileNotFound(let path, let key):
            return "task.\(key): file not found: \(path)"
        case .unreadableFile(let path, let message):
            return "cannot read \(path): \(message)"
        case .emptyFile(let path):
            return "\(path): no records (the file is empty or holds only blank lines)"
        case .invalidJSON(let path, let line, let message):
            return "\(path):\(line): \(message)"
        case .missingField(let path, let line, let field, let key):
            return "\(path):\(line): the record has no field '\(field)' (task.\(key))"
        case .invalidField(let path, let line, let field, let expected):
            return "\(path):\(line): field '\(field)': expected \(expected)"
        case .cannotGenerate(let key, let message):
            return "task.\(key): \(message)"
        case .invalidTemplate(let template, let message):
            return "template \(template) \(message)"
        case .missingTemplateField(let template, let field, let available):
            let list = available.isEmpty ? "the problem has no fields" : "the problem's fields are \(available.joined(separator: ", "))"
            return "template \(template) uses {\(field)}, which the problem does not have; \(list)"
        }
    }
}
