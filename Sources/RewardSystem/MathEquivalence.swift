import Foundation

/// Math-answer equivalence: normalization (`MathNormalizer`), then structure (tuples, sets, intervals,
/// matrices, choice letters), then numbers and expressions compared by value. Conventions, with examples,
/// are in docs/rewards.md ("Math equivalence").
public struct MathEquivalence: Sendable {
    /// Relative tolerance for numbers that are not both exact (see `numbersEqual`).
    public var relativeTolerance: Double

    public init(relativeTolerance: Double = 1e-6) {
        self.relativeTolerance = relativeTolerance
    }

    /// True when the two answers are equivalent. Symmetric.
    public func areEquivalent(_ first: String, _ second: String) -> Bool {
        // Answers far longer than any real answer are compared as text without whitespace (keeps every
        // rule linear on adversarial 100 KB completions).
        if first.utf8.count > MathNormalizer.maxRawLength || second.utf8.count > MathNormalizer.maxRawLength {
            return MathEquivalence.equalIgnoringASCIIWhitespace(first, second)
        }
        let a = MathNormalizer.normalize(first)
        let b = MathNormalizer.normalize(second)
        if a == b { return !a.isEmpty || first.trimmingCharacters(in: .whitespacesAndNewlines) == second.trimmingCharacters(in: .whitespacesAndNewlines) }
        if a.isEmpty || b.isEmpty { return false }
        if let x = MathEquivalence.integerLiteral(a), let y = MathEquivalence.integerLiteral(b) { return x == y }
        if a.count > MathNormalizer.maxParsedLength || b.count > MathNormalizer.maxParsedLength {
            return a.lowercased() == b.lowercased()
        }
        if equal(MathValue.parse(a), MathValue.parse(b)) { return true }
        // A chain such as `\frac{1}{2} \cdot \frac{20}{9} = \frac{10}{9}` against a value: its last right side
        // counts. (Two equations are compared whole.)
        let aIsEquation = MathEquivalence.isEquation(a), bIsEquation = MathEquivalence.isEquation(b)
        if aIsEquation != bIsEquation {
            let right = MathNormalizer.rightOfLastEquals(aIsEquation ? a : b, requireName: false)
            let other = aIsEquation ? b : a
            return right != (aIsEquation ? a : b) && right == other || equal(MathValue.parse(right), MathValue.parse(other))
        }
        return false
    }

    static func isEquation(_ s: String) -> Bool {
        s.contains("=") && MathNormalizer.rightOfLastEquals(s, requireName: false) != s
    }

    /// Compares a completion's extracted answer with a gold answer (the gold may be a full solution with a
    /// box, GSM8K's `#### 18`, `$`-delimited or bare).
    public func matchesGold(_ answer: String, gold: String) -> Bool {
        areEquivalent(answer, AnswerExtraction.gold(gold))
    }

    static func equalIgnoringASCIIWhitespace(_ a: String, _ b: String) -> Bool {
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }
        var x = a.utf8.makeIterator(), y = b.utf8.makeIterator()
        while true {
            var p = x.next()
            while let c = p, isSpace(c) { p = x.next() }
            var q = y.next()
            while let c = q, isSpace(c) { q = y.next() }
            if p != q { return false }
            if p == nil { return true }
        }
    }

    /// A plain integer of any length, canonical (no sign for 0, no leading zeros): compared digit by digit.
    static func integerLiteral(_ s: String) -> String? {
        var digits = Substring(s)
        var negative = false
        if digits.first == "-" || digits.first == "+" { negative = digits.first == "-"; digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let canonical = digits.drop(while: { $0 == "0" })
        if canonical.isEmpty { return "0" }
        return (negative ? "-" : "") + canonical
    }

    func equal(_ a: MathValue, _ b: MathValue) -> Bool {
        switch (a, b) {
        case (.choice(let x), .choice(let y)): return x == y
        case (.text(let x), .text(let y)): return x == y
        case (.expression(let x), .expression(let y)): return expressionsEqual(x, y)
        case (.bracketed(let o1, let c1, let xs), .bracketed(let o2, let c2, let ys)):
            return o1 == o2 && c1 == c2 && orderedEqual(xs, ys)
        case (.bracketed("(", ")", let xs), .list(let ys)), (.list(let xs), .bracketed("(", ")", let ys)):
            return orderedEqual(xs, ys)
        case (.set(let xs), .set(let ys)), (.set(let xs), .list(let ys)), (.list(let xs), .set(let ys)),
             (.list(let xs), .list(let ys)), (.union(let xs), .union(let ys)):
            return unorderedEqual(xs, ys)
        case (.matrix(let xs), .matrix(let ys)):
            return xs.count == ys.count && zip(xs, ys).allSatisfy { orderedEqual($0, $1) }
        case (.choice(let x), .text(let y)), (.text(let y), .choice(let x)):
            return String(x).lowercased() == y
        default:
            return false
        }
    }

    func orderedEqual(_ xs: [MathValue], _ ys: [MathValue]) -> Bool {
        xs.count == ys.count && zip(xs, ys).allSatisfy { equal($0, $1) }
    }

    func unorderedEqual(_ xs: [MathValue], _ ys: [MathValue]) -> Bool {
        guard xs.count == ys.count, xs.count <= MathValue.maxElements else { return false }
        var used = [Bool](repeating: false, count: ys.count)
        for x in xs {
            guard let j = ys.indices.first(where: { !used[$0] && equal(x, ys[$0]) }) else { return false }
            used[j] = true
        }
        return true
    }

    /// Variables are compared by evaluating both sides at the same fixed points.
    static let samplePoints: [Double] = [0.5772156649, 1.4142135623, 2.7182818284, -1.3247179572]

    func expressionsEqual(_ x: MathNode, _ y: MathNode) -> Bool {
        var variables = Set<String>()
        x.collectVariables(into: &variables)
        y.collectVariables(into: &variables)
        if variables.isEmpty {
            return numbersEqual(x.evaluate([:]), y.evaluate([:]))
        }
        let names = variables.sorted()
        var comparedPoints = 0
        for (p, base) in MathEquivalence.samplePoints.enumerated() {
            var env: [String: Double] = [:]
            for (k, name) in names.enumerated() {
                // Distinct, irrational-ish values per variable and point.
                env[name] = base + Double(k) * 0.7310585786 + Double(p) * 0.1
            }
            let a = x.evaluate(env), b = y.evaluate(env)
            if a.value.isNaN && b.value.isNaN { continue }
            guard numbersEqual(a, b) else { return false }
            comparedPoints += 1
        }
        return comparedPoints > 0
    }

    /// Both exact: equal exactly, except a terminating decimal that is not an integer against a
    /// non-terminating rational, which is compared with the tolerance (`0.333333` ≈ `1/3`).
    /// Otherwise: |a − b| ≤ tol · max(|a|, |b|).
    func numbersEqual(_ a: MathNumber, _ b: MathNumber) -> Bool {
        if a.isExact && b.isExact {
            if a.numerator == b.numerator && a.denominator == b.denominator { return true }
            if a.isTerminatingDecimal == b.isTerminatingDecimal { return false }
            // An integer never approximates a fraction: 3378703 ≢ 23650922/7.
            if a.denominator == 1 || b.denominator == 1 { return false }
        }
        let x = a.value, y = b.value
        if x.isNaN || y.isNaN { return false }
        if x.isInfinite || y.isInfinite { return x == y }
        if x == y { return true }
        return abs(x - y) <= relativeTolerance * max(abs(x), abs(y)) * (1 + 1e-12)
    }
}

/// The structure of a normalized answer.
indirect enum MathValue {
    case expression(MathNode)
    /// `(1,2)`, `[0,1)`, `(-\infty, 3]`: ordered, with its brackets (a pair in parentheses is both a point and
    /// an open interval).
    case bracketed(Character, Character, [MathValue])
    /// `\{1,2\}`: unordered.
    case set([MathValue])
    /// `1, 2` at the top level: unordered (several answers).
    case list([MathValue])
    /// `A \cup B`: unordered parts.
    case union([MathValue])
    case matrix([[MathValue]])
    /// A multiple-choice letter, uppercased.
    case choice(Character)
    /// Anything else: compared as lowercased text.
    case text(String)

    /// Tuples, sets and lists with more elements than this are compared as text (written identically).
    static let maxElements = 64

    static func parse(_ text: String, depth: Int = 0) -> MathValue {
        let s = text.trimmingCharacters(in: .whitespaces)
        guard depth < 16, !s.isEmpty else { return .text(s.lowercased()) }
        // Parse elements only for collections of reasonable size.
        func elements(_ items: [String]) -> [MathValue]? {
            items.count > maxElements ? nil : items.map { parse($0, depth: depth + 1) }
        }
        let chars = Array(s)
        if let letter = choiceLetter(chars) { return .choice(letter) }
        if s == "\\emptyset" || s == "\\varnothing" || s == "\\{\\}" || s == "\\O" { return .set([]) }
        let unionParts = splitTopLevel(chars, separator: "\\cup")
        if unionParts.count > 1 {
            guard let parts = elements(unionParts) else { return .text(s.lowercased()) }
            return .union(parts)
        }
        if let interval = parseInequality(chars, depth: depth) { return interval }
        if let matrix = parseMatrix(s, depth: depth) { return matrix }
        // `\{ … \}` whose opening brace closes at the end.
        if s.hasPrefix("\\{"), s.hasSuffix("\\}"), matchingClose(chars, 0) == chars.count - 2 {
            let inner = Array(chars[2..<(chars.count - 2)])
            if inner.isEmpty { return .set([]) }
            guard let items = elements(splitTopLevel(inner, separator: ",")) else { return .text(s.lowercased()) }
            return .set(items)
        }
        // `{1, 2}` with plain braces and at least one comma: a set, as models often write it.
        if chars.first == "{", chars.last == "}", matchingClose(chars, 0) == chars.count - 1 {
            let items = splitTopLevel(Array(chars[1..<(chars.count - 1)]), separator: ",")
            if items.count > 1 {
                guard let values = elements(items) else { return .text(s.lowercased()) }
                return .set(values)
            }
        }
        // `\pm 3` → {3, −3}; `1 \pm \sqrt{2}` → {1 + √2, 1 − √2} (one top-level ± only).
        let plusMinus = splitTopLevel(chars, separator: "\\pm")
        if plusMinus.count == 2 {
            let (left, right) = (plusMinus[0], plusMinus[1])
            guard !right.isEmpty else { return .text(s.lowercased()) }
            let plus = left.isEmpty ? right : left + "+(" + right + ")"
            let minus = left.isEmpty ? "-(" + right + ")" : left + "-(" + right + ")"
            return .set([parse(plus, depth: depth + 1), parse(minus, depth: depth + 1)])
        }
        if let open = chars.first, let close = chars.last, "([".contains(open), ")]".contains(close),
           matchingClose(chars, 0) == chars.count - 1 {
            let inner = Array(chars[1..<(chars.count - 1)])
            let items = splitTopLevel(inner, separator: ",")
            if items.count > 1 {
                guard let values = elements(items) else { return .text(s.lowercased()) }
                return .bracketed(open, close, values)
            }
        }
        let items = splitTopLevel(chars, separator: ",")
        if items.count > 1 {
            guard let values = elements(items) else { return .text(s.lowercased()) }
            return .list(values)
        }
        if let node = MathExpressionParser.parse(s), !looksLikeWord(chars) {
            return .expression(node)
        }
        return .text(s.lowercased())
    }

    /// `C`, `(C)`, `C)`, `(c)`: a single letter, optionally in parentheses.
    static func choiceLetter(_ chars: [Character]) -> Character? {
        var c = chars[...]
        if c.first == "(" && c.last == ")" { c = c.dropFirst().dropLast() } else if c.last == ")" { c = c.dropLast() }
        guard c.count == 1, let letter = c.first, letter.isASCII, letter.isLetter else { return nil }
        return Character(letter.uppercased())
    }

    /// Three or more letters in a row (outside commands) are a word, not a product of variables.
    static func looksLikeWord(_ chars: [Character]) -> Bool {
        var run = 0
        var inCommand = false
        for c in chars {
            if c == "\\" { inCommand = true; run = 0; continue }
            if c.isASCII && c.isLetter {
                if inCommand { continue }
                run += 1
                if run >= 3 { return true }
            } else {
                inCommand = false
                run = 0
            }
        }
        return false
    }

    /// Index of the bracket closing the one at `start` (`(`/`[` with `)`/`]`, `{` with `}`, `\{` with `\}`).
    static func matchingClose(_ chars: [Character], _ start: Int) -> Int? {
        var depth = 0
        var i = start
        while i < chars.count {
            let c = chars[i]
            if c == "\\" && i + 1 < chars.count && (chars[i + 1] == "{" || chars[i + 1] == "}") {
                depth += chars[i + 1] == "{" ? 1 : -1
                if depth == 0 { return i }
                i += 2
                continue
            }
            if "([{".contains(c) { depth += 1 } else if ")]}".contains(c) {
                depth -= 1
                if depth == 0 { return i }
                if depth < 0 { return nil }
            }
            i += 1
        }
        return nil
    }

    /// Splits on `separator` outside any brackets.
    static func splitTopLevel(_ chars: [Character], separator: String) -> [String] {
        let sep = Array(separator)
        var parts: [String] = []
        var depth = 0
        var start = 0
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\\" && i + 1 < chars.count && (chars[i + 1] == "{" || chars[i + 1] == "}") {
                depth += chars[i + 1] == "{" ? 1 : -1
                i += 2
                continue
            }
            if "([{".contains(c) { depth += 1 } else if ")]}".contains(c) { depth -= 1 }
            if depth == 0, c == sep[0], i + sep.count <= chars.count, Array(chars[i..<i + sep.count]) == sep,
               !(sep.count > 1 && i + sep.count < chars.count && chars[i + sep.count].isLetter) {
                parts.append(String(chars[start..<i]))
                i += sep.count
                start = i
                continue
            }
            i += 1
        }
        parts.append(String(chars[start...]))
        return parts
    }

    /// `x < 3` → (−∞, 3); `x \ge 3` → [3, ∞); `-1 < x \le 2` → (−1, 2]; `3 > x` → (−∞, 3). The variable
    /// must be a name; the bounds are any expressions.
    static func parseInequality(_ chars: [Character], depth: Int) -> MathValue? {
        // Split at top-level relations: (text before, strict?, less-than?) …
        var parts: [String] = []
        var relations: [(strict: Bool, less: Bool)] = []
        var level = 0
        var start = 0
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if "([{".contains(c) { level += 1 } else if ")]}".contains(c) { level -= 1 }
            var width = 0
            var relation: (strict: Bool, less: Bool)? = nil
            if level == 0 {
                if c == "<" || c == ">" {
                    let orEqual = i + 1 < chars.count && chars[i + 1] == "="
                    relation = (!orEqual, c == "<")
                    width = orEqual ? 2 : 1
                } else if c == "\\" {
                    for (name, strict, less) in [("\\le", false, true), ("\\ge", false, false), ("\\lt", true, true), ("\\gt", true, false)] {
                        let n = Array(name)
                        if i + n.count <= chars.count, Array(chars[i..<i + n.count]) == n,
                           !(i + n.count < chars.count && chars[i + n.count].isLetter) {
                            relation = (strict, less)
                            width = n.count
                            break
                        }
                    }
                }
            }
            if let relation {
                parts.append(String(chars[start..<i]).trimmingCharacters(in: .whitespaces))
                relations.append(relation)
                i += width
                start = i
                continue
            }
            i += 1
        }
        guard !relations.isEmpty else { return nil }
        parts.append(String(chars[start...]).trimmingCharacters(in: .whitespaces))
        guard parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        func isVariable(_ t: String) -> Bool { MathNormalizer.isName(t) && !t.contains("(") }
        func bound(_ t: String) -> MathValue? {
            guard !isVariable(t), let node = MathExpressionParser.parse(t) else { return nil }
            return .expression(node)
        }
        let negInf = MathValue.expression(.negate(.infinity)), posInf = MathValue.expression(.infinity)
        func open(_ strict: Bool) -> Character { strict ? "(" : "[" }
        func close(_ strict: Bool) -> Character { strict ? ")" : "]" }
        if parts.count == 2 {
            let r = relations[0]
            if isVariable(parts[0]), let b = bound(parts[1]) {
                // x < b → (−∞, b);  x > b → (b, ∞)
                return r.less ? .bracketed("(", close(r.strict), [negInf, b]) : .bracketed(open(r.strict), ")", [b, posInf])
            }
            if isVariable(parts[1]), let b = bound(parts[0]) {
                // b < x → (b, ∞);  b > x → (−∞, b)
                return r.less ? .bracketed(open(r.strict), ")", [b, posInf]) : .bracketed("(", close(r.strict), [negInf, b])
            }
            return nil
        }
        if parts.count == 3, isVariable(parts[1]), relations[0].less == relations[1].less,
           let a = bound(parts[0]), let b = bound(parts[2]) {
            let (r0, r1) = (relations[0], relations[1])
            // a < x < b → (a, b);  a > x > b → (b, a)
            return r0.less ? .bracketed(open(r0.strict), close(r1.strict), [a, b])
                           : .bracketed(open(r1.strict), close(r0.strict), [b, a])
        }
        return nil
    }

    static func parseMatrix(_ s: String, depth: Int) -> MathValue? {
        for kind in ["pmatrix", "bmatrix", "matrix", "vmatrix", "Bmatrix"] {
            let open = "\\begin{\(kind)}", close = "\\end{\(kind)}"
            if s.hasPrefix(open), s.hasSuffix(close), s.count >= open.count + close.count {
                let inner = String(s.dropFirst(open.count).dropLast(close.count))
                var rows = inner.components(separatedBy: "\\\\").filter { !$0.isEmpty }
                if rows.isEmpty { rows = [""] }
                return .matrix(rows.map { row in
                    row.components(separatedBy: "&").map { parse($0, depth: depth + 1) }
                })
            }
        }
        return nil
    }
}
