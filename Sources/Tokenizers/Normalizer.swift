/// Unicode normalizers of `tokenizer.json` (`NFC`, `NFD`, `NFKC`, `NFKD`, `Sequence` of them).
struct Normalizer {
    enum Form: String {
        case nfc = "NFC", nfd = "NFD", nfkc = "NFKC", nfkd = "NFKD"
    }

    let forms: [Form]
    static let supported = "NFC, NFD, NFKC, NFKD, Sequence"

    init(forms: [Form]) { self.forms = forms }

    init(json node: JSONNode) throws {
        var forms: [Form] = []
        try Normalizer.parse(node, into: &forms)
        self.forms = forms
    }

    private static func parse(_ node: JSONNode, into forms: inout [Form]) throws {
        let type = try node.type()
        if type == "Sequence" {
            for child in try node["normalizers"].array() { try parse(child, into: &forms) }
        } else if let form = Form(rawValue: type) {
            forms.append(form)
        } else {
            throw TokenizerError.unsupported(path: node["type"].path, found: "normalizer \(type.debugDescription)",
                                             supported: supported)
        }
    }

    var isIdentity: Bool { forms.isEmpty }

    /// Normalizes UTF-8 text. ASCII text is unchanged by every supported form.
    func normalize(_ utf8: [UInt8]) -> [UInt8] {
        if forms.isEmpty || utf8.allSatisfy({ $0 < 0x80 }) { return utf8 }
        var scalars = String(decoding: utf8, as: UTF8.self).unicodeScalars.map(\.value)
        for form in forms {
            switch form {
            case .nfc: scalars = UnicodeNormalization.normalize(scalars, form: .nfc)
            case .nfd: scalars = UnicodeNormalization.normalize(scalars, form: .nfd)
            case .nfkc: scalars = UnicodeNormalization.normalize(scalars, form: .nfkc)
            case .nfkd: scalars = UnicodeNormalization.normalize(scalars, form: .nfkd)
            }
        }
        var output: [UInt8] = []
        output.reserveCapacity(utf8.count + 8)
        for scalar in scalars { appendUTF8(scalar, to: &output) }
        return output
    }

    func normalize(_ string: String) -> String {
        String(decoding: normalize(Array(string.utf8)), as: UTF8.self)
    }
}
