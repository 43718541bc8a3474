// GPT-2's reversible byte ↔ character map (`bytes_to_unicode`): printable Latin-1 bytes map to
// themselves, the other 68 bytes to U+0100... in order. Byte-level BPE vocabularies are written in
// these characters.

enum ByteLevel {
    /// Scalar value of the character that stands for each byte.
    static let byteToScalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte)
                || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// The byte a character stands for, or nil for characters outside the byte-level alphabet.
    static func byte(forScalar scalar: UInt32) -> UInt8? {
        if scalar < 256 {
            let printable = (0x21...0x7E).contains(scalar) || (0xA1...0xAC).contains(scalar)
                || (0xAE...0xFF).contains(scalar)
            return printable ? UInt8(scalar) : nil
        }
        guard scalar < 256 + 68 else { return nil }
        return scalarToByteHigh[Int(scalar - 256)]
    }

    private static let scalarToByteHigh: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 68)
        for byte in 0..<256 where byteToScalar[byte] >= 256 {
            table[Int(byteToScalar[byte] - 256)] = UInt8(byte)
        }
        return table
    }()

    /// The UTF-8 bytes of the byte-level string standing for `bytes`.
    static func encode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        for byte in bytes { appendUTF8(byteToScalar[Int(byte)], to: &output) }
        return output
    }

    /// The raw bytes a byte-level token stands for, or nil if one of its characters is outside
    /// the byte-level alphabet.
    static func decode(token: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.utf8.count)
        for scalar in token.unicodeScalars {
            guard let byte = byte(forScalar: scalar.value) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    /// GPT-2's pre-tokenizer pattern, used by `ByteLevel` with `use_regex: true`.
    static let gpt2Pattern =
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
}

@inline(__always)
func appendUTF8(_ scalar: UInt32, to output: inout [UInt8]) {
    if scalar < 0x80 {
        output.append(UInt8(scalar))
    } else if scalar < 0x800 {
        output.append(UInt8(0xC0 | (scalar >> 6)))
        output.append(UInt8(0x80 | (scalar & 0x3F)))
    } else if scalar < 0x10000 {
        output.append(UInt8(0xE0 | (scalar >> 12)))
        output.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
        output.append(UInt8(0x80 | (scalar & 0x3F)))
    } else {
        output.append(UInt8(0xF0 | (scalar >> 18)))
        output.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
        output.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
        output.append(UInt8(0x80 | (scalar & 0x3F)))
    }
}
