import Foundation
import Advantages
import GRPO
import RewardSystem
import Yams

/// Reads an experiment's YAML tree and turns every problem into an `ExperimentError` naming the file,
/// the key path and what was expected.
struct YAMLReader {
    let file: String
    static let emptyMapping = Node.mapping(Node.Mapping([(Node, Node)]()))

    func root(of text: String) throws -> Node {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ExperimentError.syntax(file: file, message: "\(error)")
        }
        guard let node, node.mapping != nil else {
            throw ExperimentError.syntax(file: file, message: "expected a mapping of sections (model:, task:, rewards:, training:, …)")
        }
        return node
    }

    /// Unknown keys name the nearest valid one, or the section a key belongs to.
    func checkKeys(_ node: Node, allowed: [String], at path: String, elsewhere: (section: String, keys: [String])? = nil) throws {
        guard let mapping = node.mapping else {
            if case .scalar(let scalar) = node, scalar.string.isEmpty || scalar.tag == Tag(.null) { return }
            throw ExperimentError.invalidValue(file: file, keyPath: path, message: "expected a mapping of keys, got \(describe(node))")
        }
        for (key, _) in mapping {
            let name = key.string ?? "\(key)"
            guard !allowed.contains(name) else { continue }
            let keyPath = path.isEmpty ? name : "\(path).\(name)"
            if let elsewhere, elsewhere.keys.contains(name) {
                throw ExperimentError.invalidValue(file: file, keyPath: keyPath, message: "belongs in the `\(elsewhere.section)` section")
            }
            throw ExperimentError.unknownKey(file: file, keyPath: keyPath, suggestion: nearest(name, in: allowed))
        }
    }

    func decode<T: Decodable>(_ type: T.Type, at key: String, in parent: Node, sectionPath: String? = nil) throws -> T? {
        guard let value = parent.mapping?[key] else { return nil }
        if case .scalar(let scalar) = value, scalar.tag == Tag(.null) || (scalar.string.isEmpty && scalar.style == .plain) { return nil }
        let path = sectionPath.map { "\($0).\(key)" } ?? key
        return try decode(T.self, at: path, node: value)
    }

    /// Decodes a section; a decoding error becomes `section.key: expected …, got …`.
    func decode<T: Decodable>(_ type: T.Type, at path: String, node: Node, sectionOf: ((String) -> String)? = nil) throws -> T {
        do {
            return try YAMLDecoder().decode(T.self, from: node)
        } catch let error as DecodingError {
            var (codingPath, expected) = Self.explain(error)
            if case .dataCorrupted = error, let key = codingPath.last?.stringValue, let choices = Self.choices[key] {
                expected = "one of " + choices.joined(separator: ", ")
            }
            let keys = codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            var fullPath = path
            if let first = keys.first, let sectionOf { fullPath = sectionOf(first) }
            for key in keys { fullPath += key.hasPrefix("[") ? key : (fullPath.isEmpty ? key : ".\(key)") }
            let found = value(at: codingPath, in: node).map { ", got \(describe($0))" } ?? ""
            throw ExperimentError.invalidValue(file: file, keyPath: fullPath, message: "expected \(expected)\(found)")
        }
    }

    /// Runs a section's `validate()`, putting the section in front of the key it names.
    func wrap(_ section: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch GRPOError.invalidConfig(let key, let message) {
            throw ExperimentError.invalidValue(file: file, keyPath: "\(section).\(key)", message: message)
        } catch let error as ExperimentError {
            throw error
        } catch {
            throw ExperimentError.invalidValue(file: file, keyPath: section, message: "\(error)")
        }
    }

    /// `rewards:` is a list of `{name, weight, options}`; option values may be any scalar and become text.
    func rewards(_ node: Node?) throws -> [RuleSpec] {
        guard let node else {
            throw ExperimentError.invalidValue(file: file, keyPath: "rewards", message: "missing: a list of {name, weight, options}, e.g. - {name: accuracy, weight: 1.0}")
        }
        guard let items = node.sequence, !items.isEmpty else {
            throw ExperimentError.invalidValue(file: file, keyPath: "rewards", message: "expected a non-empty list of {name, weight, options}, got \(describe(node))")
        }
        return try items.enumerated().map { index, item in
            let path = "rewards[\(index)]"
            try checkKeys(item, allowed: ["name", "weight", "options"], at: path)
            guard let name = item.mapping?["name"]?.string, !name.isEmpty else {
                throw ExperimentError.invalidValue(file: file, keyPath: "\(path).name", message: "missing: the rule's name (see `grpo score --list-rules`)")
            }
            let weight = try decode(Double.self, at: "weight", in: item, sectionPath: path) ?? 1
            guard weight.isFinite else {
                throw ExperimentError.invalidValue(file: file, keyPath: "\(path).weight", message: "expected a finite number, got \(weight)")
            }
            var options: [String: String] = [:]
            if let optionsNode = item.mapping?["options"] {
                guard let mapping = optionsNode.mapping else {
                    throw ExperimentError.invalidValue(file: file, keyPath: "\(path).options", message: "expected a mapping of option: value, got \(describe(optionsNode))")
                }
                for (key, value) in mapping {
                    let optionName = key.string ?? "\(key)"
                    switch value {
                    case .scalar(let scalar): options[optionName] = scalar.string
                    case .sequence(let values):
                        options[optionName] = values.compactMap(\.string).joined(separator: ",")
                    default:
                        throw ExperimentError.invalidValue(file: file, keyPath: "\(path).options.\(optionName)", message: "expected a value, got a mapping")
                    }
                }
            }
            return RuleSpec(name: name, weight: weight, options: options)
        }
    }

    /// The values an enumerated key accepts, for "expected one of …".
    static let choices: [String: [String]] = [
        "loss_type": LossType.allCases.map(\.rawValue),
        "scale_rewards": AdvantageNormalization.allCases.map(\.rawValue),
        "lr_scheduler_type": LearningRateScheduleType.allCases.map(\.rawValue),
        "on_nonfinite": NonFiniteAction.allCases.map(\.rawValue),
        "name": TaskName.allCases.map(\.rawValue),
    ]

    static func explain(_ error: DecodingError) -> ([CodingKey], String) {
        switch error {
        case .typeMismatch(let type, let context): return (context.codingPath, expectation(for: type))
        case .valueNotFound(let type, let context): return (context.codingPath, expectation(for: type))
        case .keyNotFound(let key, let context): return (context.codingPath + [key], "this key")
        case .dataCorrupted(let context):
            return (context.codingPath, context.debugDescription.isEmpty ? "a valid value" : context.debugDescription)
        @unknown default: return ([], "a valid value")
        }
    }

    static func expectation(for type: Any.Type) -> String {
        switch type {
        case is Int.Type, is UInt64.Type: return "a whole number"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "text"
        case is [String].Type: return "a list of strings"
        default: return "a value of type \(type)"
        }
    }

    func value(at path: [CodingKey], in node: Node) -> Node? {
        var current: Node? = node
        for key in path {
            if let index = key.intValue { current = current?.sequence.flatMap { index < $0.count ? $0[index] : nil } }
            else { current = current?.mapping?[key.stringValue] }
        }
        return current
    }

    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            return scalar.style == .plain && Double(scalar.string) != nil ? scalar.string : "\"\(scalar.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}
