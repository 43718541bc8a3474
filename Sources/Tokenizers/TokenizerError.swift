import Foundation

/// Everything that can go wrong loading or using a tokenizer. Errors about `tokenizer.json` name the
/// JSON path of the offending part, e.g. `pre_tokenizer.pretokenizers[2].type`.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// A file could not be read.
    case unreadable(file: String, reason: String)
    /// The file is not valid JSON.
    case invalidJSON(file: String, reason: String)
    /// A required field is missing or has the wrong type.
    case malformed(path: String, expected: String)
    /// The field names a component or option this implementation does not support.
    case unsupported(path: String, found: String, supported: String)
    /// Input text or ids that cannot be processed (e.g. an id outside the vocabulary).
    case invalidInput(String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "cannot read \(file): \(reason)"
        case let .invalidJSON(file, reason):
            return "\(file) is not valid JSON: \(reason)"
        case let .malformed(path, expected):
            return "\(path): expected \(expected)"
        case let .unsupported(path, found, supported):
            return "\(path): unsupported \(found) (supported: \(supported))"
        case let .invalidInput(message):
            return message
        }
    }
}

/// A JSON value with the path that led to it, so every error can say where it happened.
struct JSONNode {
    let value: Any?
    let path: String

    static func parse(data: Data, file: String) throws -> JSONNode {
        do {
            let value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return JSONNode(value: value, path: "")
        } catch {
            throw TokenizerError.invalidJSON(file: file, reason: "\(error.localizedDescription)")
        }
    }

    func child(_ key: String) -> JSONNode {
        let childPath = path.isEmpty ? key : "\(path).\(key)"
        return JSONNode(value: (value as? [String: Any])?[key], path: childPath)
    }

    subscript(key: String) -> JSONNode { child(key) }

    var isNull: Bool {
        guard let value else { return true }
        // Checked first: `is NSNull` on a large Swift array or dictionary would bridge it.
        if value is String || value is [Any] || value is [String: Any] { return false }
        return value is NSNull
    }
    var displayPath: String { path.isEmpty ? "(root)" : path }

    func malformed(_ expected: String) -> TokenizerError {
        .malformed(path: displayPath, expected: expected)
    }

    func object() throws -> [String: Any] {
        guard let object = value as? [String: Any] else { throw malformed("an object") }
        return object
    }

    func array() throws -> [JSONNode] {
        guard let array = value as? [Any] else { throw malformed("an array") }
        return array.enumerated().map { JSONNode(value: $0.element, path: "\(displayPath)[\($0.offset)]") }
    }

    func optionalArray() throws -> [JSONNode]? {
        isNull ? nil : try array()
    }

    func string() throws -> String {
        guard let string = value as? String else { throw malformed("a string") }
        return string
    }

    func optionalString() throws -> String? {
        isNull ? nil : try string()
    }

    /// JSONSerialization gives booleans as NSNumber too; they are the ones of type "c".
    static func isBoolean(_ value: Any?) -> Bool {
        if let number = value as? NSNumber { return String(cString: number.objCType) == "c" }
        return value is Bool
    }

    func bool(default defaultValue: Bool) throws -> Bool {
        if isNull { return defaultValue }
        if JSONNode.isBoolean(value), let bool = value as? Bool { return bool }
        throw malformed("true or false")
    }

    func int() throws -> Int {
        if JSONNode.isBoolean(value) { throw malformed("an integer") }
        if let int = value as? Int { return int }
        if let double = value as? Double, double == double.rounded(), abs(double) < 9e15 { return Int(double) }
        throw malformed("an integer")
    }

    func optionalDouble() throws -> Double? {
        if isNull { return nil }
        if JSONNode.isBoolean(value) { throw malformed("a number") }
        if let double = value as? Double { return double }
        if let int = value as? Int { return Double(int) }
        throw malformed("a number")
    }

    /// The `type` field of a component, required.
    func type() throws -> String {
        try self["type"].string()
    }
}
