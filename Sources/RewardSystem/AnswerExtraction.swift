import Foundation

/// Finding the answer in a completion and in a gold string. Every scan is linear in the text length.
public enum AnswerExtraction {
    public enum Mode: String, Sendable, CaseIterable {
        /// The last `\boxed{…}` / `\fbox{…}` only.
        case boxed
        /// The last box; when there is none: "final answer is …", then the last math span, then the last number.
        case boxedOrFallback = "boxed_or_fallback"
        /// The content of the last `<answer>…</answer>` block (R1-Zero's template); a box inside it wins.
        case answerTag = "answer_tag"
    }

    /// The result of looking for the last box.
    public enum BoxSearch: Equatable, Sendable {
        /// No `\boxed`/`\fbox` macro at all.
        case noBox
        /// The last box's argument (trimmed); `""` for `\boxed{}`.
        case found(String)
        /// The last box has an unbalanced `{…}` group (or nothing after the macro): no answer.
        case malformed
    }

    /// The argument of the last `\boxed{…}` or `\fbox{…}` (whichever starts later).
    ///
    /// - A longer macro such as `\boxedfoo` is not a box.
    /// - The argument is the balanced `{…}` group; `\{` and `\}` count as braces too.
    /// - `\boxed 5` (no group) → `5`: the rest of the line up to the next `$`.
    /// - The last box wins even when it is malformed (then: no answer); boxes are never joined.
    public static func lastBox(in text: String) -> BoxSearch {
        let bytes = Array(text.utf8)
        return lastBox(in: bytes)
    }

    public static func lastBoxed(in text: String) -> String? {
        if case .found(let s) = lastBox(in: text) { return s }
        return nil
    }

    static let boxedMacro = Array("\\boxed".utf8)
    static let fboxMacro = Array("\\fbox".utf8)

    static func isASCIILetter(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    static func lastBox(in bytes: [UInt8]) -> BoxSearch {
        // Scan from the end for the last macro occurrence that is not a prefix of a longer macro.
        func endOfMacro(at i: Int, _ macro: [UInt8]) -> Int? {
            guard i + macro.count <= bytes.count else { return nil }
            for k in 1..<macro.count where bytes[i + k] != macro[k] { return nil }
            let end = i + macro.count
            return end == bytes.count || !isASCIILetter(bytes[end]) ? end : nil
        }
        var macroEnd = -1
        var i = bytes.count - 1
        while i >= 0 {
            if bytes[i] == UInt8(ascii: "\\"), let end = endOfMacro(at: i, boxedMacro) ?? endOfMacro(at: i, fboxMacro) {
                macroEnd = end
                break
            }
            i -= 1
        }
        guard macroEnd >= 0 else { return .noBox }
        var j = macroEnd
        while j < bytes.count, isSpace(bytes[j]) { j += 1 }
        guard j < bytes.count else { return .malformed }
        if bytes[j] == UInt8(ascii: "{") {
            var depth = 0
            var k = j
            while k < bytes.count {
                let b = bytes[k]
                if b == UInt8(ascii: "{") { depth += 1 } else if b == UInt8(ascii: "}") {
                    depth -= 1
                    if depth == 0 {
                        return .found(trimmed(bytes, j + 1, k))
                    }
                }
                k += 1
            }
            return .malformed
        }
        // `\boxed 5`: the rest of the line up to the next `$`.
        var k = j
        while k < bytes.count, bytes[k] != UInt8(ascii: "$"), bytes[k] != 0x0A { k += 1 }
        let value = trimmed(bytes, j, k)
        return value.isEmpty ? .malformed : .found(value)
    }

    static func trimmed(_ bytes: [UInt8], _ start: Int, _ end: Int) -> String {
        var s = start, e = end
        while s < e, isSpace(bytes[s]) { s += 1 }
        while e > s, isSpace(bytes[e - 1]) { e -= 1 }
        return String(decoding: bytes[s..<e], as: UTF8.self)
    }

    /// The text after the last `</think>`, or `nil` when there is none.
    public static func afterThinking(_ text: String) -> String? {
        guard let range = text.range(of: "</think>", options: .backwards) else { return nil }
        return String(text[range.upperBound...])
    }

    /// The answer of a completion under `mode`; `nil` when there is none.
    public static func answer(in text: String, mode: Mode) -> String? {
        if mode == .answerTag {
            guard let block = CountdownRule.lastAnswerBlock(text) else { return nil }
            if case .found(let boxed) = lastBox(in: Array(block.utf8)) { return boxed }
            let trimmed = block.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty ? nil : trimmed
        }
        let bytes = Array(text.utf8)
        switch lastBox(in: bytes) {
        case .found(let s): return s
        case .malformed: return nil
        case .noBox:
            guard mode == .boxedOrFallback else { return nil }
            return finalAnswerPhrase(bytes) ?? lastMathSpan(bytes) ?? lastNumber(bytes)
        }
    }

    /// The gold answer's comparable part: the last box of a full solution, the text after GSM8K's `####`,
    /// or the string itself (math delimiters are removed later by normalization).
    public static func gold(_ answer: String) -> String {
        if case .found(let s) = lastBox(in: answer) { return s }
        if let range = answer.range(of: "####", options: .backwards) {
            return String(answer[range.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return answer.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: Fallbacks

    static let finalAnswerPhrase = Array("final answer is".utf8)

    /// "… final answer is X" (case-insensitive, the last occurrence): `$X$` or the rest of the sentence.
    static func finalAnswerPhrase(_ bytes: [UInt8]) -> String? {
        let p = finalAnswerPhrase
        guard bytes.count >= p.count else { return nil }
        var start = -1
        var i = bytes.count - p.count
        while i >= 0 {
            var ok = true
            for k in 0..<p.count {
                var b = bytes[i + k]
                if b >= 0x41 && b <= 0x5A { b += 0x20 }
                if b != p[k] { ok = false; break }
            }
            if ok { start = i + p.count; break }
            i -= 1
        }
        guard start >= 0 else { return nil }
        var j = start
        while j < bytes.count, isSpace(bytes[j]) || bytes[j] == UInt8(ascii: ":") { j += 1 }
        guard j < bytes.count else { return nil }
        if bytes[j] == UInt8(ascii: "$") {
            var open = j
            while open < bytes.count, bytes[open] == UInt8(ascii: "$") { open += 1 }
            var close = open
            while close < bytes.count, !(bytes[close] == UInt8(ascii: "$") && bytes[close - 1] != UInt8(ascii: "\\")) { close += 1 }
            guard close < bytes.count else { return nil }
            let value = trimmed(bytes, open, close)
            return value.isEmpty ? nil : value
        }
        // The rest of the sentence: up to a newline, a tag (`<`), or a period that is not a decimal point.
        var k = j
        while k < bytes.count, bytes[k] != 0x0A, bytes[k] != UInt8(ascii: "<") {
            if bytes[k] == UInt8(ascii: "."), k + 1 == bytes.count || !(bytes[k + 1] >= 0x30 && bytes[k + 1] <= 0x39) { break }
            k += 1
        }
        let value = trimmed(bytes, j, k)
        return value.isEmpty ? nil : value
    }

    /// The content of the last math span: `$…$`, `$$…$$`, `\(…\)` or `\[…\]` (the one that closes last);
    /// `\$` is not a delimiter.
    static func lastMathSpan(_ bytes: [UInt8]) -> String? {
        let dollar = UInt8(ascii: "$"), backslash = UInt8(ascii: "\\")
        var last: (Int, Int)? = nil
        var open: (start: Int, closer: UInt8, width: Int)? = nil  // closer: `$`, `)` or `]`
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == backslash, i + 1 < bytes.count {
                let next = bytes[i + 1]
                if let o = open, o.closer != dollar, next == o.closer {
                    last = (o.start, i)
                    open = nil
                } else if open == nil, next == UInt8(ascii: "(") || next == UInt8(ascii: "[") {
                    open = (i + 2, next == UInt8(ascii: "(") ? UInt8(ascii: ")") : UInt8(ascii: "]"), 2)
                }
                i += 2
                continue
            }
            if b == dollar {
                let width = (i + 1 < bytes.count && bytes[i + 1] == dollar) ? 2 : 1
                if let o = open {
                    if o.closer == dollar {
                        last = (o.start, i)
                        open = nil
                        i += o.width
                        continue
                    }
                } else {
                    open = (i + width, dollar, width)
                }
                i += width
                continue
            }
            i += 1
        }
        guard let (s, e) = last, s <= e else { return nil }
        let value = trimmed(bytes, s, e)
        return value.isEmpty ? nil : value
    }

    /// The last number in the text: optional sign, digits with optional `,ddd` groups, optional decimals.
    static func lastNumber(_ bytes: [UInt8]) -> String? {
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        var e = bytes.count - 1
        while e >= 0, !isDigit(bytes[e]) { e -= 1 }
        guard e >= 0 else { return nil }
        var s = e
        // Walk back over digits, decimal points and thousands commas that sit between digits.
        while s > 0 {
            let b = bytes[s - 1]
            if isDigit(b) { s -= 1; continue }
            if (b == UInt8(ascii: ".") || b == UInt8(ascii: ",")), s >= 2, isDigit(bytes[s - 2]) { s -= 1; continue }
            break
        }
        if s > 0, bytes[s - 1] == UInt8(ascii: "-") { s -= 1 }
        return String(decoding: bytes[s...e], as: UTF8.self)
    }
}
