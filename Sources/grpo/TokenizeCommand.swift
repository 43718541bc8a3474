import ArgumentParser
import Foundation
import Tokenizers

/// `grpo tokenize`: JSONL text → ids (or ids → text) with a Hugging Face tokenizer.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode JSONL text into token ids, or decode ids back into text.",
        discussion: """
            Each input line {"text": "..."} becomes {"ids": [...]}; with --decode each line \
            {"ids": [...]} becomes {"text": "..."}. Ids are exactly those of the Hugging Face \
            `tokenizers` library for the same tokenizer.json. Blank lines are skipped; a line that \
            is not valid JSON (or not valid UTF-8) stops the command with its line number. \
            Decoding keeps special tokens unless --skip-special-tokens is given.

            Example:
              grpo tokenize --tokenizer path/to/model --input prompts.jsonl > ids.jsonl
            """)

    @Option(help: ArgumentHelp("A tokenizer.json file, or a model directory with tokenizer.json (and tokenizer_config.json).",
                               valueName: "file-or-dir"))
    var tokenizer: String

    @Option(help: ArgumentHelp("JSONL input: {\"text\": ...} lines, or {\"ids\": [...]} lines with --decode.",
                               valueName: "file.jsonl"))
    var input: String

    @Option(help: ArgumentHelp("Write the JSONL result here instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(help: "Decode {\"ids\": [...]} lines into {\"text\": ...} lines.")
    var decode = false

    @Flag(help: "Apply the post-processor (e.g. add a BOS), as encode(text, add_special_tokens=True) in `tokenizers`.")
    var addSpecialTokens = false

    @Flag(help: "With --decode: leave special tokens out of the text, as decode(ids, skip_special_tokens=True).")
    var skipSpecialTokens = false

    func run() throws {
        let tokenizer: BPETokenizer
        do {
            tokenizer = try BPETokenizer(path: self.tokenizer)
        } catch let error as TokenizerError {
            throw TokenizeCommandError(message: error.description)
        }
        guard let data = JSONLines.contents(of: input) else {
            throw TokenizeCommandError(message: "cannot read \(input)")
        }
        let writer = try LineWriter(path: output)
        var lineNumber = 0
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            var bytes = line
            if bytes.last == 0x0D { bytes = bytes.dropLast() }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            guard Array(String(decoding: bytes, as: UTF8.self).utf8).elementsEqual(bytes) else {
                throw TokenizeCommandError(message: "\(input):\(lineNumber): not valid UTF-8")
            }
            let object: [String: Any]
            do {
                guard let parsed = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                    throw TokenizeCommandError(message: "\(input):\(lineNumber): expected a JSON object")
                }
                object = parsed
            } catch let error as TokenizeCommandError {
                throw error
            } catch {
                throw TokenizeCommandError(message: "\(input):\(lineNumber): not valid JSON")
            }
            if decode {
                guard let values = object["ids"] as? [Any] else {
                    throw TokenizeCommandError(message: "\(input):\(lineNumber): expected {\"ids\": [integers]}")
                }
                var ids: [Int] = []
                ids.reserveCapacity(values.count)
                for value in values {
                    if let number = value as? NSNumber, String(cString: number.objCType) == "c" {
                        throw TokenizeCommandError(message: "\(input):\(lineNumber): \"ids\" must hold integers")
                    } else if let int = value as? Int {
                        ids.append(int)
                    } else if let double = value as? Double, double == double.rounded(), abs(double) < 9e15 {
                        ids.append(Int(double))
                    } else {
                        throw TokenizeCommandError(message: "\(input):\(lineNumber): \"ids\" must hold integers")
                    }
                }
                let text = tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens)
                writer.write("{\"text\": \(JSONLines.quoted(text))}")
            } else {
                guard let text = object["text"] as? String else {
                    throw TokenizeCommandError(message: "\(input):\(lineNumber): expected {\"text\": string}")
                }
                let ids = tokenizer.encode(text, addSpecialTokens: addSpecialTokens)
                writer.write("{\"ids\": [\(ids.map(String.init).joined(separator: ", "))]}")
            }
        }
        writer.close()
    }
}

struct TokenizeCommandError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
