import Foundation

/// Reading and writing JSON Lines files, with errors that name the file and line.
struct JSONLinesError: Error, CustomStringConvertible {
    let description: String
}

enum JSONLines {
    /// Parses every non-empty line of `path` as a JSON object.
    static func read(_ path: String) throws -> [(line: Int, object: [String: Any])] {
        guard let data = FileManager.default.contents(atPath: path) else {
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

    static func encode(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }
}

/// Lines go to a file when a path is given, else to standard output.
final class LineWriter {
    private let handle: FileHandle
    private let path: String?

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

    func write(_ line: String) {
        handle.write(Data((line + "\n").utf8))
    }

    deinit { if path != nil { try? handle.close() } }
}
