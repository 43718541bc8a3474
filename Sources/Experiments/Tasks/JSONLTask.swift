import Foundation
import RewardSystem

/// How the gold answer is read from a JSONL record's answer field.
public enum AnswerFormat: String, CaseIterable, Codable, Sendable {
    /// `gsm8k` if the text has `####`, else `boxed` if it has a `\boxed{}`, else `plain`.
    case auto
    /// GSM8K: the text after the last `####`, trimmed (a record without `####` is an error).
    case gsm8k
    /// The argument of the last `\boxed{}`/`\fbox{}` (MATH solutions; a record without a box is an error).
    case boxed
    /// The field itself, trimmed.
    case plain
}

/// `jsonl`: one problem per line of a JSON Lines file (GSM8K and the like).
struct JSONLTask {
    var questionField: String
    var answerField: String
    var answerFormat: AnswerFormat

    init(config: TaskConfig) {
        questionField = config.questionField
        answerField = config.answerField
        answerFormat = config.answerFormat
    }

    /// Every record of the file in order. `key` is the config key that named the file (errors cite it).
    func load(_ url: URL, key: String) throws -> [Problem] {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw TaskError.fileNotFound(path: path, key: key) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TaskError.unreadableFile(path: path, message: error.localizedDescription)
        }
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // UTF-8 byte-order mark
        var problems: [Problem] = []
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            var lineEnd = end
            if lineEnd > start, bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            let line = Array(bytes[start..<lineEnd])
            start = end + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            var problem = try problemFrom(line, path: path, line: lineNumber)
            problem.index = problems.count
            problems.append(problem)
        }
        if problems.isEmpty { throw TaskError.emptyFile(path: path) }
        return problems
    }

    func problemFrom(_ line: [UInt8], path: String, line number: Int) throws -> Problem {
        let record: JSONValue
        do { record = try JSONValue.parse(bytes: line) } catch let error as JSONParseError {
            throw TaskError.invalidJSON(path: path, line: number, message: "not valid JSON: \(error.description)")
        }
        guard case .object(let pairs) = record else {
            throw TaskError.invalidJSON(path: path, line: number, message: "expected a JSON object {\"\(questionField)\": …}, found \(record.serialized().prefix(40))")
        }
        var fields: [String: String] = [:]
        var metadata: [String: JSONValue] = [:]
        for (key, value) in pairs where key != answerField {
            fields[key] = value.plainText
            if key != questionField { metadata[key] = value }
        }
        switch record[questionField] {
        case nil, .null?:
            throw TaskError.missingField(path: path, line: number, field: questionField, key: "question_field")
        case .string(let s)?: fields["question"] = s
        case .number(let n)?: fields["question"] = n
        case let other?:
            throw TaskError.invalidField(path: path, line: number, field: questionField, expected: "a string or number, found \(other.serialized().prefix(40))")
        }
        let answer: String?
        switch record[answerField] {
        case nil, .null?: answer = nil
        case .number(let n)?: answer = n
        case .string(let s)?: answer = try extractAnswer(s, path: path, line: number)
        case let other?:
            throw TaskError.invalidField(path: path, line: number, field: answerField, expected: "a string or number, found \(other.serialized().prefix(40))")
        }
        return Problem(fields: fields, answer: answer, metadata: metadata)
    }

    /// The bare gold answer of the answer field's text; nil when the text is empty.
    func extractAnswer(_ text: String, path: String, line: Int) throws -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return nil }
        var format = answerFormat
        if format == .auto {
            format = trimmed.contains("####") ? .gsm8k : (AnswerExtraction.lastBoxed(in: trimmed) != nil ? .boxed : .plain)
        }
        let bare: String
        switch format {
        case .gsm8k:
            guard let range = trimmed.range(of: "####", options: .backwards) else {
                throw TaskError.invalidField(path: path, line: line, field: answerField, expected: "a GSM8K solution ending in '#### <answer>' (answer_format: gsm8k)")
            }
            bare = String(trimmed[range.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
            if bare.isEmpty {
                throw TaskError.invalidField(path: path, line: line, field: answerField, expected: "an answer after '####' (answer_format: gsm8k)")
            }
        case .boxed:
            guard let boxed = AnswerExtraction.lastBoxed(in: trimmed), !boxed.isEmpty else {
                throw TaskError.invalidField(path: path, line: line, field: answerField, expected: "a solution with a non-empty \\boxed{…} (answer_format: boxed)")
            }
            bare = boxed
        case .plain, .auto:
            bare = trimmed
        }
        return JSONLTask.removingThousandsSeparators(bare)
    }

    /// `1,234` → `1234`, `-12,000.5` → `-12000.5`; anything that is not a number with comma groups of three
    /// is returned as it is (`1,2` and `(1, 2)` stay).
    static func removingThousandsSeparators(_ s: String) -> String {
        guard s.contains(",") else { return s }
        var body = Substring(s)
        if body.first == "-" || body.first == "+" { body = body.dropFirst() }
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2 && (parts[1].isEmpty || !parts[1].allSatisfy(\.isASCIIDigitCharacter)) { return s }
        let groups = parts[0].split(separator: ",", omittingEmptySubsequences: false)
        guard groups.count >= 2, (1...3).contains(groups[0].count),
              groups.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigitCharacter) }),
              groups.dropFirst().allSatisfy({ $0.count == 3 }) else { return s }
        return s.replacingOccurrences(of: ",", with: "")
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
