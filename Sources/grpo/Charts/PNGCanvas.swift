import Foundation

/// Rasterizes a `ChartDrawing` into RGB pixels: anti-aliased lines and discs (coverage from the distance to the
/// shape), crisp axis-parallel lines, and the bitmap font at `ChartText.scale`.
struct PNGCanvas {
    let width: Int
    let height: Int
    /// RGB, row-major, 3 bytes per pixel.
    private(set) var pixels: [UInt8]

    init(width: Int, height: Int, background: ChartColor = .white) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        for index in 0..<(width * height) {
            pixels[3 * index] = background.red
            pixels[3 * index + 1] = background.green
            pixels[3 * index + 2] = background.blue
        }
    }

    static func render(_ drawing: ChartDrawing) -> Data {
        var canvas = PNGCanvas(width: drawing.width, height: drawing.height)
        for shape in drawing.shapes { canvas.draw(shape) }
        return PNGEncoder.encode(width: canvas.width, height: canvas.height, rgb: canvas.pixels)
    }

    mutating func draw(_ shape: ChartShape) {
        switch shape {
        case let .rectangle(x, y, width, height, fill):
            fillPixels(x0: Int(x.rounded()), y0: Int(y.rounded()), x1: Int((x + width).rounded()), y1: Int((y + height).rounded()),
                 color: fill)
        case let .line(from, to, color, width):
            if from.x == to.x || from.y == to.y {
                // Axis-parallel: whole pixels, `width` rows (or columns) centred on the coordinate.
                let thickness = max(1, Int(width.rounded()))
                let before = (thickness - 1) / 2
                if from.y == to.y {
                    let row = Int(from.y.rounded()) - before
                    fillPixels(x0: Int(min(from.x, to.x).rounded()), y0: row, x1: Int(max(from.x, to.x).rounded()) + 1,
                         y1: row + thickness, color: color)
                } else {
                    let column = Int(from.x.rounded()) - before
                    fillPixels(x0: column, y0: Int(min(from.y, to.y).rounded()), x1: column + thickness,
                         y1: Int(max(from.y, to.y).rounded()) + 1, color: color)
                }
            } else {
                polyline([from, to], color: color, width: width)
            }
        case let .polyline(points, color, width):
            polyline(points, color: color, width: width)
        case let .circle(center, radius, fill):
            var coverage = Coverage(canvas: self, minX: center.x - radius, minY: center.y - radius,
                                    maxX: center.x + radius, maxY: center.y + radius)
            coverage.addDisc(center: center, radius: radius)
            blend(coverage, color: fill)
        case let .text(text, at, anchor, color, bold):
            self.text(text, at: at, anchor: anchor, color: color, bold: bold)
        }
    }

    private mutating func fillPixels(x0: Int, y0: Int, x1: Int, y1: Int, color: ChartColor) {
        for y in max(0, y0)..<max(max(0, y0), min(height, y1)) {
            for x in max(0, x0)..<max(max(0, x0), min(width, x1)) {
                let index = 3 * (y * width + x)
                pixels[index] = color.red
                pixels[index + 1] = color.green
                pixels[index + 2] = color.blue
            }
        }
    }

    /// A polyline's coverage is the maximum over its segments, blended once: joints do not get darker.
    private mutating func polyline(_ points: [ChartPoint], color: ChartColor, width: Double) {
        guard let first = points.first else { return }
        let half = width / 2
        var coverage = Coverage(canvas: self, minX: points.map(\.x).min()! - half, minY: points.map(\.y).min()! - half,
                                maxX: points.map(\.x).max()! + half, maxY: points.map(\.y).max()! + half)
        var previous = first
        for point in points.dropFirst() {
            coverage.addSegment(from: previous, to: point, halfWidth: half)
            previous = point
        }
        if points.count == 1 { coverage.addDisc(center: first, radius: half) }
        blend(coverage, color: color)
    }

    private mutating func blend(_ coverage: Coverage, color: ChartColor) {
        for row in 0..<coverage.rows {
            for column in 0..<coverage.columns {
                let alpha = coverage.values[row * coverage.columns + column]
                guard alpha > 0 else { continue }
                let index = 3 * ((coverage.y0 + row) * width + coverage.x0 + column)
                func mix(_ old: UInt8, _ new: UInt8) -> UInt8 {
                    UInt8((Float(old) * (1 - alpha) + Float(new) * alpha).rounded())
                }
                pixels[index] = mix(pixels[index], color.red)
                pixels[index + 1] = mix(pixels[index + 1], color.green)
                pixels[index + 2] = mix(pixels[index + 2], color.blue)
            }
        }
    }

    private mutating func text(_ text: String, at: ChartPoint, anchor: TextAnchor, color: ChartColor, bold: Bool) {
        let scale = ChartText.scale
        let textWidth = ChartText.width(text)
        let left = Int((anchor == .start ? at.x : anchor == .middle ? at.x - textWidth / 2 : at.x - textWidth).rounded())
        let top = Int(at.y.rounded()) - BitmapFont.capHeight * scale
        for (index, character) in text.enumerated() {
            let x = left + index * BitmapFont.advance * scale
            for (column, row) in BitmapFont.pixels(of: character) {
                let x0 = x + column * scale, y0 = top + row * scale
                fillPixels(x0: x0, y0: y0, x1: x0 + scale + (bold ? 1 : 0), y1: y0 + scale, color: color)
            }
        }
    }
}

/// Anti-aliasing coverage (0…1) of one shape over a pixel window of the canvas.
private struct Coverage {
    let x0: Int, y0: Int, columns: Int, rows: Int
    var values: [Float]

    init(canvas: PNGCanvas, minX: Double, minY: Double, maxX: Double, maxY: Double) {
        x0 = max(0, Int((minX - 1).rounded(.down)))
        y0 = max(0, Int((minY - 1).rounded(.down)))
        let x1 = min(canvas.width, Int((maxX + 2).rounded(.up)))
        let y1 = min(canvas.height, Int((maxY + 2).rounded(.up)))
        columns = max(0, x1 - x0)
        rows = max(0, y1 - y0)
        values = [Float](repeating: 0, count: columns * rows)
    }

    /// Coverage of a pixel whose centre is `distance` from the shape's edge line of half-width `half`.
    private static func coverage(distance: Double, half: Double) -> Float {
        Float(min(1, max(0, half + 0.5 - distance)))
    }

    mutating func addSegment(from a: ChartPoint, to b: ChartPoint, halfWidth half: Double) {
        let dx = b.x - a.x, dy = b.y - a.y
        let lengthSquared = dx * dx + dy * dy
        let minColumn = max(0, Int((min(a.x, b.x) - half - 1).rounded(.down)) - x0)
        let maxColumn = min(columns - 1, Int((max(a.x, b.x) + half + 1).rounded(.up)) - x0)
        let minRow = max(0, Int((min(a.y, b.y) - half - 1).rounded(.down)) - y0)
        let maxRow = min(rows - 1, Int((max(a.y, b.y) + half + 1).rounded(.up)) - y0)
        guard minColumn <= maxColumn, minRow <= maxRow else { return }
        for row in minRow...maxRow {
            let py = Double(y0 + row) + 0.5
            for column in minColumn...maxColumn {
                let px = Double(x0 + column) + 0.5
                var t = lengthSquared > 0 ? ((px - a.x) * dx + (py - a.y) * dy) / lengthSquared : 0
                t = min(1, max(0, t))
                let ex = px - (a.x + t * dx), ey = py - (a.y + t * dy)
                let value = Self.coverage(distance: (ex * ex + ey * ey).squareRoot(), half: half)
                let index = row * columns + column
                if value > values[index] { values[index] = value }
            }
        }
    }

    mutating func addDisc(center: ChartPoint, radius: Double) {
        addSegment(from: center, to: center, halfWidth: radius)
    }
}

/// PNG files, 8-bit RGB, written from scratch: adaptive row filters (the usual minimum-sum heuristic), zlib with
/// a fixed-Huffman deflate over LZ77 matches, CRC-32 per chunk and Adler-32 over the image data.
enum PNGEncoder {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    static func encode(width: Int, height: Int, rgb: [UInt8]) -> Data {
        precondition(rgb.count == width * height * 3, "PNG: \(rgb.count) bytes for a \(width)×\(height) RGB image")
        var header: [UInt8] = []
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]  // 8 bits per channel, truecolour, deflate, adaptive filtering, no interlace
        var file = signature
        appendChunk("IHDR", header, to: &file)
        appendChunk("IDAT", zlib(filtered(width: width, height: height, rgb: rgb)), to: &file)
        appendChunk("IEND", [], to: &file)
        return Data(file)
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to file: inout [UInt8]) {
        file.appendBigEndian(UInt32(data.count))
        let typeAndData = Array(type.utf8) + data
        file += typeAndData
        file.appendBigEndian(crc32(typeAndData))
    }

    /// Each row prefixed by its filter type: of None, Sub, Up and Paeth, the one with the smallest sum of
    /// absolute (signed) residuals.
    static func filtered(width: Int, height: Int, rgb: [UInt8]) -> [UInt8] {
        let stride = width * 3
        var output: [UInt8] = []
        output.reserveCapacity((stride + 1) * height)
        let zero = [UInt8](repeating: 0, count: stride)
        var candidates = [[UInt8]](repeating: [UInt8](repeating: 0, count: stride), count: 4)
        for y in 0..<height {
            let row = Array(rgb[(y * stride)..<((y + 1) * stride)])
            let above = y == 0 ? zero : Array(rgb[((y - 1) * stride)..<(y * stride)])
            for i in 0..<stride {
                let left: UInt8 = i >= 3 ? row[i - 3] : 0
                let upperLeft: UInt8 = i >= 3 ? above[i - 3] : 0
                candidates[0][i] = row[i]
                candidates[1][i] = row[i] &- left
                candidates[2][i] = row[i] &- above[i]
                candidates[3][i] = row[i] &- paeth(left, above[i], upperLeft)
            }
            var best = 0, bestCost = Int.max
            for (type, candidate) in candidates.enumerated() {
                let cost = candidate.reduce(0) { $0 + abs(Int(Int8(bitPattern: $1))) }
                if cost < bestCost { best = type; bestCost = cost }
            }
            output.append(UInt8([0, 1, 2, 4][best]))
            output += candidates[best]
        }
        return output
    }

    static func paeth(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
        let p = Int(a) + Int(b) - Int(c)
        let pa = abs(p - Int(a)), pb = abs(p - Int(b)), pc = abs(p - Int(c))
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c
    }

    /// A zlib stream: header, one fixed-Huffman deflate block, Adler-32.
    static func zlib(_ data: [UInt8]) -> [UInt8] {
        var output: [UInt8] = [0x78, 0x01]  // deflate, 32 KiB window, no dictionary; 0x7801 % 31 == 0
        output += deflate(data)
        output.appendBigEndian(adler32(data))
        return output
    }

    // MARK: Deflate (RFC 1951), fixed Huffman codes

    private static let lengthBases: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59,
                                             67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtraBits: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4,
                                                 5, 5, 5, 5, 0]
    private static let distanceBases: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513,
                                               769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtraBits: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10,
                                                   10, 11, 11, 12, 12, 13, 13]

    /// One final fixed-Huffman block; matches from a hash chain of 3-byte prefixes over a 32 KiB window.
    static func deflate(_ data: [UInt8]) -> [UInt8] {
        var bits = BitWriter()
        bits.write(1, count: 1)  // BFINAL
        bits.write(1, count: 2)  // BTYPE = 01, fixed Huffman
        let window = 32768, maxChain = 24, hashSize = 1 << 15
        var head = [Int32](repeating: -1, count: hashSize)
        var previous = [Int32](repeating: -1, count: window)
        func hash(_ i: Int) -> Int {
            (Int(data[i]) << 10 ^ Int(data[i + 1]) << 5 ^ Int(data[i + 2])) & (hashSize - 1)
        }
        func insert(_ i: Int) {
            guard i + 2 < data.count else { return }
            let h = hash(i)
            previous[i % window] = head[h]
            head[h] = Int32(i)
        }
        var i = 0
        while i < data.count {
            var bestLength = 0, bestDistance = 0
            if i + 2 < data.count {
                var candidate = Int(head[hash(i)])
                var chain = 0
                let limit = min(258, data.count - i)
                while candidate >= 0, i - candidate <= window, chain < maxChain {
                    var length = 0
                    while length < limit, data[candidate + length] == data[i + length] { length += 1 }
                    if length > bestLength {
                        bestLength = length
                        bestDistance = i - candidate
                        if length == limit { break }
                    }
                    let next = Int(previous[candidate % window])
                    if next >= candidate { break }  // the slot was reused by a newer position
                    candidate = next
                    chain += 1
                }
            }
            if bestLength >= 3 {
                writeLength(bestLength, to: &bits)
                writeDistance(bestDistance, to: &bits)
                for position in i..<(i + bestLength) { insert(position) }
                i += bestLength
            } else {
                writeLiteral(Int(data[i]), to: &bits)
                insert(i)
                i += 1
            }
        }
        writeLiteral(256, to: &bits)  // end of block
        return bits.finish()
    }

    private static func writeLiteral(_ symbol: Int, to bits: inout BitWriter) {
        switch symbol {
        case 0...143: bits.writeHuffman(0x30 + symbol, count: 8)
        case 144...255: bits.writeHuffman(0x190 + symbol - 144, count: 9)
        case 256...279: bits.writeHuffman(symbol - 256, count: 7)
        default: bits.writeHuffman(0xC0 + symbol - 280, count: 8)
        }
    }

    private static func writeLength(_ length: Int, to bits: inout BitWriter) {
        var code = lengthBases.count - 1
        while lengthBases[code] > length { code -= 1 }
        writeLiteral(257 + code, to: &bits)
        bits.write(UInt32(length - lengthBases[code]), count: lengthExtraBits[code])
    }

    private static func writeDistance(_ distance: Int, to bits: inout BitWriter) {
        var code = distanceBases.count - 1
        while distanceBases[code] > distance { code -= 1 }
        bits.writeHuffman(code, count: 5)
        bits.write(UInt32(distance - distanceBases[code]), count: distanceExtraBits[code])
    }

    // MARK: Checksums

    private static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    static func adler32<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var a: UInt32 = 1, b: UInt32 = 0
        var pending = 0
        for byte in bytes {
            a += UInt32(byte)
            b += a
            pending += 1
            if pending == 5552 { a %= 65521; b %= 65521; pending = 0 }  // the largest run that cannot overflow
        }
        return (b % 65521) << 16 | (a % 65521)
    }
}

/// Deflate's bit order: values least-significant bit first, Huffman codes most-significant bit first.
private struct BitWriter {
    private var bytes: [UInt8] = []
    private var buffer: UInt64 = 0
    private var count = 0

    mutating func write(_ value: UInt32, count bitCount: Int) {
        guard bitCount > 0 else { return }
        buffer |= UInt64(value & (1 << UInt32(bitCount) - 1)) << UInt64(count)
        count += bitCount
        while count >= 8 {
            bytes.append(UInt8(buffer & 0xFF))
            buffer >>= 8
            count -= 8
        }
    }

    mutating func writeHuffman(_ code: Int, count bitCount: Int) {
        var reversed: UInt32 = 0
        for bit in 0..<bitCount where code >> bit & 1 == 1 { reversed |= 1 << UInt32(bitCount - 1 - bit) }
        write(reversed, count: bitCount)
    }

    mutating func finish() -> [UInt8] {
        if count > 0 { bytes.append(UInt8(buffer & 0xFF)) }
        buffer = 0
        count = 0
        return bytes
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
    }
}
