import Foundation

/// One line of `grpo score`'s JSONL: input fields → `Completion` and `Sample`; scores → output fields.
///
/// Input: `completion` (string, required), `answer` (string or number, optional), `prompt` (optional),
/// `token_count` (non-negative integer, optional), `truncated` (bool, optional); every other field is
/// passed to the rules as metadata. Output: the input fields in their order, then `rewards`, `reward`,
/// `extracted` and (only when a rule failed) `errors`.
public enum ScoringRecord {
    /// An input line → the record (kept for the output), the completion and the sample.
    public static func parse(_ line: String) throws -> (JSONValue, Completion, Sample) {
        let record: JSONValue
        do { record = try JSONValue.parse(line) } catch { throw InputError("\(error)") }
        guard case .object(let pairs) = record else { throw InputError("expected a JSON object") }
        guard let completionValue = record["completion"] else { throw InputError("missing field \"completion\" (a string)") }
        guard let text = completionValue.stringValue else {
            throw InputError("field \"completion\" must be a string, got \(completionValue.serialized())")
        }
        var completion = Completion(text: text)
        if let tokens = record["token_count"], tokens != .null {
            guard let n = tokens.intValue, n >= 0 else {
                throw InputError("field \"token_count\" must be a non-negative integer, got \(tokens.serialized())")
            }
            completion.tokenCount = n
        }
        if let truncated = record["truncated"], truncated != .null {
            guard let b = truncated.boolValue else { throw InputError("field \"truncated\" must be true or false, got \(truncated.serialized())") }
            completion.truncated = b
        }
        var sample = Sample()
        if let answer = record["answer"], answer != .null {
            switch answer {
            case .string(let s): sample.answer = s
            case .number(let n): sample.answer = n
            default: throw InputError("field \"answer\" must be a string or a number, got \(answer.serialized())")
            }
        }
        if let prompt = record["prompt"], prompt != .null { sample.prompt = prompt.plainText }
        for (key, value) in pairs where !["completion", "answer", "prompt"].contains(key) {
            sample.metadata[key] = value
        }
        return (record, completion, sample)
    }

    public static let outputFields: Set<String> = ["rewards", "reward", "extracted", "errors"]

    public static func outputLine(_ record: JSONValue, _ scored: ScoredCompletion) -> String {
        guard case .object(var pairs) = record else { return record.serialized() }
        pairs.removeAll(where: { outputFields.contains($0.0) })
        pairs.append(("rewards", .object(scored.values.map { ($0.rule, JSONValue.double($0.value)) })))
        pairs.append(("reward", JSONValue.double(scored.total)))
        pairs.append(("extracted", .object(scored.extracted.map { ($0.rule, $0.answer.map(JSONValue.string) ?? .null) })))
        if !scored.errors.isEmpty {
            pairs.append(("errors", .object(scored.errors.map { ($0.rule, JSONValue.string($0.message)) })))
        }
        return JSONValue.object(pairs).serialized()
    }

    /// A malformed input line: what was wrong and what was expected.
    public struct InputError: Error, CustomStringConvertible, Equatable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

}
