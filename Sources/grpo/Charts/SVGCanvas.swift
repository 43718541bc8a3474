/// Writes a `ChartDrawing` as an SVG document. Text is a 20 px monospace font, whose 12 px advance is the width
/// the layout reserved for it.
enum SVGCanvas {
    static func render(_ drawing: ChartDrawing) -> String {
        var lines = [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(drawing.width)" height="\#(drawing.height)" "#
                + #"viewBox="0 0 \#(drawing.width) \#(drawing.height)" "#
                + #"font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="20">"#,
            ##"<rect width="100%" height="100%" fill="#ffffff"/>"##,
        ]
        for shape in drawing.shapes {
            switch shape {
            case let .rectangle(x, y, width, height, fill):
                lines.append(#"<rect x="\#(n(x))" y="\#(n(y))" width="\#(n(width))" height="\#(n(height))" fill="\#(fill.hex)"/>"#)
            case let .line(from, to, color, width):
                // Half-pixel offsets put a 1 px axis-parallel line on a pixel row instead of across two.
                let offset = width.truncatingRemainder(dividingBy: 2) == 1 ? 0.5 : 0
                let (dx, dy) = from.y == to.y ? (0.0, offset) : from.x == to.x ? (offset, 0.0) : (0.0, 0.0)
                lines.append(#"<line x1="\#(n(from.x + dx))" y1="\#(n(from.y + dy))" x2="\#(n(to.x + dx))" "#
                    + #"y2="\#(n(to.y + dy))" stroke="\#(color.hex)" stroke-width="\#(n(width))"/>"#)
            case let .polyline(points, color, width):
                let coordinates = points.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: " ")
                lines.append(#"<polyline points="\#(coordinates)" fill="none" stroke="\#(color.hex)" "#
                    + #"stroke-width="\#(n(width))" stroke-linejoin="round" stroke-linecap="round"/>"#)
            case let .circle(center, radius, fill):
                lines.append(#"<circle cx="\#(n(center.x))" cy="\#(n(center.y))" r="\#(n(radius))" fill="\#(fill.hex)"/>"#)
            case let .text(text, at, anchor, color, bold):
                lines.append(#"<text x="\#(n(at.x))" y="\#(n(at.y))" text-anchor="\#(anchor.rawValue)" fill="\#(color.hex)""#
                    + (bold ? #" font-weight="bold""# : "") + ">\(escaped(text))</text>")
            }
        }
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A coordinate with at most two decimals, no trailing zeros.
    private static func n(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    static func escaped(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }
}
