import Foundation

/// An exact rational (when it fits in Int) or a Double approximation.
struct MathNumber {
    var numerator: Int
    var denominator: Int  // > 0; 0 means "not exact"
    var value: Double

    var isExact: Bool { denominator != 0 }

    static func inexact(_ v: Double) -> MathNumber { MathNumber(numerator: 0, denominator: 0, value: v) }

    static func exact(_ n: Int, _ d: Int) -> MathNumber {
        guard d != 0 else { return .inexact(n == 0 ? .nan : (n > 0 ? .infinity : -.infinity)) }
        // Int.min has no negation: such values leave the exact domain.
        guard n != Int.min, d != Int.min else { return .inexact(Double(n) / Double(d)) }
        var n = n, d = d
        if d < 0 { n = -n; d = -d }
        let g = gcd(abs(n), d)
        if g > 1 { n /= g; d /= g }
        return MathNumber(numerator: n, denominator: d, value: Double(n) / Double(d))
    }

    static func gcd(_ a: Int, _ b: Int) -> Int {
        var a = a, b = b
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    /// True when the exact value has a terminating decimal expansion (denominator 2^a·5^b).
    var isTerminatingDecimal: Bool {
        guard isExact else { return false }
        var d = denominator
        while d % 2 == 0 { d /= 2 }
        while d % 5 == 0 { d /= 5 }
        return d == 1
    }

    static func + (a: MathNumber, b: MathNumber) -> MathNumber {
        if a.isExact && b.isExact {
            let (x, o1) = a.numerator.multipliedReportingOverflow(by: b.denominator)
            let (y, o2) = b.numerator.multipliedReportingOverflow(by: a.denominator)
            let (d, o3) = a.denominator.multipliedReportingOverflow(by: b.denominator)
            if !o1 && !o2 && !o3 {
                let (n, o4) = x.addingReportingOverflow(y)
                if !o4 { return .exact(n, d) }
            }
        }
        return .inexact(a.value + b.value)
    }

    static prefix func - (a: MathNumber) -> MathNumber {
        if a.isExact && a.numerator != Int.min { return MathNumber(numerator: -a.numerator, denominator: a.denominator, value: -a.value) }
        return .inexact(-a.value)
    }

    static func * (a: MathNumber, b: MathNumber) -> MathNumber {
        if a.isExact && b.isExact {
            let (n, o1) = a.numerator.multipliedReportingOverflow(by: b.numerator)
            let (d, o2) = a.denominator.multipliedReportingOverflow(by: b.denominator)
            if !o1 && !o2 { return .exact(n, d) }
        }
        return .inexact(a.value * b.value)
    }

    static func / (a: MathNumber, b: MathNumber) -> MathNumber {
        if a.isExact && b.isExact && b.numerator != 0 {
            let (n, o1) = a.numerator.multipliedReportingOverflow(by: b.denominator)
            let (d, o2) = a.denominator.multipliedReportingOverflow(by: b.numerator)
            if !o1 && !o2 { return .exact(n, d) }
        }
        return .inexact(a.value / b.value)
    }

    func power(_ e: MathNumber) -> MathNumber {
        if isExact, e.isExact, e.denominator == 1, abs(e.numerator) <= 64 {
            var result = MathNumber.exact(1, 1)
            for _ in 0..<abs(e.numerator) {
                result = result * self
                if !result.isExact { break }
            }
            if result.isExact { return e.numerator < 0 ? MathNumber.exact(1, 1) / result : result }
        }
        // Odd roots of negatives are real: (-8)^(1/3) = -2.
        if value < 0, e.isExact, e.denominator % 2 == 1, e.denominator > 1 {
            let r = -Foundation.pow(-value, e.value)
            return .inexact(e.numerator % 2 == 0 ? -r : r)
        }
        return .inexact(Foundation.pow(value, e.value))
    }
}

/// A parsed math expression (numbers, variables, + − × ÷ ^, \frac, \sqrt, functions, constants).
indirect enum MathNode {
    case number(MathNumber)
    case variable(String)
    case pi, euler, infinity
    case negate(MathNode)
    case add(MathNode, MathNode)
    case multiply(MathNode, MathNode)
    case divide(MathNode, MathNode)
    case power(MathNode, MathNode)
    case root(MathNode, index: MathNode?)
    case function(String, MathNode)
    case factorial(MathNode)
    case absolute(MathNode)

    func collectVariables(into set: inout Set<String>) {
        switch self {
        case .variable(let name): set.insert(name)
        case .number, .pi, .euler, .infinity: break
        case .negate(let a), .factorial(let a), .absolute(let a), .function(_, let a): a.collectVariables(into: &set)
        case .add(let a, let b), .multiply(let a, let b), .divide(let a, let b), .power(let a, let b):
            a.collectVariables(into: &set); b.collectVariables(into: &set)
        case .root(let a, let index):
            a.collectVariables(into: &set); index?.collectVariables(into: &set)
        }
    }

    func evaluate(_ env: [String: Double]) -> MathNumber {
        switch self {
        case .number(let n): return n
        case .variable(let name): return .inexact(env[name] ?? .nan)
        case .pi: return .inexact(.pi)
        case .euler: return .inexact(M_E)
        case .infinity: return .inexact(.infinity)
        case .negate(let a): return -a.evaluate(env)
        case .add(let a, let b): return a.evaluate(env) + b.evaluate(env)
        case .multiply(let a, let b): return a.evaluate(env) * b.evaluate(env)
        case .divide(let a, let b): return a.evaluate(env) / b.evaluate(env)
        case .power(let a, let b): return a.evaluate(env).power(b.evaluate(env))
        case .root(let a, let index):
            let x = a.evaluate(env)
            let n = index?.evaluate(env) ?? .exact(2, 1)
            if x.isExact, n.isExact, n.denominator == 1, n.numerator == 2, x.numerator >= 0 {
                // Exact square roots of perfect squares stay exact: √(9/4) = 3/2.
                let rn = Int(Double(x.numerator).squareRoot().rounded()), rd = Int(Double(x.denominator).squareRoot().rounded())
                let (nn, o1) = rn.multipliedReportingOverflow(by: rn), (dd, o2) = rd.multipliedReportingOverflow(by: rd)
                if !o1, !o2, nn == x.numerator, dd == x.denominator { return .exact(rn, rd) }
            }
            return x.power(MathNumber.exact(1, 1) / n)
        case .function(let name, let a):
            let x = a.evaluate(env).value
            switch name {
            case "sin": return .inexact(Foundation.sin(x))
            case "cos": return .inexact(Foundation.cos(x))
            case "tan": return .inexact(Foundation.tan(x))
            case "sec": return .inexact(1 / Foundation.cos(x))
            case "csc": return .inexact(1 / Foundation.sin(x))
            case "cot": return .inexact(1 / Foundation.tan(x))
            case "arcsin": return .inexact(Foundation.asin(x))
            case "arccos": return .inexact(Foundation.acos(x))
            case "arctan": return .inexact(Foundation.atan(x))
            case "sinh": return .inexact(Foundation.sinh(x))
            case "cosh": return .inexact(Foundation.cosh(x))
            case "tanh": return .inexact(Foundation.tanh(x))
            case "ln": return .inexact(Foundation.log(x))
            case "log": return .inexact(Foundation.log10(x))
            case "exp": return .inexact(Foundation.exp(x))
            default:
                if name.hasPrefix("log_"), let base = Double(name.dropFirst(4)) {
                    return .inexact(Foundation.log(x) / Foundation.log(base))
                }
                return .inexact(.nan)
            }
        case .factorial(let a):
            let x = a.evaluate(env)
            guard x.isExact, x.denominator == 1, x.numerator >= 0, x.numerator <= 170 else { return .inexact(.nan) }
            var r = MathNumber.exact(1, 1)
            if x.numerator >= 2 { for k in 2...x.numerator { r = r * .exact(k, 1) } }
            return r
        case .absolute(let a):
            let x = a.evaluate(env)
            return x.value < 0 ? -x : x
        }
    }
}

/// Recursive-descent parser for the normalized (whitespace-free) LaTeX of one math expression.
struct MathExpressionParser {
    enum Token: Equatable {
        case number(String)
        case letter(String)
        case command(String)
        case symbol(Character)
    }

    struct Failure: Error {}

    static let maxDepth = 64
    static let functions: Set<String> = ["sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan",
                                         "sinh", "cosh", "tanh", "ln", "log", "exp"]
    static let greek: Set<String> = ["alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
                                     "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau",
                                     "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta",
                                     "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega"]

    var tokens: [Token]
    var position = 0
    var depth = 0

    /// Parses a whole expression; `nil` when the text is not a single expression this parser understands.
    static func parse(_ text: String) -> MathNode? {
        guard !text.isEmpty, let tokens = tokenize(fixShorthand(text)) else { return nil }
        var parser = MathExpressionParser(tokens: tokens)
        guard let node = try? parser.parseExpression(), parser.position == parser.tokens.count else { return nil }
        return node
    }

    /// `\frac12` → `\frac{1}{2}`, `\frac1{2}`, `\frac{1}2`, `\sqrt3` → `\sqrt{3}` (one-character arguments,
    /// as TeX reads them). One pass: a stack remembers the `\frac` groups whose second argument is pending.
    static func fixShorthand(_ text: String) -> String {
        guard text.contains("\\frac") || text.contains("\\sqrt") else { return text }
        let chars = Array(text)
        var out: [Character] = []
        out.reserveCapacity(chars.count + 16)
        var pendingSecondArgument: [Int] = []  // depths at which a \frac's first argument closes
        var depth = 0
        var i = 0
        func isCommand(_ name: String, at i: Int) -> Bool {
            let n = Array(name)
            guard i + n.count <= chars.count else { return false }
            for k in 0..<n.count where chars[i + k] != n[k] { return false }
            return !(i + n.count < chars.count && chars[i + n.count].isLetter)
        }
        /// A one-token argument at `j` (a character or a command), braced; advances `j`.
        func shortArgument(_ j: inout Int) -> [Character]? {
            guard j < chars.count, chars[j] != "}", chars[j] != "{" else { return nil }
            var k = j + 1
            if chars[j] == "\\" { while k < chars.count, chars[k].isLetter { k += 1 } }
            let arg = ["{"] + Array(chars[j..<k]) + ["}"]
            j = k
            return arg
        }
        while i < chars.count {
            let c = chars[i]
            if c == "\\", isCommand("\\frac", at: i) {
                out += Array("\\frac")
                var j = i + 5
                if j < chars.count, chars[j] == "{" {
                    pendingSecondArgument.append(depth + 1)
                    i = j
                    continue
                }
                if let a = shortArgument(&j) {
                    out += a
                    if j < chars.count, chars[j] != "{", let b = shortArgument(&j) { out += b }
                }
                i = j
                continue
            }
            if c == "\\", isCommand("\\sqrt", at: i) {
                out += Array("\\sqrt")
                var j = i + 5
                if j < chars.count, chars[j] == "[" {
                    while j < chars.count, chars[j] != "]" { out.append(chars[j]); j += 1 }
                    if j < chars.count { out.append("]"); j += 1 }
                }
                if j < chars.count, chars[j] != "{", let a = shortArgument(&j) { out += a }
                i = j
                continue
            }
            out.append(c)
            i += 1
            if c == "{" { depth += 1 } else if c == "}" {
                if let last = pendingSecondArgument.last, last == depth {
                    pendingSecondArgument.removeLast()
                    var j = i
                    if j < chars.count, chars[j] != "{", let b = shortArgument(&j) {
                        out += b
                        i = j
                    }
                }
                depth -= 1
            }
        }
        return String(out)
    }

    static func tokenize(_ text: String) -> [Token]? {
        let chars = Array(text)
        var tokens: [Token] = []
        var i = 0
        func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }
        while i < chars.count {
            let c = chars[i]
            if isDigit(c) || (c == "." && i + 1 < chars.count && isDigit(chars[i + 1])) {
                var j = i
                while j < chars.count, isDigit(chars[j]) { j += 1 }
                if j < chars.count, chars[j] == ".", j + 1 < chars.count, isDigit(chars[j + 1]) {
                    j += 1
                    while j < chars.count, isDigit(chars[j]) { j += 1 }
                } else if j < chars.count, chars[j] == ".", !(j + 1 < chars.count && chars[j + 1].isLetter) {
                    j += 1  // `5.` is 5
                }
                // Scientific notation: 1.5e3, 2E-4 (only when digits follow).
                if j < chars.count, chars[j] == "e" || chars[j] == "E" {
                    var k = j + 1
                    if k < chars.count, chars[k] == "+" || chars[k] == "-" { k += 1 }
                    if k < chars.count, isDigit(chars[k]) {
                        while k < chars.count, isDigit(chars[k]) { k += 1 }
                        j = k
                    }
                }
                tokens.append(.number(String(chars[i..<j])))
                i = j
            } else if c == "\\" {
                var j = i + 1
                while j < chars.count, chars[j].isASCII, chars[j].isLetter { j += 1 }
                if j == i + 1 {
                    guard j < chars.count else { return nil }
                    tokens.append(.command(String(chars[j])))
                    i = j + 1
                } else {
                    tokens.append(.command(String(chars[(i + 1)..<j])))
                    i = j
                }
            } else if c == " " {
                i += 1  // kept only between a command and a letter: a separator
            } else if c.isLetter {
                tokens.append(.letter(String(c)))
                i += 1
            } else if "+-*/^_()[]{}!|,'".contains(c) {
                tokens.append(.symbol(c))
                i += 1
            } else {
                return nil
            }
        }
        return tokens
    }

    // MARK: Grammar

    var peek: Token? { position < tokens.count ? tokens[position] : nil }

    mutating func advance() -> Token? {
        guard position < tokens.count else { return nil }
        defer { position += 1 }
        return tokens[position]
    }

    mutating func expect(_ symbol: Character) throws {
        guard peek == .symbol(symbol) else { throw Failure() }
        position += 1
    }

    mutating func enter() throws {
        depth += 1
        if depth > MathExpressionParser.maxDepth { throw Failure() }
    }

    mutating func parseExpression() throws -> MathNode {
        try enter()
        defer { depth -= 1 }
        var left = try parseTerm()
        while let t = peek {
            if t == .symbol("+") { position += 1; left = .add(left, try parseTerm()) }
            else if t == .symbol("-") { position += 1; left = .add(left, .negate(try parseTerm())) }
            else { break }
        }
        return left
    }

    mutating func parseTerm() throws -> MathNode {
        var left = try parseUnary()
        while let t = peek {
            switch t {
            case .symbol("*"), .command("cdot"), .command("times"), .command("ast"):
                position += 1
                left = .multiply(left, try parseUnary())
            case .symbol("/"), .command("div"):
                position += 1
                left = .divide(left, try parseUnary())
            default:
                guard startsFactor(t) else { return left }
                left = .multiply(left, try parsePower())
            }
        }
        return left
    }

    func startsFactor(_ t: Token) -> Bool {
        switch t {
        case .number, .letter: return true
        case .symbol(let c): return c == "(" || c == "{"
        case .command(let name):
            return name == "frac" || name == "sqrt" || name == "pi" || name == "infty" || name == "e"
                || MathExpressionParser.functions.contains(name) || MathExpressionParser.greek.contains(name)
        }
    }

    mutating func parseUnary() throws -> MathNode {
        if peek == .symbol("-") { position += 1; try enter(); defer { depth -= 1 }; return .negate(try parseUnary()) }
        if peek == .symbol("+") { position += 1; try enter(); defer { depth -= 1 }; return try parseUnary() }
        return try parsePower()
    }

    mutating func parsePower() throws -> MathNode {
        let base = try parsePostfix()
        if peek == .symbol("^") {
            position += 1
            try enter()
            defer { depth -= 1 }
            let exponent: MathNode
            if peek == .symbol("-") {
                position += 1
                exponent = .negate(try parsePostfix())
            } else {
                exponent = try parsePostfix()
            }
            return .power(base, exponent)
        }
        return base
    }

    mutating func parsePostfix() throws -> MathNode {
        var node = try parsePrimary()
        while peek == .symbol("!") { position += 1; node = .factorial(node) }
        return node
    }

    /// A `{…}` group or a single primary (used for \frac and \sqrt arguments, already braced by fixShorthand).
    mutating func parseGroup() throws -> MathNode {
        guard peek == .symbol("{") else { return try parsePrimary() }
        position += 1
        let inner = try parseExpression()
        try expect("}")
        return inner
    }

    mutating func parsePrimary() throws -> MathNode {
        try enter()
        defer { depth -= 1 }
        guard let t = advance() else { throw Failure() }
        switch t {
        case .number(let text):
            let number = MathExpressionParser.number(text)
            // A mixed number: an integer directly followed by \frac{int}{int} (2\frac{1}{2} = 5/2).
            if number.isExact, number.denominator == 1, number.numerator >= 0, !text.contains("."),
               peek == .command("frac") {
                let save = position
                position += 1
                if let fraction = try? parseFractionArguments(),
                   case .divide(.number(let n), .number(let d)) = fraction,
                   n.isExact, n.denominator == 1, d.isExact, d.denominator == 1 {
                    return .number(number + n / d)
                }
                position = save
            }
            return .number(number)
        case .letter(let name):
            if name == "e" { return .euler }
            return .variable(name + (try parseSubscript()))
        case .symbol("("):
            let inner = try parseExpression()
            try expect(")")
            return inner
        case .symbol("{"):
            let inner = try parseExpression()
            try expect("}")
            return inner
        case .symbol("|"):
            let inner = try parseExpression()
            try expect("|")
            return .absolute(inner)
        case .command(let name):
            switch name {
            case "frac": return try parseFractionArguments()
            case "sqrt":
                var index: MathNode? = nil
                if peek == .symbol("[") {
                    position += 1
                    index = try parseExpression()
                    try expect("]")
                }
                return .root(try parseGroup(), index: index)
            case "pi": return .pi
            case "infty", "infinity": return .infinity
            case "e": return .euler
            case "exp":
                return .function("exp", try parseFunctionArgument())
            default:
                if MathExpressionParser.greek.contains(name) { return .variable(name + (try parseSubscript())) }
                if MathExpressionParser.functions.contains(name) {
                    var functionName = name
                    if name == "log", peek == .symbol("_") {
                        position += 1
                        guard case .number(let base) = try parseSubscriptToken() else { throw Failure() }
                        functionName = "log_" + base
                    }
                    var exponent: MathNode? = nil
                    if peek == .symbol("^") {  // \sin^2 x
                        position += 1
                        exponent = try parsePostfix()
                    }
                    let value = MathNode.function(functionName, try parseFunctionArgument())
                    if let exponent { return .power(value, exponent) }
                    return value
                }
                throw Failure()
            }
        default:
            throw Failure()
        }
    }

    mutating func parseFractionArguments() throws -> MathNode {
        let numerator = try parseGroup()
        let denominator = try parseGroup()
        return .divide(numerator, denominator)
    }

    mutating func parseFunctionArgument() throws -> MathNode {
        if peek == .symbol("(") || peek == .symbol("{") { return try parsePostfix() }
        return try parsePower()
    }

    /// `x_1`, `x_{12}` → "_1", "_12" (part of the variable's name).
    mutating func parseSubscript() throws -> String {
        guard peek == .symbol("_") else { return "" }
        position += 1
        return "_" + (try parseSubscriptText())
    }

    mutating func parseSubscriptToken() throws -> Token {
        guard let t = advance() else { throw Failure() }
        if t == .symbol("{") {
            guard let inner = advance(), peek == .symbol("}") else { throw Failure() }
            position += 1
            return inner
        }
        // Without braces a subscript is one character, as in TeX: `\log_28` is log base 2 of 8.
        if case .number(let digits) = t, digits.count > 1 {
            tokens.insert(.number(String(digits.dropFirst())), at: position)
            return .number(String(digits.prefix(1)))
        }
        return t
    }

    mutating func parseSubscriptText() throws -> String {
        switch try parseSubscriptToken() {
        case .number(let s), .letter(let s), .command(let s): return s
        case .symbol: throw Failure()
        }
    }

    static func number(_ text: String) -> MathNumber {
        var mantissa = text
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = String(text[..<e])
            // Exponents beyond ±999 are not exact material (and must not overflow the arithmetic below).
            guard let parsed = Int(text[text.index(after: e)...]), parsed > -1_000, parsed < 1_000 else {
                return .inexact(Double(text) ?? .nan)
            }
            exponent = parsed
        }
        if mantissa.hasSuffix(".") { mantissa.removeLast() }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let whole = parts.first.map(String.init) ?? ""
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        let digits = (whole + fraction).drop(while: { $0 == "0" })
        let scale = fraction.count - exponent
        if digits.count <= 18, abs(scale) <= 18, let n = Int(digits.isEmpty ? "0" : String(digits)) {
            var pow10 = 1
            for _ in 0..<abs(scale) { pow10 *= 10 }
            if scale >= 0 { return .exact(n, pow10) }
            let (m, overflow) = n.multipliedReportingOverflow(by: pow10)
            if !overflow { return .exact(m, 1) }
        }
        return .inexact(Double(text) ?? .nan)
    }
}
