// Unicode character data for the pre-tokenizer regexes and the added-token word rules.
//
// One byte per scalar value: the general category (0...29, see `Category`) in the low five bits,
// Rust regex's `\w` in bit 5, Oniguruma's `\w` in bit 6 and White_Space in bit 7. Built once, on first use (about 1.1 MB); a lookup is
// then a single load.

enum UnicodeTables {
    /// Index of each general category, used as a bit position in `CharClass.categoryMask`.
    enum Category: UInt8, CaseIterable {
        case Lu, Ll, Lt, Lm, Lo, Mn, Mc, Me, Nd, Nl, No, Pc, Pd, Ps, Pe, Pi, Pf, Po,
             Sm, Sc, Sk, So, Zs, Zl, Zp, Cc, Cf, Cs, Co, Cn
    }

    static let whitespaceBit: UInt8 = 0x80
    /// Oniguruma's `\w` (Unicode Word property), which is more than L|M|Nd|Pc: Nl and
    /// Other_Alphabetic symbols such as Ⓐ are word characters too.
    static let wordBit: UInt8 = 0x40
    /// `\w` of Rust's `regex` crate (its own, older Unicode data), for `single_word` added tokens.
    static let rustWordBit: UInt8 = 0x20

    /// Category masks (bit `Category.rawValue` set for each member) for the one-letter classes.
    static let letterMask: UInt32 = mask([.Lu, .Ll, .Lt, .Lm, .Lo])
    static let markMask: UInt32 = mask([.Mn, .Mc, .Me])
    static let numberMask: UInt32 = mask([.Nd, .Nl, .No])
    static let punctuationMask: UInt32 = mask([.Pc, .Pd, .Ps, .Pe, .Pi, .Pf, .Po])
    static let symbolMask: UInt32 = mask([.Sm, .Sc, .Sk, .So])
    static let separatorMask: UInt32 = mask([.Zs, .Zl, .Zp])
    static let otherMask: UInt32 = mask([.Cc, .Cf, .Cs, .Co, .Cn])

    static func mask(_ categories: [Category]) -> UInt32 {
        categories.reduce(0) { $0 | (1 << UInt32($1.rawValue)) }
    }

    /// The category mask for a `\p{...}` name (one- or two-letter general category names and
    /// their long forms), or nil when the name is not a general category.
    static func categoryMask(named rawName: String) -> UInt32? {
        let name = rawName.replacingOccurrences(of: "_", with: "").replacingOccurrences(of: " ", with: "")
            .lowercased()
        switch name {
        case "l", "letter": return letterMask
        case "m", "mark", "combiningmark": return markMask
        case "n", "number": return numberMask
        case "p", "punctuation", "punct": return punctuationMask
        case "s", "symbol": return symbolMask
        case "z", "separator": return separatorMask
        case "c", "other": return otherMask
        case "lu", "uppercaseletter": return mask([.Lu])
        case "ll", "lowercaseletter": return mask([.Ll])
        case "lt", "titlecaseletter": return mask([.Lt])
        case "lm", "modifierletter": return mask([.Lm])
        case "lo", "otherletter": return mask([.Lo])
        case "mn", "nonspacingmark": return mask([.Mn])
        case "mc", "spacingmark": return mask([.Mc])
        case "me", "enclosingmark": return mask([.Me])
        case "nd", "decimalnumber", "digit": return mask([.Nd])
        case "nl", "letternumber": return mask([.Nl])
        case "no", "othernumber": return mask([.No])
        case "pc", "connectorpunctuation": return mask([.Pc])
        case "pd", "dashpunctuation": return mask([.Pd])
        case "ps", "openpunctuation": return mask([.Ps])
        case "pe", "closepunctuation": return mask([.Pe])
        case "pi", "initialpunctuation": return mask([.Pi])
        case "pf", "finalpunctuation": return mask([.Pf])
        case "po", "otherpunctuation": return mask([.Po])
        case "sm", "mathsymbol": return mask([.Sm])
        case "sc", "currencysymbol": return mask([.Sc])
        case "sk", "modifiersymbol": return mask([.Sk])
        case "so", "othersymbol": return mask([.So])
        case "zs", "spaceseparator": return mask([.Zs])
        case "zl", "lineseparator": return mask([.Zl])
        case "zp", "paragraphseparator": return mask([.Zp])
        case "cc", "control", "cntrl": return mask([.Cc])
        case "cf", "format": return mask([.Cf])
        case "cs", "surrogate": return mask([.Cs])
        case "co", "privateuse": return mask([.Co])
        case "cn", "unassigned": return mask([.Cn])
        case "any": return ~0
        default: return nil
        }
    }

    /// One byte per scalar value 0...0x10FFFF, from Oniguruma's data (`UnicodeCategoryData.swift`,
    /// generated with `tokenizers`), so `\\p{..}` agrees with `tokenizers` even for code points
    /// that Swift's newer Unicode data has assigned since.
    static let table: [UInt8] = {
        var table = [UInt8](repeating: Category.Cn.rawValue, count: 0x110000)
        var runs: [(start: Int, category: UInt8)] = []
        for run in categoryRuns.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = run.split(separator: ":")
            guard parts.count == 2, let start = Int(parts[0], radix: 16), let category = UInt8(parts[1], radix: 16)
            else { preconditionFailure("UnicodeCategoryData: bad run \(run)") }
            runs.append((start, category))
        }
        table.withUnsafeMutableBufferPointer { buffer in
            for (index, run) in runs.enumerated() {
                let end = index + 1 < runs.count ? runs[index + 1].start : 0x110000
                for value in run.start..<end { buffer[value] = run.category }
            }
            for (ranges, bit) in [(whitespaceRanges, whitespaceBit), (wordRanges, wordBit),
                                  (rustWordRanges, rustWordBit)] {
                for range in ranges.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                    let bounds = range.split(separator: "-").compactMap { Int($0, radix: 16) }
                    precondition(bounds.count == 2, "UnicodeCategoryData: bad range \(range)")
                    for value in bounds[0]...bounds[1] { buffer[value] |= bit }
                }
            }
        }
        return table
    }()

    @inline(__always)
    static func isWhitespace(_ scalar: UInt32) -> Bool {
        scalar < 0x110000 && table[Int(scalar)] & whitespaceBit != 0
    }

    @inline(__always)
    static func isWord(_ scalar: UInt32) -> Bool {
        scalar < 0x110000 && table[Int(scalar)] & wordBit != 0
    }

    @inline(__always)
    static func categoryBit(_ scalar: UInt32) -> UInt32 {
        scalar < 0x110000 ? 1 << UInt32(table[Int(scalar)] & 0x1F) : 1 << UInt32(Category.Cn.rawValue)
    }

    /// Rust's `char::is_numeric` inside `tokenizers` (its Unicode data), for `Digits`.
    static func isNumeric(_ scalar: UInt32) -> Bool {
        if scalar < 0x80 { return scalar >= 0x30 && scalar <= 0x39 }
        var low = 0, high = rustNumeric.count
        while low < high {
            let middle = (low + high) / 2
            if rustNumeric[middle].upperBound < scalar { low = middle + 1 } else { high = middle }
        }
        return low < rustNumeric.count && rustNumeric[low].contains(scalar)
    }

    private static let rustNumeric: [ClosedRange<UInt32>] = rustNumericRanges
        .split(whereSeparator: { $0 == " " || $0 == "\n" }).map { range in
            let bounds = range.split(separator: "-").map { UInt32($0, radix: 16)! }
            return bounds[0]...bounds[1]
        }

    /// `\w` of Rust's `regex` crate inside `tokenizers`, for added tokens' `single_word` rule.
    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        table[Int(scalar.value)] & rustWordBit != 0
    }

    /// Simple case folding for the case-insensitive regex groups, `(?i:'s|'t|...)`: lowercase
    /// mapping when it is a single scalar, plus the folds that differ from lowercasing.
    static func caseFold(_ scalar: UInt32) -> UInt32 {
        if scalar < 0x80 {
            return (scalar >= 0x41 && scalar <= 0x5A) ? scalar + 0x20 : scalar
        }
        switch scalar {
        case 0x017F: return 0x73  // LATIN SMALL LETTER LONG S → s
        case 0x212A: return 0x6B  // KELVIN SIGN → k
        case 0x212B: return 0xE5  // ANGSTROM SIGN → å
        case 0x03C2: return 0x03C3  // final sigma → σ
        case 0x1E9E: return 0xDF
        default: break
        }
        guard let unicodeScalar = Unicode.Scalar(scalar) else { return scalar }
        let lower = unicodeScalar.properties.lowercaseMapping.unicodeScalars
        if lower.count == 1, let first = lower.first { return first.value }
        return scalar
    }
}
