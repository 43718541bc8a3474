// A small backtracking regex engine over Unicode scalars, with the semantics of Oniguruma (which
// the `tokenizers` library uses for its `Split` and `ByteLevel` pre-tokenizers): leftmost-first
// alternation, greedy and lazy quantifiers, `\p{..}` general categories, `\s` as White_Space,
// `(?i:...)`, lookahead `(?=...)`/`(?!...)`, character classes with ranges and negation.
//
// Patterns compile to a tiny instruction set run by an explicit-stack backtracking machine; the
// pre-tokenizer patterns of GPT-2, Llama 3, Qwen2 and DeepSeek match in time linear in the
// length of each piece.

/// A regex that cannot be compiled, with the position in the pattern.
struct RegexSyntaxError: Error, CustomStringConvertible, Equatable {
    let pattern: String
    let offset: Int
    let message: String
    var description: String { "regex \(pattern.debugDescription) at \(offset): \(message)" }
}

struct CharClass {
    var asciiBits: (UInt64, UInt64) = (0, 0)
    var categoryMask: UInt32 = 0
    var whitespace = false
    var nonWhitespace = false
    var word = false
    var nonWord = false
    var ranges: [ClosedRange<UInt32>] = []
    var negated = false
    var caseInsensitive = false

    /// Membership ignoring negation, for any scalar (used to fill the ASCII bitmap).
    func rawContains(_ scalar: UInt32) -> Bool {
        if categoryMask & UnicodeTables.categoryBit(scalar) != 0 { return true }
        if whitespace || nonWhitespace {
            let isSpace = UnicodeTables.isWhitespace(scalar)
            if (whitespace && isSpace) || (nonWhitespace && !isSpace) { return true }
        }
        if word || nonWord {
            let isWord = UnicodeTables.isWord(scalar)
            if (word && isWord) || (nonWord && !isWord) { return true }
        }
        for range in ranges where range.contains(scalar) { return true }
        return false
    }

    func foldedContains(_ scalar: UInt32) -> Bool {
        if rawContains(scalar) { return true }
        guard caseInsensitive else { return false }
        let folded = UnicodeTables.caseFold(scalar)
        if folded != scalar && rawContains(folded) { return true }
        if let unicodeScalar = Unicode.Scalar(scalar) {
            let upper = unicodeScalar.properties.uppercaseMapping.unicodeScalars
            if upper.count == 1, let value = upper.first?.value, value != scalar, rawContains(value) {
                return true
            }
        }
        return false
    }

    mutating func finalize() {
        var low: UInt64 = 0, high: UInt64 = 0
        for scalar in UInt32(0)..<128 where foldedContains(scalar) != negated {
            if scalar < 64 { low |= 1 << UInt64(scalar) } else { high |= 1 << UInt64(scalar - 64) }
        }
        asciiBits = (low, high)
    }

    @inline(__always)
    func contains(_ scalar: UInt32) -> Bool {
        if scalar < 64 { return asciiBits.0 & (1 << UInt64(scalar)) != 0 }
        if scalar < 128 { return asciiBits.1 & (1 << UInt64(scalar - 64)) != 0 }
        return foldedContains(scalar) != negated
    }
}

final class TokenizerRegex: @unchecked Sendable {
    let pattern: String

    enum Op: UInt8 {
        case char, charFold, charClass, any, split, jump, match, lookahead, negativeLookahead
        case lineStart, lineEnd, textStart, textEnd
    }

    struct Instruction {
        var op: Op
        var a: Int32 = 0
        var b: Int32 = 0
    }

    indirect enum Node {
        case empty
        case char(UInt32, fold: Bool)
        case charClass(Int)
        case any
        case sequence([Node])
        case alternation([Node])
        case repeated(Node, min: Int, max: Int?, greedy: Bool)
        case lookahead(Node, negative: Bool)
        case assertion(Op)
    }

    let program: [Instruction]
    let classes: [CharClass]
    /// The ASCII bitmap of each class, two words per class, for the hot path.
    private let asciiBits: [UInt64]
    /// Scalars that can start a match, when the pattern cannot match empty; nil when unknown.
    private let firstScalars: CharClass?

    /// Compiles `pattern` (Oniguruma/Ruby syntax, the subset tokenizer pre-tokenizers use).
    init(_ pattern: String) throws {
        self.pattern = pattern
        var parser = Parser(pattern: pattern)
        let root = try parser.parseAll()
        var classes = parser.classes
        for index in classes.indices { classes[index].finalize() }
        var compiler = Compiler()
        compiler.compile(root)
        _ = compiler.emit(.match)
        compiler.flushPendingLookaheads()  // lookahead bodies go after the main program
        program = compiler.program
        self.classes = classes
        asciiBits = classes.flatMap { [$0.asciiBits.0, $0.asciiBits.1] }
        firstScalars = TokenizerRegex.firstSet(of: root, classes: classes)
    }

    /// A regex that matches `literal` exactly (the `String` form of a `Split` pattern).
    convenience init(literal: String) throws {
        var escaped = ""
        for character in literal.unicodeScalars {
            if "\\^$.|?*+()[]{}-/".unicodeScalars.contains(character) { escaped.append("\\") }
            escaped.unicodeScalars.append(character)
        }
        try self.init(escaped)
    }

    // MARK: Compilation

    struct Compiler {
        var program: [Instruction] = []
        private var pendingLookaheads: [(node: Node, instructionIndex: Int)] = []

        mutating func emit(_ op: Op, _ a: Int32 = 0, _ b: Int32 = 0) -> Int {
            program.append(Instruction(op: op, a: a, b: b))
            return program.count - 1
        }

        mutating func compile(_ node: Node) {
            switch node {
            case .empty:
                break
            case let .char(value, fold):
                _ = emit(fold ? .charFold : .char, Int32(bitPattern: value))
            case let .charClass(index):
                _ = emit(.charClass, Int32(index))
            case .any:
                _ = emit(.any)
            case let .sequence(nodes):
                for child in nodes { compile(child) }
            case let .alternation(branches):
                var jumpsToEnd: [Int] = []
                for (index, branch) in branches.enumerated() {
                    if index < branches.count - 1 {
                        let split = emit(.split)
                        program[split].a = Int32(program.count)
                        compile(branch)
                        jumpsToEnd.append(emit(.jump))
                        program[split].b = Int32(program.count)
                    } else {
                        compile(branch)
                    }
                }
                for jump in jumpsToEnd { program[jump].a = Int32(program.count) }
            case let .repeated(child, min, max, greedy):
                for _ in 0..<min { compile(child) }
                if let max {
                    var splits: [Int] = []
                    for _ in min..<max {
                        let split = emit(.split)
                        splits.append(split)
                        let bodyStart = program.count
                        compile(child)
                        if greedy { program[split].a = Int32(bodyStart) } else { program[split].b = Int32(bodyStart) }
                    }
                    for split in splits {
                        if greedy { program[split].b = Int32(program.count) } else { program[split].a = Int32(program.count) }
                    }
                } else {
                    let split = emit(.split)
                    compile(child)
                    _ = emit(.jump, Int32(split))
                    if greedy {
                        program[split].a = Int32(split + 1)
                        program[split].b = Int32(program.count)
                    } else {
                        program[split].a = Int32(program.count)
                        program[split].b = Int32(split + 1)
                    }
                }
            case let .lookahead(child, negative):
                let index = emit(negative ? .negativeLookahead : .lookahead)
                pendingLookaheads.append((child, index))
                program[index].b = Int32(program.count)
            case let .assertion(op):
                _ = emit(op)
            }
        }

        mutating func flushPendingLookaheads() {
            while !pendingLookaheads.isEmpty {
                let (node, index) = pendingLookaheads.removeFirst()
                program[index].a = Int32(program.count)
                compile(node)
                _ = emit(.match)
            }
        }
    }

    /// The scalars that can begin a match, as one class; nil if the pattern can match empty or
    /// begins with something not summarized here (`.`, case-folded literals).
    static func firstSet(of root: Node, classes: [CharClass]) -> CharClass? {
        var result = CharClass()
        var exact = true
        // Returns whether `node` can match empty (so what follows can start the match too).
        func collect(_ node: Node) -> Bool {
            switch node {
            case .empty, .lookahead, .assertion:
                return true
            case let .char(value, fold):
                if fold { exact = false } else { result.ranges.append(value...value) }
                return false
            case let .charClass(index):
                let charClass = classes[index]
                if charClass.negated || charClass.caseInsensitive { exact = false; return false }
                result.categoryMask |= charClass.categoryMask
                result.whitespace = result.whitespace || charClass.whitespace
                result.nonWhitespace = result.nonWhitespace || charClass.nonWhitespace
                result.word = result.word || charClass.word
                result.nonWord = result.nonWord || charClass.nonWord
                result.ranges += charClass.ranges
                return false
            case .any:
                exact = false
                return false
            case let .sequence(nodes):
                for child in nodes where !collect(child) { return false }
                return true
            case let .alternation(nodes):
                var nullable = false
                for child in nodes where collect(child) { nullable = true }
                return nullable
            case let .repeated(child, min, _, _):
                let childNullable = collect(child)
                return min == 0 || childNullable
            }
        }
        let nullable = collect(root)
        guard exact, !nullable else { return nil }
        result.finalize()
        return result
    }

    // MARK: Matching

    /// The end of the match of the whole pattern starting exactly at `start`, or nil.
    /// `text[lower..<upper]` is the subject; anchors and lookaheads see only that range.
    @inline(__always)
    private func match(_ text: UnsafeBufferPointer<UInt32>, at start: Int, lower: Int, upper: Int,
                       program: UnsafeBufferPointer<Instruction>, asciiBits: UnsafeBufferPointer<UInt64>,
                       stack: inout [Int]) -> Int? {
        let base = stack.count
        let result = run(text, pc: 0, position: start, lower: lower, upper: upper, program: program,
                         asciiBits: asciiBits, stack: &stack, base: base)
        stack.removeSubrange(base...)
        return result
    }

    @inline(__always)
    private func classContains(_ index: Int, _ scalar: UInt32, _ asciiBits: UnsafeBufferPointer<UInt64>) -> Bool {
        if scalar < 128 {
            return asciiBits[2 * index + Int(scalar >> 6)] & (1 << UInt64(scalar & 63)) != 0
        }
        return classes[index].contains(scalar)
    }

    private func run(_ text: UnsafeBufferPointer<UInt32>, pc startPC: Int, position: Int, lower: Int,
                     upper: Int, program: UnsafeBufferPointer<Instruction>, asciiBits: UnsafeBufferPointer<UInt64>,
                     stack: inout [Int], base: Int) -> Int? {
        var pc = startPC
        var position = position
        while true {
            let instruction = program[pc]
            var ok = true
            switch instruction.op {
            case .char:
                if position < upper && text[position] == UInt32(bitPattern: instruction.a) {
                    position += 1; pc += 1
                } else { ok = false }
            case .charFold:
                if position < upper
                    && UnicodeTables.caseFold(text[position]) == UInt32(bitPattern: instruction.a) {
                    position += 1; pc += 1
                } else { ok = false }
            case .charClass:
                if position < upper && classContains(Int(instruction.a), text[position], asciiBits) {
                    position += 1; pc += 1
                } else { ok = false }
            case .any:
                if position < upper && text[position] != 0x0A { position += 1; pc += 1 } else { ok = false }
            case .split:
                stack.append(Int(instruction.b))
                stack.append(position)
                pc = Int(instruction.a)
            case .jump:
                pc = Int(instruction.a)
            case .match:
                return position
            case .lookahead, .negativeLookahead:
                let innerBase = stack.count
                let found = run(text, pc: Int(instruction.a), position: position, lower: lower, upper: upper,
                                program: program, asciiBits: asciiBits, stack: &stack, base: innerBase) != nil
                stack.removeSubrange(innerBase...)
                if found == (instruction.op == .lookahead) { pc = Int(instruction.b) } else { ok = false }
            case .lineStart:
                if position == lower || text[position - 1] == 0x0A { pc += 1 } else { ok = false }
            case .lineEnd:
                if position == upper || text[position] == 0x0A { pc += 1 } else { ok = false }
            case .textStart:
                if position == lower { pc += 1 } else { ok = false }
            case .textEnd:
                if position == upper { pc += 1 } else { ok = false }
            }
            if !ok {
                if stack.count == base { return nil }
                position = stack.removeLast()
                pc = stack.removeLast()
            }
        }
    }

    /// All non-overlapping matches in `text[lower..<upper]`, as Oniguruma's `find_iter` gives them
    /// (an empty match right after the previous match is skipped).
    func matches(in text: UnsafeBufferPointer<UInt32>, lower: Int, upper: Int) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var stack: [Int] = []
        matches(in: text, lower: lower, upper: upper, into: &result, stack: &stack)
        return result
    }

    /// Appends the matches to `result`; `stack` is scratch space that callers may reuse.
    func matches(in text: UnsafeBufferPointer<UInt32>, lower: Int, upper: Int, into result: inout [Range<Int>],
                 stack: inout [Int]) {
        program.withUnsafeBufferPointer { program in
            asciiBits.withUnsafeBufferPointer { asciiBits in
                matches(in: text, lower: lower, upper: upper, program: program, asciiBits: asciiBits,
                        into: &result, stack: &stack)
            }
        }
    }

    private func matches(in text: UnsafeBufferPointer<UInt32>, lower: Int, upper: Int,
                         program: UnsafeBufferPointer<Instruction>, asciiBits: UnsafeBufferPointer<UInt64>,
                         into result: inout [Range<Int>], stack: inout [Int]) {
        stack.removeAll(keepingCapacity: true)
        var searchFrom = lower
        var lastMatchEnd: Int? = nil
        let first = firstScalars
        while searchFrom <= upper {
            var found: Range<Int>? = nil
            var start = searchFrom
            while start <= upper {
                if let first {
                    // The pattern cannot match empty: skip scalars that cannot begin a match.
                    while start < upper && !first.contains(text[start]) { start += 1 }
                    if start == upper { break }
                }
                if let end = match(text, at: start, lower: lower, upper: upper, program: program,
                                   asciiBits: asciiBits, stack: &stack) {
                    found = start..<end
                    break
                }
                start += 1
            }
            guard let range = found else { break }
            if range.isEmpty && lastMatchEnd == range.upperBound {
                searchFrom += 1
                continue
            }
            result.append(range)
            searchFrom = range.upperBound
            lastMatchEnd = range.upperBound
            if range.isEmpty && searchFrom == upper { break }
        }
    }

    /// Convenience for tests: the matched substrings of `string`.
    func matches(in string: String) -> [String] {
        let scalars = string.unicodeScalars.map(\.value)
        return scalars.withUnsafeBufferPointer { buffer in
            matches(in: buffer, lower: 0, upper: buffer.count).map { range in
                var piece = String.UnicodeScalarView()
                for value in buffer[range] { piece.append(Unicode.Scalar(value)!) }
                return String(piece)
            }
        }
    }
}

// MARK: - Parser

extension TokenizerRegex {
    struct Parser {
        let pattern: String
        let scalars: [UInt32]
        var position = 0
        var classes: [CharClass] = []

        init(pattern: String) {
            self.pattern = pattern
            self.scalars = pattern.unicodeScalars.map(\.value)
        }

        func error(_ message: String) -> RegexSyntaxError {
            RegexSyntaxError(pattern: pattern, offset: position, message: message)
        }

        var atEnd: Bool { position >= scalars.count }
        func peek(_ offset: Int = 0) -> UInt32? {
            position + offset < scalars.count ? scalars[position + offset] : nil
        }
        func peekIs(_ character: Character, _ offset: Int = 0) -> Bool {
            peek(offset) == character.unicodeScalars.first!.value
        }

        mutating func parseAll() throws -> Node {
            let node = try parseAlternation(caseInsensitive: false)
            if !atEnd { throw error("unbalanced ')'") }
            return node
        }

        mutating func parseAlternation(caseInsensitive: Bool) throws -> Node {
            var fold = caseInsensitive
            var branches: [Node] = [try parseSequence(caseInsensitive: &fold)]
            while peekIs("|") {
                position += 1
                branches.append(try parseSequence(caseInsensitive: &fold))
            }
            return branches.count == 1 ? branches[0] : .alternation(branches)
        }

        mutating func parseSequence(caseInsensitive fold: inout Bool) throws -> Node {
            var items: [Node] = []
            while let next = peek(), next != 0x7C /* | */, next != 0x29 /* ) */ {
                // Inline flag group `(?i)` changes the rest of the enclosing group.
                if peekIs("("), peekIs("?", 1), let flagged = try parseInlineFlags() {
                    fold = flagged
                    continue
                }
                var atom = try parseAtom(caseInsensitive: fold)
                atom = try parseQuantifiers(atom)
                items.append(atom)
            }
            if items.isEmpty { return .empty }
            return items.count == 1 ? items[0] : .sequence(items)
        }

        /// Parses `(?i)` / `(?-i)`; returns the new case-insensitivity or nil if not such a group.
        mutating func parseInlineFlags() throws -> Bool? {
            var offset = 2
            var value = true
            var sawFlag = false
            while let scalar = peek(offset) {
                if scalar == 0x2D /* - */ { value = false; offset += 1; continue }
                if scalar == 0x69 /* i */ { sawFlag = true; offset += 1; continue }
                break
            }
            guard sawFlag, peekIs(")", offset) else { return nil }
            position += offset + 1
            return value
        }

        mutating func parseQuantifiers(_ atom: Node) throws -> Node {
            var node = atom
            while let next = peek() {
                var min = 0
                var max: Int? = nil
                switch next {
                case 0x2A /* * */: position += 1
                case 0x2B /* + */: position += 1; min = 1
                case 0x3F /* ? */: position += 1; max = 1
                case 0x7B /* { */:
                    guard let (lo, hi) = parseCounted() else { return node }
                    min = lo; max = hi
                default:
                    return node
                }
                if case .lookahead = node { throw error("quantifier after a lookahead") }
                if case .assertion = node { throw error("quantifier after an anchor") }
                var greedy = true
                if peekIs("?") { position += 1; greedy = false }
                else if peekIs("+") { throw error("possessive quantifiers are not supported") }
                if let max, max < min { throw error("bad repetition range {\(min),\(max)}") }
                if (max ?? min) > 1000 { throw error("repetition count above 1000") }
                if max == nil && Parser.canMatchEmpty(node) {
                    throw error("unbounded repetition of a sub-pattern that can match empty")
                }
                node = .repeated(node, min: min, max: max, greedy: greedy)
            }
            return node
        }

        /// `{n}`, `{n,}`, `{n,m}`, `{,m}`; nil (and no consumption) when `{` is a literal.
        mutating func parseCounted() -> (Int, Int?)? {
            var offset = 1
            func number(_ offset: inout Int) -> Int? {
                var value: Int? = nil
                while let scalar = peek(offset), scalar >= 0x30, scalar <= 0x39 {
                    value = (value ?? 0) * 10 + Int(scalar - 0x30)
                    if value! > 100_000 { return nil }
                    offset += 1
                }
                return value
            }
            let low = number(&offset)
            var high: Int?
            if peekIs(",", offset) {
                offset += 1
                high = number(&offset)
                guard peekIs("}", offset), low != nil || high != nil else { return nil }
                position += offset + 1
                return (low ?? 0, high)
            }
            guard let low, peekIs("}", offset) else { return nil }
            position += offset + 1
            return (low, low)
        }

        static func canMatchEmpty(_ node: Node) -> Bool {
            switch node {
            case .empty, .lookahead, .assertion: return true
            case .char, .charClass, .any: return false
            case let .sequence(nodes): return nodes.allSatisfy(canMatchEmpty)
            case let .alternation(nodes): return nodes.contains(where: canMatchEmpty)
            case let .repeated(child, min, _, _): return min == 0 || canMatchEmpty(child)
            }
        }

        mutating func parseAtom(caseInsensitive fold: Bool) throws -> Node {
            guard let scalar = peek() else { throw error("unexpected end of pattern") }
            switch scalar {
            case 0x28 /* ( */:
                position += 1
                if peekIs("?") {
                    position += 1
                    guard let kind = peek() else { throw error("unterminated group") }
                    switch kind {
                    case 0x3A /* : */:
                        position += 1
                        return try finishGroup(caseInsensitive: fold)
                    case 0x3D /* = */, 0x21 /* ! */:
                        position += 1
                        let body = try finishGroup(caseInsensitive: fold)
                        return .lookahead(body, negative: kind == 0x21)
                    case 0x69 /* i */, 0x2D /* - */:
                        var value = true
                        while let flag = peek(), flag == 0x69 || flag == 0x2D {
                            value = flag != 0x2D ? value : false
                            position += 1
                        }
                        guard peekIs(":") else { throw error("unsupported group flags") }
                        position += 1
                        return try finishGroup(caseInsensitive: value)
                    case 0x3C /* < */:
                        if peekIs("=", 1) || peekIs("!", 1) { throw error("lookbehind is not supported") }
                        // Named capture group `(?<name>...)`: captures are not used, treat as a group.
                        while let next = peek(), next != 0x3E /* > */ { position += 1 }
                        guard !atEnd else { throw error("unterminated group name") }
                        position += 1
                        return try finishGroup(caseInsensitive: fold)
                    case 0x3E /* > */:
                        throw error("atomic groups are not supported")
                    default:
                        throw error("unsupported group syntax")
                    }
                }
                return try finishGroup(caseInsensitive: fold)
            case 0x5B /* [ */:
                position += 1
                return .charClass(try parseClass(caseInsensitive: fold))
            case 0x2E /* . */:
                position += 1
                return .any
            case 0x5E /* ^ */:
                position += 1
                return .assertion(.lineStart)
            case 0x24 /* $ */:
                position += 1
                return .assertion(.lineEnd)
            case 0x5C /* \ */:
                return try parseEscape(caseInsensitive: fold)
            case 0x29 /* ) */:
                throw error("unbalanced ')'")
            case 0x2A, 0x2B, 0x3F:
                throw error("quantifier without a preceding atom")
            default:
                position += 1
                return literal(scalar, fold: fold)
            }
        }

        func literal(_ scalar: UInt32, fold: Bool) -> Node {
            if fold {
                let folded = UnicodeTables.caseFold(scalar)
                return .char(folded, fold: true)
            }
            return .char(scalar, fold: false)
        }

        mutating func finishGroup(caseInsensitive fold: Bool) throws -> Node {
            let body = try parseAlternation(caseInsensitive: fold)
            guard peekIs(")") else { throw error("missing ')'") }
            position += 1
            return body
        }

        mutating func addClass(_ charClass: CharClass) -> Int {
            classes.append(charClass)
            return classes.count - 1
        }

        /// An escape outside a class: a shorthand class, an anchor or a literal.
        mutating func parseEscape(caseInsensitive fold: Bool) throws -> Node {
            position += 1
            guard let scalar = peek() else { throw error("trailing backslash") }
            switch scalar {
            case 0x41 /* A */: position += 1; return .assertion(.textStart)
            case 0x7A /* z */, 0x5A /* Z */: position += 1; return .assertion(.textEnd)
            case 0x62 /* b */, 0x42 /* B */, 0x47 /* G */:
                throw error("word-boundary and \\G anchors are not supported")
            default: break
            }
            var charClass = CharClass()
            charClass.caseInsensitive = fold
            if try parseShorthand(into: &charClass) {
                return .charClass(addClass(charClass))
            }
            let value = try parseEscapedScalar()
            return literal(value, fold: fold)
        }

        /// `\s \S \d \D \w \W \h \H \p{..} \P{..}` after the backslash; adds to `charClass`.
        /// Returns false (consuming nothing) for any other escape.
        mutating func parseShorthand(into charClass: inout CharClass) throws -> Bool {
            guard let scalar = peek() else { return false }
            let allCategories: UInt32 = (1 << 30) - 1
            switch scalar {
            case 0x73 /* s */: charClass.whitespace = true
            case 0x53 /* S */: charClass.nonWhitespace = true
            case 0x64 /* d */: charClass.categoryMask |= UnicodeTables.mask([.Nd])
            case 0x44 /* D */: charClass.categoryMask |= allCategories & ~UnicodeTables.mask([.Nd])
            case 0x77 /* w */: charClass.word = true
            case 0x57 /* W */: charClass.nonWord = true
            case 0x68 /* h */: charClass.ranges += [0x30...0x39, 0x41...0x46, 0x61...0x66]
            case 0x48 /* H */:
                charClass.ranges += [0...0x2F, 0x3A...0x40, 0x47...0x60, 0x67...0x10FFFF]
            case 0x70 /* p */, 0x50 /* P */:
                position += 1
                guard peekIs("{") else { throw error("expected '{' after \\p") }
                position += 1
                var name = ""
                var negated = scalar == 0x50
                if peekIs("^") { negated.toggle(); position += 1 }
                while let next = peek(), next != 0x7D /* } */ {
                    name.unicodeScalars.append(Unicode.Scalar(next)!)
                    position += 1
                }
                guard !atEnd else { throw error("unterminated \\p{") }
                guard let mask = UnicodeTables.categoryMask(named: name) else {
                    throw error("unsupported property \\p{\(name)} (general categories only)")
                }
                charClass.categoryMask |= negated ? allCategories & ~mask : mask
            default:
                return false
            }
            position += 1
            return true
        }

        /// A single escaped scalar after the backslash: `\n`, `\x41`, `\x{1F600}`, `\u0041`, `\.`…
        mutating func parseEscapedScalar() throws -> UInt32 {
            guard let scalar = peek() else { throw error("trailing backslash") }
            position += 1
            switch scalar {
            case 0x6E /* n */: return 0x0A
            case 0x72 /* r */: return 0x0D
            case 0x74 /* t */: return 0x09
            case 0x66 /* f */: return 0x0C
            case 0x76 /* v */: return 0x0B
            case 0x61 /* a */: return 0x07
            case 0x65 /* e */: return 0x1B
            case 0x30 /* 0 */: return 0
            case 0x78 /* x */:
                if peekIs("{") {
                    position += 1
                    let value = try hexDigits(maxCount: 8)
                    guard peekIs("}") else { throw error("unterminated \\x{") }
                    position += 1
                    return value
                }
                return try hexDigits(maxCount: 2)
            case 0x75 /* u */:
                return try hexDigits(maxCount: 4, exactly: true)
            default:
                if (scalar >= 0x41 && scalar <= 0x5A) || (scalar >= 0x61 && scalar <= 0x7A)
                    || (scalar >= 0x31 && scalar <= 0x39) {
                    position -= 1
                    throw error("unsupported escape \\\(Unicode.Scalar(scalar)!)")
                }
                return scalar
            }
        }

        mutating func hexDigits(maxCount: Int, exactly: Bool = false) throws -> UInt32 {
            var value: UInt32 = 0
            var count = 0
            while count < maxCount, let scalar = peek(), let digit = Parser.hexValue(scalar) {
                value = value * 16 + digit
                count += 1
                position += 1
            }
            if count == 0 || (exactly && count != maxCount) { throw error("bad hexadecimal escape") }
            guard value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else {
                throw error("escape outside Unicode scalar values")
            }
            return value
        }

        static func hexValue(_ scalar: UInt32) -> UInt32? {
            switch scalar {
            case 0x30...0x39: return scalar - 0x30
            case 0x41...0x46: return scalar - 0x41 + 10
            case 0x61...0x66: return scalar - 0x61 + 10
            default: return nil
            }
        }

        /// After `[`: items until the closing `]`.
        mutating func parseClass(caseInsensitive fold: Bool) throws -> Int {
            var charClass = CharClass()
            charClass.caseInsensitive = fold
            if peekIs("^") { charClass.negated = true; position += 1 }
            var first = true
            while true {
                guard let scalar = peek() else { throw error("unterminated character class") }
                if scalar == 0x5D /* ] */ && !first { position += 1; break }
                first = false
                if scalar == 0x5B /* [ */ { throw error("nested character classes are not supported") }
                if scalar == 0x26 /* & */ && peekIs("&", 1) {
                    throw error("character class intersection is not supported")
                }
                var low: UInt32
                if scalar == 0x5C /* \ */ {
                    position += 1
                    if try parseShorthand(into: &charClass) { continue }
                    low = try parseEscapedScalar()
                } else {
                    low = scalar
                    position += 1
                }
                // A range `a-z` (a '-' before ']' is a literal).
                if peekIs("-"), let after = peek(1), after != 0x5D /* ] */ {
                    position += 1
                    var high: UInt32
                    if after == 0x5C {
                        position += 1
                        high = try parseEscapedScalar()
                    } else {
                        high = after
                        position += 1
                    }
                    guard low <= high else { throw error("bad character range") }
                    charClass.ranges.append(low...high)
                } else {
                    charClass.ranges.append(low...low)
                }
                _ = low
            }
            return addClass(charClass)
        }
    }
}
