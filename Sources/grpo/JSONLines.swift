import Foundation

/// Reading and writing JSON Lines files, with errors that name the file and line.
struct JSONLinesError: Error, CustomStringConvertible {
    let description: String
}

enum JSONLines {
    /// The bytes of an input file, which may be a pipe (`/dev/stdin`, a shell's `<(command)`): `FileManager`'s
    /// `contents(atPath:)` reads only regular files. nil when it does not exist or cannot be read.
    static func contents(of path: String) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        return try? handle.readToEnd() ?? Data()
    }

    /// Parses every non-empty line of `path` as a JSON object.
    static func read(_ path: String) throws -> [(line: Int, object: [String: Any])] {
        guard let data = contents(of: path) else {
            throw JSONLinesError(description: "\(path): no such file or not readable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw JSONLinesError(description: "\(path): not valid UTF-8")
        }
        var result: [(Int, [String: Any])] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                throw JSONLinesError(description: "\(path):\(index + 1): not a JSON object")
            }
            result.append((index + 1, object))
        }
        return result
    }

    /// The integer array at `key`, or an error naming the file, line and key.
    static func tokenIds(_ object: [String: Any], _ key: String, path: String, line: Int) throws -> [Int32] {
        guard let array = object[key] as? [Any] else {
            throw JSONLinesError(description: "\(path):\(line): \(key): expected an array of token ids, found \(object[key] == nil ? "nothing" : "\(type(of: object[key]!))")")
        }
        return try array.enumerated().map { position, value in
            guard let number = value as? NSNumber, String(cString: number.objCType) != "c",
                  number.doubleValue == number.doubleValue.rounded(), abs(number.doubleValue) < 2_147_483_648 else {
                throw JSONLinesError(description: "\(path):\(line): \(key)[\(position)]: expected an integer token id, found \(value)")
            }
            return Int32(number.intValue)
        }
    }

    /// A JSON string literal: quotes, backslashes, control characters and U+0085/U+2028/U+2029
    /// escaped (so that every reader sees one record per line), the rest as UTF-8.
    static func quoted(_ text: String) -> String {
        var result = "\""
        result.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            default:
                // Also escaped: characters that some line readers take for line breaks.
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x85
                    || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    result += String(format: "\\u%04x", scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        result += "\""
        return result
    }

    static func encode(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }
}

/// Buffered lines to a file when a path is given, else to standard output. Every command that writes
/// JSONL uses it; `close()` (or the end of the writer) writes out what is buffered.
final class LineWriter {
    private let handle: FileHandle
    private let path: String?
    private var buffer = Data()

    init(path: String?) throws {
        self.path = path
        if let path {
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                throw JSONLinesError(description: "\(path): cannot create the output file")
            }
            self.handle = handle
        } else {
            handle = FileHandle.standardOutput
        }
    }

    /// Writes `line` and a newline.
    func write(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        handle.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func close() {
        flush()
        if path != nil { try? handle.close() }
    }

    deinit { close() }
}
