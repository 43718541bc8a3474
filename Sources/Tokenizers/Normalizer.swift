import Foundation

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
        var string = String(decoding: utf8, as: UTF8.self)
        for form in forms {
            switch form {
            case .nfc: string = string.precomposedStringWithCanonicalMapping
            case .nfd: string = string.decomposedStringWithCanonicalMapping
            case .nfkc: string = string.precomposedStringWithCompatibilityMapping
            case .nfkd: string = string.decomposedStringWithCompatibilityMapping
            }
        }
        return Array(string.utf8)
    }

    func normalize(_ string: String) -> String {
        String(decoding: normalize(Array(string.utf8)), as: UTF8.self)
    }
}
