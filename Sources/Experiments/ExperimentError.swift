import Foundation

/// Everything that can be wrong with an experiment, said so a user can fix it: the file, the key path
/// and what was expected.
public enum ExperimentError: Error, CustomStringConvertible, Equatable {
    /// `file: keyPath: message`, e.g. `exp.yaml: training.beta: expected a number, got "abc"`.
    case invalidValue(file: String, keyPath: String, message: String)
    case unknownKey(file: String, keyPath: String, suggestion: String?)
    case syntax(file: String, message: String)
    case fileNotFound(path: String, what: String)
    case runDirectory(path: String, message: String)
    case checkpoint(path: String, message: String)
    case interrupted(String)

    public var description: String {
        switch self {
        case .invalidValue(let file, let keyPath, let message):
            return "\(file): \(keyPath): \(message)"
        case .unknownKey(let file, let keyPath, let suggestion):
            return "\(file): \(keyPath): unknown key" + (suggestion.map { "; did you mean `\($0)`?" } ?? "")
        case .syntax(let file, let message):
            return "\(file): not valid YAML: \(message)"
        case .fileNotFound(let path, let what):
            return "\(path): \(what) not found"
        case .runDirectory(let path, let message):
            return "\(path): \(message)"
        case .checkpoint(let path, let message):
            return "checkpoint \(path): \(message)"
        case .interrupted(let message):
            return message
        }
    }
}

/// The closest of `candidates` to `word` by edit distance, if close enough to be a likely typo.
func nearest(_ word: String, in candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
    let lowered = Array(word.lowercased())
    let scored = candidates.map { ($0, distance(lowered, Array($0.lowercased()))) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    return best.1 <= max(2, word.count / 3) ? best.0 : nil
}
