import Foundation

/// String-level normalization of a math answer, before it is parsed. Each step is one documented convention
/// (see docs/rewards.md, "Math equivalence"). All steps are linear in the length of the answer.
public enum MathNormalizer {
    /// Answers longer than this are compared as normalized strings only (no parsing).
    public static let maxParsedLength = 1_000
    /// Raw answers longer than this (bytes) are not normalized at all: compared as text without whitespace.
    public static let maxRawLength = 1_000

    /// The normalized form of an answer, e.g. `"$\\dfrac{1}{2}\\text{ cm}$"` → `"\\frac{1}{2}"`.
    public static func normalize(_ answer: String) -> String {
        var s = answer
        s = replaceUnicode(s)
        s = s.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
            .replacingOccurrences(of: "\t", with: " ")
        s = stripMathDelimiters(s)
        if case .found(let inner) = AnswerExtraction.lastBox(in: s) { s = stripMathDelimiters(inner) }
        // Styling and sizing commands that carry no value.
        if s.contains("\\") {
            for command in ["displaystyle", "textstyle", "scriptstyle", "left", "right", "bigl", "bigr", "Bigl", "Bigr",
                            "big", "Big", "bigg", "Bigg", "biggl", "biggr", "limits", "nolimits"] {
                s = removeCommand(s, command)
            }
        }
        for (long, short) in [("\\geq", "\\ge"), ("\\leq", "\\le"), ("\\neq", "\\ne"), ("\\geqslant", "\\ge"),
                              ("\\leqslant", "\\le")] {
            s = replaceCommand(s, long, with: short)
        }
        s = s.replacingOccurrences(of: "\\dfrac", with: "\\frac").replacingOccurrences(of: "\\tfrac", with: "\\frac")
            .replacingOccurrences(of: "\\cfrac", with: "\\frac")
        // Thousands separators written the LaTeX way: `1{,}000`, `1\,000`, `49,\!479`.
        s = joinThousands(s, separator: "{,}")
        s = joinThousands(s, separator: "\\,")
        s = s.replacingOccurrences(of: "{,}", with: ",")
        s = s.replacingOccurrences(of: ",\\! ", with: ",").replacingOccurrences(of: ",\\!", with: ",")
        // Spacing commands (a row break `\\` is kept aside so that `\\ ` is not read as `\ `).
        s = s.replacingOccurrences(of: "\\\\", with: "\u{1}")
        for spacing in ["\\!", "\\,", "\\;", "\\:", "\\>", "\\ ", "\\quad", "\\qquad", "~"] where s.contains(spacing) {
            s = s.replacingOccurrences(of: spacing, with: " ")
        }
        s = s.replacingOccurrences(of: "\u{1}", with: "\\\\")
        s = removeDegrees(s)
        for reals in ["\\mathbb{R}", "\\mathbb R", "\u{211D}", "\\text{all real numbers}", "\\text{All real numbers}", "all real numbers"] {
            s = s.replacingOccurrences(of: reals, with: "(-\\infty,\\infty)")
        }
        s = s.replacingOccurrences(of: "\\%", with: "").replacingOccurrences(of: "%", with: "")
        s = s.replacingOccurrences(of: "\\$", with: " ").replacingOccurrences(of: "$", with: " ")
        s = stripTextGroups(s)
        s = stripTrailingWords(s)
        s = rightOfLastEquals(s)
        s = s.trimmingCharacters(in: .whitespaces)
        while let last = s.last, last == "." || last == "," || last == ";" || last == " " { s.removeLast() }
        // Thousands groups are recognized before spaces go: `32,349` and `1 000` are numbers, `32, 349` is a list.
        s = joinPlainThousands(s)
        s = joinSpaceThousands(s)
        s = mixedNumberWithSpace(s)
        s = removeWhitespace(s)
        if s.hasSuffix("\\\\") { s.removeLast(2) }
        return s
    }

    static func replaceUnicode(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { $0.value > 0x7F }) else { return s }
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\u{2212}", "\u{2013}", "\u{2014}": out += "-"
            case "\u{00D7}": out += "\\times "
            case "\u{00F7}": out += "\\div "
            case "\u{22C5}", "\u{00B7}": out += "\\cdot "
            case "\u{03C0}": out += "\\pi "
            case "\u{221E}": out += "\\infty "
            case "\u{221A}": out += "\\sqrt"
            case "\u{00B0}": out += "^\\circ "
            case "\u{2264}": out += "\\le "
            case "\u{2265}": out += "\\ge "
            case "\u{222A}": out += "\\cup "
            case "\u{00A0}", "\u{2009}", "\u{202F}", "\u{2007}": out += " "
            case "\u{20AC}", "\u{00A3}": out += " "  // € £ as units
            case "\u{00B2}": out += "^2"
            case "\u{00B3}": out += "^3"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Removes surrounding `$…$`, `$$…$$`, `\(…\)`, `\[…\]` (repeatedly).
    static func stripMathDelimiters(_ input: String) -> String {
        var s = input.trimmingCharacters(in: .whitespaces)
        while true {
            var changed = false
            for (open, close) in [("$$", "$$"), ("\\(", "\\)"), ("\\[", "\\]"), ("$", "$")] {
                if s.count >= open.count + close.count, s.hasPrefix(open), s.hasSuffix(close) {
                    let inner = s.dropFirst(open.count).dropLast(close.count)
                    // Only if the delimiters pair with each other (no other `$` inside for `$…$`).
                    if open == "$", inner.contains("$") { continue }
                    s = String(inner).trimmingCharacters(in: .whitespaces)
                    changed = true
                    break
                }
            }
            if !changed { return s }
        }
    }

    /// Removes `\name` where it is not the prefix of a longer command.
    static func removeCommand(_ s: String, _ name: String) -> String {
        let pattern = "\\" + name
        guard s.contains(pattern) else { return s }
        var out = ""
        var rest = Substring(s)
        while let r = rest.range(of: pattern) {
            out += rest[..<r.lowerBound]
            let after = rest[r.upperBound...]
            if let next = after.first, next.isLetter {
                out += rest[r]
            } else if name == "left" || name == "right", after.first == "." {
                rest = after.dropFirst()
                continue
            }
            rest = after
        }
        out += rest
        return out
    }

    /// Replaces `\name` (not the prefix of a longer command) with `replacement`.
    static func replaceCommand(_ s: String, _ name: String, with replacement: String) -> String {
        guard s.contains(name) else { return s }
        var out = ""
        var rest = Substring(s)
        while let r = rest.range(of: name) {
            out += rest[..<r.lowerBound]
            let after = rest[r.upperBound...]
            if let next = after.first, next.isLetter { out += rest[r] } else { out += replacement }
            rest = after
        }
        out += rest
        return out
    }

    static func removeDegrees(_ s: String) -> String {
        guard s.contains("circ") || s.contains("degree") || s.contains("text{o}") else { return s }
        var s = s.replacingOccurrences(of: "\\degree", with: "\\circ").replacingOccurrences(of: "^\\text{o}", with: "^\\circ")
        // `^\circ`, `^{\circ}`, `^ { \circ }`, `\circ`: the whole span goes.
        if s.contains("\\circ") {
            let chars = Array(s)
            let circ = Array("\\circ")
            var out: [Character] = []
            var i = 0
            while i < chars.count {
                if i + circ.count <= chars.count, Array(chars[i..<i + circ.count]) == circ,
                   !(i + circ.count < chars.count && chars[i + circ.count].isLetter) {
                    // Back over `{` and `^` (with spaces) already written.
                    var k = out.count
                    while k > 0, out[k - 1] == " " { k -= 1 }
                    var braced = false
                    if k > 0, out[k - 1] == "{" {
                        braced = true
                        k -= 1
                        while k > 0, out[k - 1] == " " { k -= 1 }
                    }
                    if k > 0, out[k - 1] == "^" {
                        out.removeSubrange((k - 1)...)
                    } else if braced {
                        braced = false  // a `{` that is not an exponent's: keep it
                    }
                    var j = i + circ.count
                    if braced {
                        var m = j
                        while m < chars.count, chars[m] == " " { m += 1 }
                        if m < chars.count, chars[m] == "}" { j = m + 1 }
                    }
                    i = j
                    continue
                }
                out.append(chars[i])
                i += 1
            }
            s = String(out)
        }
        for word in ["degrees", "degree"] {
            s = s.replacingOccurrences(of: "\\text{ \(word)}", with: "").replacingOccurrences(of: "\\text{\(word)}", with: "")
        }
        return s
    }

    /// Removes `separator` between a digit and exactly three digits (a thousands separator).
    static func joinThousands(_ s: String, separator: String) -> String {
        guard s.contains(separator) else { return s }
        let chars = Array(s)
        let sep = Array(separator)
        var out: [Character] = []
        out.reserveCapacity(chars.count)
        var i = 0
        while i < chars.count {
            if i + sep.count <= chars.count, Array(chars[i..<i + sep.count]) == sep,
               let prev = out.last, prev.isASCII, prev.isNumber {
                let j = i + sep.count
                var k = j
                while k < chars.count, chars[k].isASCII, chars[k].isNumber { k += 1 }
                if k - j == 3 {
                    i = j
                    continue
                }
            }
            out.append(chars[i])
            i += 1
        }
        return String(out)
    }

    /// A whole answer `7,425,000` or `-1,000.5` (groups of exactly three digits) → without the commas.
    static func joinPlainThousands(_ s: String) -> String {
        guard s.contains(",") else { return s }
        let chars = Array(s)
        var i = 0
        if i < chars.count, chars[i] == "-" || chars[i] == "+" { i += 1 }
        var lead = 0
        while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1; lead += 1 }
        guard (1...3).contains(lead) else { return s }
        var groups = 0
        while i < chars.count, chars[i] == "," {
            var k = i + 1
            while k < chars.count, chars[k].isASCII, chars[k].isNumber { k += 1 }
            guard k - (i + 1) == 3 else { return s }
            i = k
            groups += 1
        }
        if i < chars.count, chars[i] == "." {
            var k = i + 1
            while k < chars.count, chars[k].isASCII, chars[k].isNumber { k += 1 }
            guard k > i + 1 else { return s }
            i = k
        }
        guard groups > 0, i == chars.count else { return s }
        return s.replacingOccurrences(of: ",", with: "")
    }

    /// `4 4/9` (a whole answer: integer, space, integer fraction) → `4\frac{4}{9}`, the mixed number 40/9,
    /// rather than 44/9 once the space is gone.
    static func mixedNumberWithSpace(_ s: String) -> String {
        let parts = s.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else { return s }
        var whole = parts[0]
        var sign = ""
        if let first = whole.first, first == "-" || first == "+" { sign = String(first); whole = whole.dropFirst() }
        let fraction = parts[1].split(separator: "/", omittingEmptySubsequences: false)
        func isDigits(_ t: Substring) -> Bool { !t.isEmpty && t.allSatisfy { $0.isASCII && $0.isNumber } }
        guard isDigits(whole), fraction.count == 2, isDigits(fraction[0]), isDigits(fraction[1]) else { return s }
        return "\(sign)\(whole)\\frac{\(fraction[0])}{\(fraction[1])}"
    }

    /// Removes whitespace, except one space between a command and a letter (`\pi r^2` must not become `\pir^2`).
    static func removeWhitespace(_ s: String) -> String {
        guard s.contains(where: { $0.isWhitespace }) else { return s }
        var out = ""
        var inCommand = false
        var pendingSpace = false
        for c in s {
            if c.isWhitespace {
                pendingSpace = true
                continue
            }
            if pendingSpace && inCommand && c.isLetter { out.append(" ") }
            pendingSpace = false
            if c == "\\" { inCommand = true } else if !(c.isASCII && c.isLetter) { inCommand = false }
            out.append(c)
        }
        return out
    }

    /// `1 000 000` (groups of exactly three digits separated by single spaces) → `1000000`.
    static func joinSpaceThousands(_ s: String) -> String {
        guard s.contains(" ") else { return s }
        let groups = s.split(separator: " ", omittingEmptySubsequences: false)
        guard groups.count >= 2, let first = groups.first else { return s }
        var lead = Substring(first)
        if lead.first == "-" || lead.first == "+" { lead = lead.dropFirst() }
        guard (1...3).contains(lead.count), lead.allSatisfy({ $0.isASCII && $0.isNumber }) else { return s }
        for (i, g) in groups.dropFirst().enumerated() {
            let isLast = i == groups.count - 2
            var digits = Substring(g)
            if isLast, let dot = g.firstIndex(of: ".") {
                let decimals = g[g.index(after: dot)...]
                guard !decimals.isEmpty, decimals.allSatisfy({ $0.isASCII && $0.isNumber }) else { return s }
                digits = g[..<dot]
            }
            guard digits.count == 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return s }
        }
        return groups.joined()
    }

    static let textCommands = ["text", "textbf", "textit", "textrm", "textsf", "texttt", "textnormal", "mbox", "mathrm",
                               "mathbf", "mathit", "mathsf", "mathtt", "mathnormal", "boldsymbol", "bm", "operatorname", "hbox"]

    enum Segment {
        case math(String)
        case text(String)
    }

    /// `\text{…}`-like groups: leading and trailing ones (units, words) are removed when math remains;
    /// all others are unwrapped (`\text{Evelyn}` → `Evelyn`, `\text{(C)}` → `(C)`).
    static func stripTextGroups(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var segments: [Segment] = []
        var current = ""
        let chars = Array(s)
        var i = 0
        outer: while i < chars.count {
            if chars[i] == "\\" {
                var j = i + 1
                while j < chars.count, chars[j].isASCII, chars[j].isLetter { j += 1 }
                let name = String(chars[(i + 1)..<j])
                if textCommands.contains(name) {
                    var k = j
                    while k < chars.count, chars[k] == " " { k += 1 }
                    if k < chars.count, chars[k] == "{" {
                        var depth = 0
                        var m = k
                        while m < chars.count {
                            if chars[m] == "{" { depth += 1 } else if chars[m] == "}" {
                                depth -= 1
                                if depth == 0 { break }
                            }
                            m += 1
                        }
                        if m < chars.count {
                            if !current.isEmpty { segments.append(.math(current)); current = "" }
                            segments.append(.text(String(chars[(k + 1)..<m])))
                            i = m + 1
                            continue outer
                        }
                    }
                }
            }
            current.append(chars[i])
            i += 1
        }
        if !current.isEmpty { segments.append(.math(current)) }
        func isBlank(_ seg: Segment) -> Bool {
            if case .math(let m) = seg { return m.allSatisfy { $0.isWhitespace || $0 == "." || $0 == "," } }
            return false
        }
        func hasContent(_ seg: Segment) -> Bool {
            if case .math(let m) = seg { return !isBlank(.math(m)) }
            return false
        }
        guard segments.contains(where: { if case .text = $0 { return true }; return false }) else { return s }
        if segments.contains(where: hasContent) {
            // Drop leading text groups and trailing ones (with an exponent right after, as in `\text{cm}^2`).
            while let first = segments.first, !hasContent(first) { segments.removeFirst() }
            while let last = segments.last, !hasContent(last) { segments.removeLast() }
            // `5\text{ cm}^2`: a power right after a trailing unit belongs to the unit.
            if segments.count >= 3, case .math(let m) = segments[segments.count - 1], case .text = segments[segments.count - 2],
               ["^2", "^3", "^{2}", "^{3}"].contains(m.trimmingCharacters(in: .whitespaces)) {
                segments.removeLast(2)
                while let last = segments.last, !hasContent(last) { segments.removeLast() }
            }
        }
        var out = ""
        for seg in segments {
            switch seg {
            case .math(let m): out += m
            case .text(let t): out += " " + t + " "
            }
        }
        return out
    }

    static let unitWords: Set<String> = [
        "percent", "pct", "degrees", "degree", "dollars", "dollar", "cents", "cent", "units", "unit",
        "meters", "meter", "cm", "mm", "km", "m", "kg", "g", "mg", "seconds", "second", "minutes", "minute",
        "hours", "hour", "days", "day", "inches", "inch", "feet", "foot", "ft", "miles", "mile", "mph", "sq",
    ]

    /// `28 percent`, `10 meters`, `5 apples` → `28`, `10`, `5`: trailing plain words of two or more letters
    /// after a number are dropped (a lone letter, as in `2 x`, is kept; so is text without a number).
    static func stripTrailingWords(_ s: String) -> String {
        var words = s.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count >= 2 else { return s }
        var dropped = false
        while words.count >= 2, let last = words.last {
            let w = last.trimmingCharacters(in: CharacterSet(charactersIn: ".,;:!"))
            let isWord = w.count >= 2 && w.allSatisfy { $0.isLetter } || unitWords.contains(w.lowercased())
                || (w.hasPrefix("^") && dropped)
            guard isWord else { break }
            words.removeLast()
            dropped = true
        }
        guard dropped else { return s }
        let rest = words.joined(separator: " ")
        // Only when what remains ends in a number or a closing bracket/brace (a value, not a word).
        guard let tail = rest.last, tail.isNumber || tail == "}" || tail == ")" else { return s }
        return rest
    }

    /// `x = 5` → `5`: the right side of the last top-level `=` (or `\approx`), when it is not empty.
    static func rightOfLastEquals(_ s: String, requireName: Bool = true) -> String {
        guard s.contains("=") || s.contains("\\approx") || s.contains("\\in") else { return s }
        let chars = Array(s)
        var depth = 0
        var firstStart = -1
        var cut = -1
        var i = 0
        func matches(_ word: String, at i: Int) -> Bool {
            let w = Array(word)
            return i + w.count <= chars.count && Array(chars[i..<i + w.count]) == w
                && !(i + w.count < chars.count && chars[i + w.count].isLetter)
        }
        while i < chars.count {
            let c = chars[i]
            if c == "{" || c == "(" || c == "[" { depth += 1 } else if c == "}" || c == ")" || c == "]" { depth -= 1 }
            if depth == 0 {
                var width = 0
                if c == "=" {
                    // Not part of `<=`, `>=`, `!=`.
                    let prev = i > 0 ? chars[i - 1] : " "
                    if prev != "<" && prev != ">" && prev != "!" { width = 1 }
                } else if c == "\\", matches("\\approx", at: i) {
                    width = 7
                } else if c == "\\", matches("\\in", at: i) {
                    width = 3  // `x \in [2, 5)`
                }
                if width > 0 {
                    if firstStart < 0 { firstStart = i }
                    cut = i + width
                    i += width
                    continue
                }
            }
            i += 1
        }
        guard cut > 0, firstStart >= 0 else { return s }
        // Only when the left side names what is being given (`x`, `k`, `f(x)`, `x_1`, `\theta`, `(a, b)`):
        // `x-2y+z-1=0` is an equation and is kept whole.
        guard !requireName || isName(String(chars[..<firstStart]).trimmingCharacters(in: .whitespaces)) else { return s }
        let right = String(chars[cut...]).trimmingCharacters(in: .whitespaces)
        return right.isEmpty ? s : right
    }

    /// A variable, function or tuple of variables as the left side of `=`.
    static func isName(_ text: String) -> Bool {
        var t = Substring(text)
        guard !t.isEmpty, t.count <= 40 else { return false }
        if t.first == "(", t.last == ")" {
            let items = t.dropFirst().dropLast().split(separator: ",")
            return !items.isEmpty && items.allSatisfy { isName(String($0).trimmingCharacters(in: .whitespaces)) }
        }
        // f(x), g(2): a name with an argument list.
        if t.last == ")", let open = t.firstIndex(of: "("), open != t.startIndex { t = t[..<open] }
        if t.first == "\\" { t = t.dropFirst() }
        let letters = t.prefix(while: { $0.isLetter })
        guard !letters.isEmpty else { return false }
        var rest = t.dropFirst(letters.count)
        while rest.first == "'" { rest = rest.dropFirst() }
        if rest.first == "_" {
            rest = rest.dropFirst()
            if rest.first == "{", rest.last == "}" { rest = rest.dropFirst().dropLast() }
            return !rest.isEmpty && rest.allSatisfy { $0.isLetter || $0.isNumber }
        }
        // Plain words of one to three letters (x, xy, AB) or a command name (\theta).
        return rest.isEmpty && (letters.count <= 3 || text.hasPrefix("\\"))
    }
}
