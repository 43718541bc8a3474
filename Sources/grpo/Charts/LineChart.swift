import Foundation

/// An sRGB colour.
struct ChartColor: Equatable {
    var red: UInt8, green: UInt8, blue: UInt8

    init(_ hex: UInt32) {
        red = UInt8(hex >> 16 & 0xFF)
        green = UInt8(hex >> 8 & 0xFF)
        blue = UInt8(hex & 0xFF)
    }

    var hex: String { String(format: "#%02x%02x%02x", red, green, blue) }

    static let white = ChartColor(0xFFFFFF)
    static let ink = ChartColor(0x222222)
    static let tickLabel = ChartColor(0x444444)
    static let frame = ChartColor(0x8C8C8C)
    static let grid = ChartColor(0xE4E4E4)

    /// Okabe & Ito's colour-blind-safe palette, most distinct first (yellow last: it is faint on white).
    static let series: [ChartColor] = [0x0072B2, 0xE69F00, 0x009E73, 0xD55E00, 0xCC79A7, 0x56B4E9, 0x000000, 0xC9B400]
        .map { ChartColor($0) }
}

struct ChartPoint: Equatable {
    var x: Double, y: Double
}

/// Where a text's x coordinate is: its start, middle or end. Its y coordinate is always the baseline.
enum TextAnchor: String {
    case start, middle, end
}

/// What a chart is made of, in pixels of the final image (y down). `SVGCanvas` and `PNGCanvas` draw the same list.
enum ChartShape {
    case rectangle(x: Double, y: Double, width: Double, height: Double, fill: ChartColor)
    /// A straight line; axis-parallel lines of integer coordinates rasterize crisply.
    case line(from: ChartPoint, to: ChartPoint, color: ChartColor, width: Double)
    case polyline([ChartPoint], color: ChartColor, width: Double)
    case circle(center: ChartPoint, radius: Double, fill: ChartColor)
    case text(String, at: ChartPoint, anchor: TextAnchor, color: ChartColor, bold: Bool)
}

struct ChartDrawing {
    var width: Int
    var height: Int
    var shapes: [ChartShape] = []
}

/// The metrics every canvas agrees on, so that layout is the same in SVG and PNG: the bitmap font drawn at twice
/// its size (12 px advance, 14 px capitals), which a 20 px monospace font matches in SVG.
enum ChartText {
    static let scale = 2
    static let advance = Double(BitmapFont.advance * scale)
    static let capHeight = Double(BitmapFont.capHeight * scale)

    static func width(_ text: String) -> Double { Double(text.count) * advance - Double(scale) }
}

/// Round tick values for an axis: 1, 2, 2.5 or 5 times a power of ten apart, covering the data.
struct AxisTicks: Equatable {
    var lower: Double
    var upper: Double
    var spacing: Double
    var values: [Double]

    /// About `target` ticks whose span covers `minimum...maximum`; `integers` keeps the spacing a whole number.
    init(minimum: Double, maximum: Double, target: Int, integers: Bool = false) {
        var low = minimum, high = maximum
        if !(high > low) {  // one value (or none): a small range around it
            let pad = low == 0 ? 1 : abs(low) * 0.1
            if low == 0 { high = 1 } else { low -= pad; high += pad }
            if integers { low = (low).rounded(.down); high = max(low + 1, high.rounded(.up)) }
        }
        var spacing = AxisTicks.niceSpacing((high - low) / Double(max(1, target - 1)))
        if integers { spacing = max(1, spacing.rounded()) }
        let lower = (low / spacing + 1e-9).rounded(.down) * spacing
        let upper = (high / spacing - 1e-9).rounded(.up) * spacing
        self.spacing = spacing
        self.lower = lower
        self.upper = upper
        let count = Int(((upper - lower) / spacing).rounded())
        values = (0...count).map { index in
            let value = lower + Double(index) * spacing
            return abs(value) < spacing * 1e-9 ? 0 : value
        }
    }

    /// The nicest of 1, 2, 2.5, 5 × 10^k nearest above `raw`.
    static func niceSpacing(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let fraction = raw / magnitude
        let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10
        return nice * magnitude
    }

    /// Labels with just the decimals the spacing needs ("0.25", "1.5e-5" for tiny or huge values).
    var labels: [String] {
        let largest = values.map(abs).max() ?? 0
        if largest >= 1e6 || (largest > 0 && largest < 1e-3) {
            let exponent = Int(log10(largest).rounded(.down))
            let unit = pow(10, Double(exponent))
            let decimals = AxisTicks.decimals(for: spacing / unit)
            return values.map { value in
                value == 0 ? "0" : String(format: "%.\(decimals)fe%d", value / unit, exponent)
            }
        }
        let decimals = AxisTicks.decimals(for: spacing)
        return values.map { String(format: "%.\(decimals)f", $0) }
    }

    /// Decimals needed to write multiples of `spacing` exactly.
    static func decimals(for spacing: Double) -> Int {
        for decimals in 0...12 {
            let scaled = spacing * pow(10, Double(decimals))
            if abs(scaled - scaled.rounded()) < 1e-6 * max(1, scaled) { return decimals }
        }
        return 12
    }
}

/// Panels of line charts stacked vertically, sharing the x axis (steps), one line per run, with a legend.
struct LineChart {
    struct Series {
        /// Index of the run: its colour and its legend entry.
        var run: Int
        var points: [ChartPoint]
        /// Draw a marker at each point (evaluations, which happen every few steps).
        var markers: Bool
    }

    struct Panel {
        var title: String
        var series: [Series]
        /// Counts: ticks only at whole numbers.
        var integerValues = false
    }

    var runNames: [String]
    var panels: [Panel]
    var xLabel = "step"
    var width = 1200

    // Layout, in pixels.
    static let margin = 24.0
    static let plotHeight = 220.0
    static let titleHeight = 34.0
    static let tickLabelHeight = 30.0
    static let panelGap = 18.0
    static let legendRowHeight = 28.0
    static let swatchLength = 30.0
    static let lineWidth = 2.5
    static let markerRadius = 4.5

    static func color(ofRun run: Int) -> ChartColor { ChartColor.series[run % ChartColor.series.count] }

    func drawing() -> ChartDrawing {
        let allPoints = panels.flatMap { $0.series.flatMap(\.points) }
        let xs = allPoints.map(\.x)
        let xMinimum = xs.min() ?? 0, xMaximum = xs.max() ?? 1

        let yTicks = panels.map { panel -> AxisTicks in
            let ys = panel.series.flatMap { $0.points.map(\.y) }
            return AxisTicks(minimum: ys.min() ?? 0, maximum: ys.max() ?? 1, target: 6, integers: panel.integerValues)
        }
        let yLabelWidth = yTicks.flatMap(\.labels).map(ChartText.width).max() ?? 0
        let plotLeft = (Self.margin + yLabelWidth + 12).rounded()
        let plotRight = Double(width) - Self.margin - 8
        let plotWidth = plotRight - plotLeft

        // x ticks: as many as fit with room between labels.
        var xTicks = AxisTicks(minimum: xMinimum, maximum: xMaximum, target: 10, integers: true)
        for target in stride(from: 10, through: 2, by: -1) {
            xTicks = AxisTicks(minimum: xMinimum, maximum: xMaximum, target: target, integers: true)
            let widest = xTicks.labels.map(ChartText.width).max() ?? 0
            let gap = plotWidth / Double(max(1, xTicks.values.count - 1))
            if gap >= widest + 3 * ChartText.advance { break }
        }

        var shapes: [ChartShape] = []
        var y = Self.margin
        y = legend(top: y, left: plotLeft, right: plotRight, into: &shapes)

        for (panel, ticks) in zip(panels, yTicks) {
            y += Self.panelGap
            shapes.append(.text(panel.title, at: ChartPoint(x: plotLeft, y: y + 20), anchor: .start,
                                color: .ink, bold: true))
            let top = (y + Self.titleHeight).rounded()
            let bottom = top + Self.plotHeight
            // A margin inside the frame, so that lines at the outer ticks and markers stay clear of it.
            let xPad = (xTicks.upper - xTicks.lower) * 0.015, yPad = (ticks.upper - ticks.lower) * 0.04
            func px(_ x: Double) -> Double {
                plotLeft + (x - xTicks.lower + xPad) / (xTicks.upper - xTicks.lower + 2 * xPad) * plotWidth
            }
            func py(_ v: Double) -> Double {
                bottom - (v - ticks.lower + yPad) / (ticks.upper - ticks.lower + 2 * yPad) * Self.plotHeight
            }

            shapes.append(.rectangle(x: plotLeft, y: top, width: plotWidth, height: Self.plotHeight, fill: .white))
            for (value, label) in zip(ticks.values, ticks.labels) {
                let ty = py(value).rounded()
                shapes.append(.line(from: ChartPoint(x: plotLeft, y: ty), to: ChartPoint(x: plotRight, y: ty),
                                    color: .grid, width: 1))
                shapes.append(.line(from: ChartPoint(x: plotLeft - 5, y: ty), to: ChartPoint(x: plotLeft, y: ty),
                                    color: .frame, width: 1))
                shapes.append(.text(label, at: ChartPoint(x: plotLeft - 9, y: ty + ChartText.capHeight / 2),
                                    anchor: .end, color: .tickLabel, bold: false))
            }
            for (value, label) in zip(xTicks.values, xTicks.labels) {
                let tx = px(value).rounded()
                shapes.append(.line(from: ChartPoint(x: tx, y: top), to: ChartPoint(x: tx, y: bottom),
                                    color: .grid, width: 1))
                shapes.append(.line(from: ChartPoint(x: tx, y: bottom), to: ChartPoint(x: tx, y: bottom + 5),
                                    color: .frame, width: 1))
                shapes.append(.text(label, at: ChartPoint(x: tx, y: bottom + 9 + ChartText.capHeight),
                                    anchor: .middle, color: .tickLabel, bold: false))
            }
            for (from, to) in [((plotLeft, top), (plotRight, top)), ((plotRight, top), (plotRight, bottom)),
                               ((plotRight, bottom), (plotLeft, bottom)), ((plotLeft, bottom), (plotLeft, top))] {
                shapes.append(.line(from: ChartPoint(x: from.0, y: from.1), to: ChartPoint(x: to.0, y: to.1),
                                    color: .frame, width: 1))
            }
            if panel.series.allSatisfy({ $0.points.isEmpty }) {
                shapes.append(.text("no values for these runs", at: ChartPoint(x: (plotLeft + plotRight) / 2,
                                    y: (top + bottom) / 2), anchor: .middle, color: .tickLabel, bold: false))
            }
            for series in panel.series where !series.points.isEmpty {
                let color = Self.color(ofRun: series.run)
                let points = series.points.map { ChartPoint(x: px($0.x), y: py($0.y)) }
                if points.count > 1 { shapes.append(.polyline(points, color: color, width: Self.lineWidth)) }
                if series.markers || points.count == 1 {
                    for point in points { shapes.append(.circle(center: point, radius: Self.markerRadius, fill: color)) }
                }
            }
            y = bottom + Self.tickLabelHeight
        }
        y += 6
        shapes.append(.text(xLabel, at: ChartPoint(x: (plotLeft + plotRight) / 2, y: y + ChartText.capHeight),
                            anchor: .middle, color: .ink, bold: true))
        y += ChartText.capHeight + Self.margin
        return ChartDrawing(width: width, height: Int(y.rounded(.up)), shapes: shapes)
    }

    /// The legend: a line swatch and the run's name per run, wrapped into rows; returns the y below it.
    private func legend(top: Double, left: Double, right: Double, into shapes: inout [ChartShape]) -> Double {
        var x = left, row = 0
        for (run, name) in runNames.enumerated() {
            let itemWidth = Self.swatchLength + 10 + ChartText.width(name)
            if x > left, x + itemWidth > right { x = left; row += 1 }
            let middle = top + Double(row) * Self.legendRowHeight + ChartText.capHeight / 2
            let color = Self.color(ofRun: run)
            shapes.append(.line(from: ChartPoint(x: x, y: middle), to: ChartPoint(x: x + Self.swatchLength, y: middle),
                                color: color, width: 3))
            shapes.append(.text(name, at: ChartPoint(x: x + Self.swatchLength + 10, y: middle + ChartText.capHeight / 2),
                                anchor: .start, color: .ink, bold: false))
            x += itemWidth + 36
        }
        return top + Double(row) * Self.legendRowHeight + ChartText.capHeight
    }
}
