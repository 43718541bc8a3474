// Unicode character data for the pre-tokenizer regexes and the added-token word rules.
//
// One byte per scalar value: the general category (0...29, see `GeneralCategoryIndex`) in the low
// five bits and the White_Space property in bit 7. Built once, on first use, from Swift's own
// Unicode data (about 1.1 MB); a lookup is then a single load.

enum UnicodeTables {
    /// Index of each general category, used as a bit position in `CharClass.categoryMask`.
    enum Category: UInt8, CaseIterable {
        case Lu, Ll, Lt, Lm, Lo, Mn, Mc, Me, Nd, Nl, No, Pc, Pd, Ps, Pe, Pi, Pf, Po,
             Sm, Sc, Sk, So, Zs, Zl, Zp, Cc, Cf, Cs, Co, Cn
    }

    static let whitespaceBit: UInt8 = 0x80

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

    /// One byte per scalar value 0...0x10FFFF.
    static let table: [UInt8] = {
        var table = [UInt8](repeating: Category.Cn.rawValue, count: 0x110000)
        table.withUnsafeMutableBufferPointer { buffer in
            for value in 0..<UInt32(0x110000) {
                guard let scalar = Unicode.Scalar(value) else {
                    buffer[Int(value)] = Category.Cs.rawValue
                    continue
                }
                let properties = scalar.properties
                var entry = category(of: properties.generalCategory).rawValue
                if properties.isWhitespace { entry |= whitespaceBit }
                buffer[Int(value)] = entry
            }
        }
        return table
    }()

    private static func category(of category: Unicode.GeneralCategory) -> Category {
        switch category {
        case .uppercaseLetter: return .Lu
        case .lowercaseLetter: return .Ll
        case .titlecaseLetter: return .Lt
        case .modifierLetter: return .Lm
        case .otherLetter: return .Lo
        case .nonspacingMark: return .Mn
        case .spacingMark: return .Mc
        case .enclosingMark: return .Me
        case .decimalNumber: return .Nd
        case .letterNumber: return .Nl
        case .otherNumber: return .No
        case .connectorPunctuation: return .Pc
        case .dashPunctuation: return .Pd
        case .openPunctuation: return .Ps
        case .closePunctuation: return .Pe
        case .initialPunctuation: return .Pi
        case .finalPunctuation: return .Pf
        case .otherPunctuation: return .Po
        case .mathSymbol: return .Sm
        case .currencySymbol: return .Sc
        case .modifierSymbol: return .Sk
        case .otherSymbol: return .So
        case .spaceSeparator: return .Zs
        case .lineSeparator: return .Zl
        case .paragraphSeparator: return .Zp
        case .control: return .Cc
        case .format: return .Cf
        case .surrogate: return .Cs
        case .privateUse: return .Co
        case .unassigned: return .Cn
        @unknown default: return .Cn
        }
    }

    @inline(__always)
    static func isWhitespace(_ scalar: UInt32) -> Bool {
        scalar < 0x110000 && table[Int(scalar)] & whitespaceBit != 0
    }

    @inline(__always)
    static func categoryBit(_ scalar: UInt32) -> UInt32 {
        scalar < 0x110000 ? 1 << UInt32(table[Int(scalar)] & 0x1F) : 1 << UInt32(Category.Cn.rawValue)
    }

    /// Rust's `char::is_alphanumeric`, `\w` of the Rust `regex` crate: used by added tokens'
    /// `single_word` rule.
    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        if properties.isAlphabetic || properties.isJoinControl { return true }
        let bit = categoryBit(scalar.value)
        return bit & (markMask | mask([.Nd, .Pc])) != 0
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
