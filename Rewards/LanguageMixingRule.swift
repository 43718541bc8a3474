import RewardSystem

/// `language_mixing`: penalizes reasoning that mixes writing systems (DeepSeek-R1's language-consistency
/// reward, counted on letters rather than words).
///
/// The letters of the reasoning (the `<think>` block when there is one, else the whole completion) are
/// sorted by script: Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Thai, Hangul, Kana, Han.
/// Value = −penalty × (share of letters outside the target script): 0 for a single script, down to
/// −penalty when no letter is in the target script. The target is the `script` option, or with
/// `script: auto` the script most letters are in. A completion without letters scores 0.
public struct LanguageMixingRule: ConfigurableRule {
    public static let ruleName = "language_mixing"
    public static let summary = "−penalty × share of the reasoning's letters outside the target script (auto: the majority script)"
    public static let optionHelp: [RuleOptionHelp] = [
        RuleOptionHelp("script", default: "auto", "auto, or one of: \(Script.allCases.map(\.rawValue).joined(separator: ", "))"),
        RuleOptionHelp("penalty", default: "1.0", "the value is −penalty when no letter is in the target script"),
    ]

    public enum Script: String, CaseIterable, Sendable {
        case latin, cyrillic, greek, arabic, hebrew, devanagari, thai, hangul, kana, han

        init?(_ scalar: Unicode.Scalar) {
            switch scalar.value {
            case 0x41...0x5A, 0x61...0x7A, 0xC0...0x24F, 0x1E00...0x1EFF: self = .latin
            case 0x370...0x3FF, 0x1F00...0x1FFF: self = .greek
            case 0x400...0x52F: self = .cyrillic
            case 0x590...0x5FF: self = .hebrew
            case 0x600...0x6FF, 0x750...0x77F: self = .arabic
            case 0x900...0x97F: self = .devanagari
            case 0xE00...0xE7F: self = .thai
            case 0x1100...0x11FF, 0xAC00...0xD7AF: self = .hangul
            case 0x3040...0x30FF: self = .kana
            case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0xF900...0xFAFF: self = .han
            default: return nil
            }
        }
    }

    public var script: Script?
    public var penalty: Double

    public init(options: RuleOptions) throws {
        let choice = try options.choice("script", from: ["auto"] + Script.allCases.map(\.rawValue), default: "auto")
        script = Script(rawValue: choice)
        penalty = try options.double("penalty", default: 1.0, range: 0...1e9)
    }

    public func score(_ completion: Completion, for sample: Sample) throws -> RewardOutcome {
        var reasoning = Substring(completion.text)
        if let open = reasoning.range(of: "<think>") {
            reasoning = reasoning[open.upperBound...]
            if let close = reasoning.range(of: "</think>") { reasoning = reasoning[..<close.lowerBound] }
        }
        let scripts = Script.allCases
        var counts = [Int](repeating: 0, count: scripts.count)
        var letters = 0
        for scalar in reasoning.unicodeScalars {
            if scalar.value < 0x80 {
                let v = scalar.value | 0x20  // ASCII letters, fast path
                if v >= 0x61 && v <= 0x7A { counts[0] += 1; letters += 1 }
                continue
            }
            guard let s = Script(scalar) else { continue }
            counts[scripts.firstIndex(of: s) ?? 0] += 1
            letters += 1
        }
        guard letters > 0 else { return RewardOutcome(value: 0) }
        // `auto`: the script with most letters; ties go to the one listed first.
        var majority = 0
        for k in 1..<scripts.count where counts[k] > counts[majority] { majority = k }
        let targetIndex = script.flatMap { scripts.firstIndex(of: $0) } ?? majority
        let outside = letters - counts[targetIndex]
        return RewardOutcome(value: -penalty * Double(outside) / Double(letters) + 0.0)
    }
}
