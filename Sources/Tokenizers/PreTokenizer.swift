// Pre-tokenizers: split normalized text into the pieces the BPE model encodes one at a time.
//
// Pieces are ranges of one shared scalar arena; a step that changes text (ByteLevel's prefix
// space, the byte-level character map) appends the new text to the arena.

/// What happens to the delimiter when splitting (`SplitDelimiterBehavior` in `tokenizers`).
enum SplitBehavior: String {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    static let names = "Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous"
}

enum PreTokenizerStep {
    case split(TokenizerRegex, SplitBehavior, invert: Bool)
    case byteLevel(addPrefixSpace: Bool, regex: TokenizerRegex?)
    case digits(individual: Bool)

    static let supported = "Sequence, Split, ByteLevel, Digits"
}

struct PreTokenizer {
    /// The flattened steps (nested `Sequence`s are inlined, which is what they mean).
    let steps: [PreTokenizerStep]

    /// True when the last step is `ByteLevel`: pieces then go to the model as raw bytes and the
    /// byte-level character map is never materialized.
    var endsWithByteLevel: Bool {
        if case .byteLevel = steps.last { return true }
        return false
    }

    init(steps: [PreTokenizerStep]) { self.steps = steps }

    init(json node: JSONNode) throws {
        var steps: [PreTokenizerStep] = []
        try PreTokenizer.parse(node, into: &steps)
        self.steps = steps
    }

    private static func parse(_ node: JSONNode, into steps: inout [PreTokenizerStep]) throws {
        let type = try node.type()
        switch type {
        case "Sequence":
            for child in try node["pretokenizers"].array() { try parse(child, into: &steps) }
        case "Split":
            let patternNode = node["pattern"]
            let regex: TokenizerRegex
            do {
                if let string = patternNode["String"].value as? String {
                    regex = try TokenizerRegex(literal: string)
                } else if let string = patternNode["Regex"].value as? String {
                    regex = try TokenizerRegex(string)
                } else {
                    throw patternNode.malformed("{\"String\": ...} or {\"Regex\": ...}")
                }
            } catch let error as RegexSyntaxError {
                throw TokenizerError.unsupported(path: patternNode.path + ".Regex", found: "pattern: \(error)",
                                                 supported: "Oniguruma syntax without lookbehind, atomic groups, backreferences")
            }
            let behaviorNode = node["behavior"]
            let behaviorName = try behaviorNode.string()
            guard let behavior = SplitBehavior(rawValue: behaviorName) else {
                throw TokenizerError.unsupported(path: behaviorNode.path, found: "behavior \(behaviorName.debugDescription)",
                                                 supported: SplitBehavior.names)
            }
            steps.append(.split(regex, behavior, invert: try node["invert"].bool(default: false)))
        case "ByteLevel":
            let useRegex = try node["use_regex"].bool(default: true)
            steps.append(.byteLevel(addPrefixSpace: try node["add_prefix_space"].bool(default: true),
                                    regex: useRegex ? ByteLevel.gpt2Regex : nil))
        case "Digits":
            steps.append(.digits(individual: try node["individual_digits"].bool(default: false)))
        default:
            throw TokenizerError.unsupported(path: node["type"].path, found: "pre-tokenizer \(type.debugDescription)",
                                             supported: PreTokenizerStep.supported)
        }
    }

    /// Reusable buffers for `apply`.
    struct Scratch {
        var current: [Range<Int>] = []
        var next: [Range<Int>] = []
        var matches: [Range<Int>] = []
        var stack: [Int] = []
        var utf8: [UInt8] = []
    }

    /// Splits `arena[piece]` through every step; the final pieces (never empty) are left in
    /// `scratch.current`.
    func apply(arena: inout [UInt32], piece: Range<Int>, scratch: inout Scratch) {
        scratch.current.removeAll(keepingCapacity: true)
        if !piece.isEmpty { scratch.current.append(piece) }
        for (index, step) in steps.enumerated() {
            scratch.next.removeAll(keepingCapacity: true)
            let isLast = index == steps.count - 1
            for current in scratch.current {
                PreTokenizer.apply(step, arena: &arena, piece: current, mapBytes: !isLast, scratch: &scratch)
            }
            swap(&scratch.current, &scratch.next)
        }
    }

    /// Convenience: the final pieces as an array.
    func apply(arena: inout [UInt32], piece: Range<Int>) -> [Range<Int>] {
        var scratch = Scratch()
        apply(arena: &arena, piece: piece, scratch: &scratch)
        return scratch.current
    }

    /// One step on one piece; appends to `scratch.next`.
    private static func apply(_ step: PreTokenizerStep, arena: inout [UInt32], piece: Range<Int>,
                              mapBytes: Bool, scratch: inout Scratch) {
        switch step {
        case let .split(regex, behavior, invert):
            scratch.matches.removeAll(keepingCapacity: true)
            arena.withUnsafeBufferPointer {
                regex.matches(in: $0, lower: piece.lowerBound, upper: piece.upperBound, into: &scratch.matches,
                              stack: &scratch.stack)
            }
            split(piece: piece, matches: scratch.matches, behavior: behavior, invert: invert, into: &scratch.next)
        case let .digits(individual):
            scratch.matches.removeAll(keepingCapacity: true)
            for index in piece where UnicodeTables.isNumeric(arena[index]) {
                scratch.matches.append(index..<index + 1)
            }
            split(piece: piece, matches: scratch.matches, behavior: individual ? .isolated : .contiguous,
                  invert: false, into: &scratch.next)
        case let .byteLevel(addPrefixSpace, regex):
            var current = piece
            if addPrefixSpace && arena[piece.lowerBound] != 0x20 {
                let start = arena.count
                arena.append(0x20)
                arena.append(contentsOf: arena[piece])
                current = start..<arena.count
            }
            let firstNew = scratch.next.count
            if let regex {
                scratch.matches.removeAll(keepingCapacity: true)
                arena.withUnsafeBufferPointer {
                    regex.matches(in: $0, lower: current.lowerBound, upper: current.upperBound,
                                  into: &scratch.matches, stack: &scratch.stack)
                }
                split(piece: current, matches: scratch.matches, behavior: .isolated, invert: false, into: &scratch.next)
            } else {
                scratch.next.append(current)
            }
            guard mapBytes else { return }
            // A later step follows: materialize the byte-level characters.
            for index in firstNew..<scratch.next.count {
                let part = scratch.next[index]
                scratch.utf8.removeAll(keepingCapacity: true)
                for position in part { appendUTF8(arena[position], to: &scratch.utf8) }
                let start = arena.count
                for byte in scratch.utf8 { arena.append(ByteLevel.byteToScalar[Int(byte)]) }
                scratch.next[index] = start..<arena.count
            }
        }
    }

    /// `NormalizedString::split`: turn matches into pieces by `behavior`, dropping empty pieces.
    static func split(piece: Range<Int>, matches: [Range<Int>], behavior: SplitBehavior, invert: Bool,
                      into output: inout [Range<Int>]) {
        if behavior == .isolated {
            // Matches and the gaps between them, in order: no intermediate arrays.
            var previous = piece.lowerBound
            for found in matches {
                if previous < found.lowerBound { output.append(previous..<found.lowerBound) }
                if !found.isEmpty { output.append(found) }
                previous = found.upperBound
            }
            if previous < piece.upperBound { output.append(previous..<piece.upperBound) }
            return
        }
        // TokenizerRegex::find_matches: the whole piece as alternating (range, isMatch).
        var events: [(range: Range<Int>, isMatch: Bool)] = []
        var previous = piece.lowerBound
        for found in matches {
            if previous != found.lowerBound { events.append((previous..<found.lowerBound, false)) }
            events.append((found, true))
            previous = found.upperBound
        }
        if previous != piece.upperBound { events.append((previous..<piece.upperBound, false)) }
        if invert { events = events.map { ($0.range, !$0.isMatch) } }

        var result: [Range<Int>] = []
        switch behavior {
        case .isolated:
            result = events.map(\.range)
        case .removed:
            result = events.filter { !$0.isMatch }.map(\.range)
        case .contiguous:
            var previousMatch = false
            for event in events {
                if event.isMatch == previousMatch, let last = result.last {
                    result[result.count - 1] = last.lowerBound..<event.range.upperBound
                } else {
                    result.append(event.range)
                }
                previousMatch = event.isMatch
            }
        case .mergedWithPrevious:
            var previousMatch = false
            for event in events {
                if event.isMatch && !previousMatch, let last = result.last {
                    result[result.count - 1] = last.lowerBound..<event.range.upperBound
                } else {
                    result.append(event.range)
                }
                previousMatch = event.isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for event in events.reversed() {
                if event.isMatch && !previousMatch, let last = result.last {
                    result[result.count - 1] = event.range.lowerBound..<last.upperBound
                } else {
                    result.append(event.range)
                }
                previousMatch = event.isMatch
            }
            result.reverse()
        }
        for range in result where !range.isEmpty { output.append(range) }
    }
}

extension ByteLevel {
    // swiftlint:disable:next force_try
    static let gpt2Regex: TokenizerRegex = try! TokenizerRegex(gpt2Pattern)
}
