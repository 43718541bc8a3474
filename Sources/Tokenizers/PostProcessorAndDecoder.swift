/// Post-processors of `tokenizer.json`, for single sequences: what `add_special_tokens=True` adds.
struct PostProcessor {
    enum Piece: Equatable {
        case special([Int])
        case sequence
    }

    /// The template for one sequence; nil when the processor adds nothing (`ByteLevel`).
    let template: [Piece]?
    static let supported = "ByteLevel, TemplateProcessing, BertProcessing, RobertaProcessing, Sequence"

    init(template: [Piece]?) { self.template = template }

    init(json node: JSONNode) throws {
        var template: [Piece]? = nil
        try PostProcessor.parse(node, into: &template)
        self.template = template
    }

    private static func parse(_ node: JSONNode, into template: inout [Piece]?) throws {
        let type = try node.type()
        switch type {
        case "ByteLevel":
            break  // only trims offsets
        case "Sequence":
            for child in try node["processors"].array() { try parse(child, into: &template) }
        case "TemplateProcessing":
            let specialsNode = node["special_tokens"]
            let specials = try specialsNode.object()
            var pieces: [Piece] = []
            for item in try node["single"].array() {
                if !item["SpecialToken"].isNull {
                    let name = try item["SpecialToken"]["id"].string()
                    guard specials[name] != nil else {
                        throw specialsNode.malformed("an entry for \(name.debugDescription) used by \(item.path)")
                    }
                    let ids = try specialsNode[name]["ids"].array().map { try $0.int() }
                    pieces.append(.special(ids))
                } else if !item["Sequence"].isNull {
                    let name = try item["Sequence"]["id"].string()
                    guard name == "A" else {
                        throw item["Sequence"]["id"].malformed("\"A\" in the single-sequence template")
                    }
                    pieces.append(.sequence)
                } else {
                    throw item.malformed("{\"SpecialToken\": ...} or {\"Sequence\": ...}")
                }
            }
            template = try compose(template, pieces, node)
        case "BertProcessing", "RobertaProcessing":
            let cls = try node["cls"].array()
            let sep = try node["sep"].array()
            guard cls.count == 2, sep.count == 2 else { throw node.malformed("cls and sep as [token, id]") }
            template = try compose(template, [.special([try cls[1].int()]), .sequence, .special([try sep[1].int()])], node)
        default:
            throw TokenizerError.unsupported(path: node["type"].path, found: "post-processor \(type.debugDescription)",
                                             supported: supported)
        }
    }

    /// Two templates in a `Sequence` apply one after the other.
    private static func compose(_ outer: [Piece]?, _ inner: [Piece], _ node: JSONNode) throws -> [Piece] {
        guard let outer else { return inner }
        var result: [Piece] = []
        for piece in inner {
            if piece == .sequence { result += outer } else { result.append(piece) }
        }
        return result
    }

    func process(_ ids: [Int]) -> [Int] {
        guard let template else { return ids }
        var result: [Int] = []
        result.reserveCapacity(ids.count + 4)
        for piece in template {
            switch piece {
            case let .special(specialIDs): result += specialIDs
            case .sequence: result += ids
            }
        }
        return result
    }
}

/// Decoders of `tokenizer.json`: turn the token strings back into text.
struct Decoder {
    enum Step {
        case byteLevel
        case byteFallback
        case fuse
    }

    let steps: [Step]
    static let supported = "ByteLevel, ByteFallback, Fuse, Sequence"

    init(steps: [Step]) { self.steps = steps }

    init(json node: JSONNode) throws {
        var steps: [Step] = []
        try Decoder.parse(node, into: &steps)
        self.steps = steps
    }

    private static func parse(_ node: JSONNode, into steps: inout [Step]) throws {
        let type = try node.type()
        switch type {
        case "Sequence": for child in try node["decoders"].array() { try parse(child, into: &steps) }
        case "ByteLevel": steps.append(.byteLevel)
        case "ByteFallback": steps.append(.byteFallback)
        case "Fuse": steps.append(.fuse)
        default:
            throw TokenizerError.unsupported(path: node["type"].path, found: "decoder \(type.debugDescription)",
                                             supported: supported)
        }
    }

    /// `decode_chain` of each step, then the pieces joined.
    func decode(_ tokens: [String]) -> String {
        var pieces = tokens
        for step in steps {
            switch step {
            case .byteLevel:
                var bytes: [UInt8] = []
                for token in pieces {
                    if let raw = ByteLevel.decode(token: token) { bytes += raw } else { bytes += Array(token.utf8) }
                }
                pieces = [String(decoding: bytes, as: UTF8.self)]
            case .fuse:
                pieces = [pieces.joined()]
            case .byteFallback:
                var result: [String] = []
                var pending: [UInt8] = []
                func flush() {
                    guard !pending.isEmpty else { return }
                    let string = String(decoding: pending, as: UTF8.self)
                    if Array(string.utf8) == pending {
                        result.append(string)
                    } else {
                        result.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
                    }
                    pending.removeAll()
                }
                for token in pieces {
                    if let byte = Decoder.fallbackByte(token) { pending.append(byte) } else { flush(); result.append(token) }
                }
                flush()
                pieces = result
            }
        }
        return pieces.joined()
    }

    /// `<0x41>` → 0x41.
    static func fallbackByte(_ token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, utf8[0] == 0x3C, utf8[1] == 0x30, utf8[2] == 0x78, utf8[5] == 0x3E else { return nil }
        return UInt8(String(decoding: utf8[3...4], as: UTF8.self), radix: 16)
    }
}
