import Foundation
import XCTest
import CommandLineSupport
import Trajectories
@testable import grpo

/// `grpo compare` run as a user runs it (the built executable on run files the tests write), and the pieces of
/// its chart: tick choice, the bitmap font, the PNG encoder.
final class CompareCommandTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "compare-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    static let experiment = """
        # arithmetic
        seed: 7
        training:
          beta: 0.04
          learning_rate: 1.0e-6
        rewards:
          - {name: correctness, weight: 1.0}
          - {name: format, weight: 0.5}
        """

    /// A run whose step `i` has total reward `rewards[i]` (every completion the same), correctness = reward and
    /// format = 0.5; entropy NaN at step 0; evaluations at the given steps with pass@1 = step / 100.
    @discardableResult
    func writeRun(_ relativePath: String, rewards: [Double], experiment: String = CompareCommandTests.experiment,
                  evaluationSteps: [Int] = [], wallTimeStep: Double = 0) throws -> String {
        let path = directory + "/" + relativePath
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        let metadata = RunMetadata(experiment: experiment, seed: 7, swiftGRPOVersion: "test", modelPath: "m", modelHash: "",
                                   tokenizerPath: "t", tokenizerHash: "", rewardRules: ["correctness", "format"],
                                   rewardWeights: [1, 0.5], extraStepMetrics: ["accuracy"])
        let writer = try TrajectoryWriter(creating: path, metadata: metadata)
        for (step, reward) in rewards.enumerated() {
            let completions = (0..<2).map { _ in
                CompletionRecord(group: 0, text: "c", tokenIDs: [1, 2], finishReason: .eos,
                                 rewards: [Float(reward), 0.5], totalReward: Float(reward), advantage: 0)
            }
            let metrics = StepMetrics(step: step, learningRate: 1e-6, loss: 0.1 * Double(step), kl: 0.01 * Double(step),
                                      entropy: step == 0 ? .nan : 2 - Double(step), zeroVarianceGroups: 1,
                                      tokensGenerated: 4, seconds: PhaseSeconds(sample: 1, score: 0.5), extra: [0.5])
            try writer.append(StepRecord(metrics: metrics, prompts: [PromptRecord(promptIndex: step, text: "p")],
                                         completions: completions))
        }
        for step in evaluationSteps {
            try writer.appendEvaluation(EvaluationRecord(step: step, k: 4, passAt1: Double(step) / 100,
                                                         passAtK: 0.5, problems: []))
        }
        try writer.close()
        return path
    }

    func compare(_ arguments: [String]) throws -> CommandResult { try runGRPO(["compare"] + arguments) }

    // MARK: The table

    func testTableShowsFinalAndBestOfEachMetricPerRunAndTheConfigDifferences() throws {
        try writeRun("baseline/run.h5", rewards: [0.25, 0.75, 0.5])
        try writeRun("beta0/run.h5", rewards: [0.125, 0.5, 1],
                     experiment: Self.experiment.replacingOccurrences(of: "beta: 0.04", with: "beta: 0.0"))
        let result = try compare([directory + "/baseline", directory + "/beta0/run.h5", "--metric", "reward,entropy"])
        XCTAssertEqual(result.status, 0, result.standardError)
        let lines = result.standardOutput.components(separatedBy: "\n")
        func row(_ name: String) -> [String] {
            lines.first { $0.hasPrefix(name + " ") }?.split(separator: " ").map(String.init) ?? []
        }
        // run, steps, wall time, reward final, best @step, entropy final, range, correctness, format
        XCTAssertEqual(row("baseline"), ["baseline", "3", "(0–2)", "0:00:00", "0.5000", "0.7500", "@1", "0", "0", "…",
                                         "1.000", "0.5000", "0.5000"], result.standardOutput)
        XCTAssertEqual(row("beta0"), ["beta0", "3", "(0–2)", "0:00:00", "1.000", "1.000", "@2", "0", "0", "…", "1.000",
                                      "1.000", "0.5000"], result.standardOutput)
        XCTAssertTrue(lines.contains { $0.hasPrefix("run ") && $0.contains("best @step") && $0.contains("range") },
                      result.standardOutput)
        XCTAssertTrue(lines.contains { $0.contains("reward") && $0.contains("entropy") && $0.contains("final reward per rule") },
                      result.standardOutput)
        let differences = lines.drop { !$0.hasPrefix("config differences") }
        XCTAssertEqual(differences.first { $0.hasPrefix("training.beta") }?.split(separator: " "),
                       ["training.beta", "0.04", "0.0"], result.standardOutput)
        XCTAssertFalse(differences.contains { $0.hasPrefix("seed") || $0.hasPrefix("rewards") }, result.standardOutput)
    }

    func testSameExperimentsHaveNoConfigDifferencesAndBrokenExperimentTextIsReported() throws {
        try writeRun("a/run.h5", rewards: [1])
        try writeRun("b/run.h5", rewards: [1])
        try writeRun("empty/run.h5", rewards: [1], experiment: "")
        try writeRun("broken/run.h5", rewards: [1], experiment: "training: [unclosed\n  beta: : :")
        var result = try compare([directory + "/a", directory + "/b"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertTrue(result.standardOutput.contains("config differences: none"), result.standardOutput)
        result = try compare([directory + "/a", directory + "/empty", directory + "/broken"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertTrue(result.standardOutput.contains("empty: the run file holds no experiment text"), result.standardOutput)
        XCTAssertTrue(result.standardOutput.contains("broken: its experiment text is not YAML"), result.standardOutput)
    }

    func testRunsAreNamedByDirectoryOrFileStemAndCollisionsAreNumbered() throws {
        try writeRun("x/exp/run.h5", rewards: [1])
        try writeRun("y/exp/run.h5", rewards: [1])
        try writeRun("single.h5", rewards: [1])
        let result = try compare([directory + "/x/exp", directory + "/y/exp/run.h5", directory + "/single.h5"])
        XCTAssertEqual(result.status, 0, result.standardError)
        for name in ["exp-1 ", "exp-2 ", "single "] {
            XCTAssertTrue(result.standardOutput.components(separatedBy: "\n").contains { $0.hasPrefix(name) }, result.standardOutput)
        }
    }

    func testDefaultMetricsAreRewardAndPassAt1WhenARunHasEvaluations() throws {
        try writeRun("plain/run.h5", rewards: [0.5, 1])
        var result = try compare([directory + "/plain"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertTrue(result.standardOutput.components(separatedBy: "\n")[0].contains("reward"), result.standardOutput)
        XCTAssertFalse(result.standardOutput.contains("eval/pass@1"), result.standardOutput)
        try writeRun("evaluated/run.h5", rewards: [0.5, 1], evaluationSteps: [0, 1])
        result = try compare([directory + "/plain", directory + "/evaluated"])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertTrue(result.standardOutput.contains("eval/pass@1"), result.standardOutput)
        // The run without evaluations shows dashes; the other its final and best pass@1 (step / 100).
        XCTAssertTrue(result.standardOutput.contains("0.01000  0.01000 @1"), result.standardOutput)
    }

    // MARK: Bad input

    func testUnknownMetricListsTheValidNamesAndSuggestsTheNearest() throws {
        try writeRun("a/run.h5", rewards: [1])
        let result = try compare([directory + "/a", "--metric", "rewrd"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.standardError.contains("unknown metric 'rewrd' (did you mean 'reward'?)"), result.standardError)
        for name in ["reward/correctness", "reward/format", "accuracy", "eval/maj@k", "step_seconds"] {
            XCTAssertTrue(result.standardError.contains(name), result.standardError)
        }
    }

    func testBadRunsAndOutputsFailWithAMessageNamingThePath() throws {
        let good = try writeRun("good/run.h5", rewards: [1])
        let text = directory + "/notes.txt"
        try "not a run".write(toFile: text, atomically: true, encoding: .utf8)
        let empty = directory + "/empty/run.h5"
        try FileManager.default.createDirectory(atPath: directory + "/empty", withIntermediateDirectories: true)
        try TrajectoryWriter(creating: empty, metadata: RunMetadata(
            experiment: "", seed: 0, swiftGRPOVersion: "test", modelPath: "", modelHash: "", tokenizerPath: "",
            tokenizerHash: "", rewardRules: [], rewardWeights: [])).close()
        try FileManager.default.createDirectory(atPath: directory + "/bare", withIntermediateDirectories: true)
        for (arguments, message) in [
            ([directory + "/missing"], "\(directory)/missing: no such run file or run directory"),
            ([text], "\(text): not an HDF5 file"),
            ([directory + "/empty"], "\(empty): the run has no complete step yet"),
            ([directory + "/bare"], "\(directory)/bare: a directory without run.h5"),
            ([good, "--out", directory + "/chart.jpg"], "end the file name in .png or .svg"),
            ([good, "--out", directory + "/no/such/dir/chart.png"], "\(directory)/no/such/dir/chart.png: cannot write the chart"),
        ] {
            let result = try compare(arguments)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.standardError.contains(message), "\(arguments): \(result.standardError)")
        }
    }

    // MARK: The chart

    func testSVGChartHasAPanelPerMetricALinePerRunMarkersForEvaluationsAndALegend() throws {
        try writeRun("alpha/run.h5", rewards: [0.25, 0.5, 0.75], evaluationSteps: [0, 2])
        try writeRun("beta/run.h5", rewards: [0.5, 0.5, 1], evaluationSteps: [0, 2])
        let out = directory + "/chart.svg"
        let result = try compare([directory + "/alpha", directory + "/beta", "--metric", "reward", "--metric", "eval/pass@1",
                                  "--out", out])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertTrue(result.standardOutput.contains("chart: \(out) (2 panels"), result.standardOutput)
        let svg = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<?xml") && svg.contains("<svg ") && svg.hasSuffix("</svg>\n"))
        for label in [">reward</text>", ">eval/pass@1</text>", ">alpha</text>", ">beta</text>", ">step</text>"] {
            XCTAssertTrue(svg.contains(label), "missing \(label)")
        }
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 4)  // 2 panels × 2 runs
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 4)    // 2 evaluations × 2 runs
        XCTAssertTrue(svg.contains(ChartColor.series[0].hex) && svg.contains(ChartColor.series[1].hex))
    }

    func testPNGChartIsAValidPNGWithEachRunsColour() throws {
        try writeRun("alpha/run.h5", rewards: [0.25, 0.5, 0.75])
        try writeRun("beta/run.h5", rewards: [0.5, 0.5, 1])
        let out = directory + "/chart.png"
        let result = try compare([directory + "/alpha", directory + "/beta", "--out", out])
        XCTAssertEqual(result.status, 0, result.standardError)
        let image = try PNGDecoder.decode(try Data(contentsOf: URL(fileURLWithPath: out)))
        XCTAssertEqual(image.width, 1200)
        XCTAssertGreaterThan(image.height, 300)
        for color in ChartColor.series.prefix(2) {
            XCTAssertTrue(image.contains(color), "no pixel of \(color.hex)")
        }
        XCTAssertFalse(image.contains(ChartColor.series[2]))
    }

    // MARK: Pieces of the chart

    func testTicksAreRoundNumbersCoveringTheData() {
        var ticks = AxisTicks(minimum: 0.03, maximum: 0.93, target: 6)
        XCTAssertEqual(ticks.spacing, 0.2, accuracy: 1e-12)
        XCTAssertEqual(ticks.labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        ticks = AxisTicks(minimum: 0, maximum: 199, target: 10, integers: true)
        XCTAssertEqual(ticks.spacing, 25)
        XCTAssertEqual(ticks.labels.first, "0")
        XCTAssertEqual(ticks.labels.last, "200")
        ticks = AxisTicks(minimum: 0, maximum: 1, target: 6)  // exact ends: no extra tick beyond them
        XCTAssertEqual(ticks.labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        ticks = AxisTicks(minimum: -0.3, maximum: 0.2, target: 6)
        XCTAssertEqual(ticks.labels, ["-0.3", "-0.2", "-0.1", "0.0", "0.1", "0.2"])
        ticks = AxisTicks(minimum: 5e-8, maximum: 3e-6, target: 6)
        XCTAssertEqual(ticks.labels, ["0", "1e-6", "2e-6", "3e-6"])
        ticks = AxisTicks(minimum: 0, maximum: 2_500_000, target: 6)
        XCTAssertEqual(ticks.labels, ["0", "0.5e6", "1.0e6", "1.5e6", "2.0e6", "2.5e6"])
        ticks = AxisTicks(minimum: 3, maximum: 3, target: 6, integers: true)  // one step
        XCTAssertEqual(ticks.values.first!, 2)
        XCTAssertEqual(ticks.values.last!, 4)
        ticks = AxisTicks(minimum: 0, maximum: 0, target: 6)  // all zero
        XCTAssertEqual(ticks.labels.first, "0.0")
        XCTAssertEqual(ticks.labels.last, "1.0")
        XCTAssertEqual(AxisTicks(minimum: 0, maximum: 1, target: 3).spacing, 0.5)
        XCTAssertEqual(AxisTicks(minimum: 0, maximum: 1, target: 5).spacing, 0.25)
    }

    func testBitmapFontDrawsEveryPrintableASCIICharacterDistinctlyWithinItsCell() {
        var shapes: Set<String> = []
        for value in 33...126 {
            let pixels = BitmapFont.pixels(of: Character(UnicodeScalar(UInt8(value))))
            XCTAssertFalse(pixels.isEmpty, "\(UnicodeScalar(UInt8(value)))")
            XCTAssertTrue(pixels.allSatisfy { $0.column < 5 && $0.row < 9 }, "\(UnicodeScalar(UInt8(value)))")
            shapes.insert(pixels.map { "\($0.column),\($0.row)" }.joined(separator: " "))
        }
        XCTAssertEqual(shapes.count, 94)
        XCTAssertTrue(BitmapFont.pixels(of: " ").isEmpty)
        XCTAssertEqual(BitmapFont.pixels(of: "é").count, BitmapFont.pixels(of: "?").count)
    }

    func testPNGEncoderRoundTripsPixelsWithValidChecksums() throws {
        let width = 67, height = 41
        var rgb = [UInt8](repeating: 255, count: width * height * 3)
        var state: UInt32 = 12345
        for index in rgb.indices where index % 7 == 0 || (index / (width * 3)) % 5 == 0 {
            state = state &* 1_103_515_245 &+ 12345
            rgb[index] = UInt8(state >> 24)
        }
        let png = PNGEncoder.encode(width: width, height: height, rgb: rgb)
        let image = try PNGDecoder.decode(png)
        XCTAssertEqual(image.width, width)
        XCTAssertEqual(image.height, height)
        XCTAssertEqual(image.rgb, rgb)
        XCTAssertEqual(PNGEncoder.crc32(Array("IEND".utf8)), 0xAE42_6082)
        XCTAssertEqual(PNGEncoder.adler32(Array("Wikipedia".utf8)), 0x11E6_0398)
        // A blank image compresses to under 1 % (fixed codes spend about 8 bytes on a 1200-byte row of zeros).
        XCTAssertLessThan(PNGEncoder.encode(width: 400, height: 300, rgb: [UInt8](repeating: 255, count: 360_000)).count, 3600)
    }
}

/// Reads back the PNGs `grpo` writes (8-bit RGB, stored or fixed-Huffman deflate), checking every CRC and the Adler-32.
enum PNGDecoder {
    struct Image {
        var width: Int, height: Int, rgb: [UInt8]

        func contains(_ color: ChartColor) -> Bool {
            stride(from: 0, to: rgb.count, by: 3).contains {
                rgb[$0] == color.red && rgb[$0 + 1] == color.green && rgb[$0 + 2] == color.blue
            }
        }
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    static func decode(_ data: Data) throws -> Image {
        let bytes = [UInt8](data)
        guard bytes.starts(with: PNGEncoder.signature) else { throw Failure(description: "no PNG signature") }
        var offset = 8, width = 0, height = 0
        var compressed: [UInt8] = []
        var sawEnd = false
        func bigEndian(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        while offset < bytes.count {
            let length = bigEndian(offset)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let body = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            guard PNGEncoder.crc32(bytes[(offset + 4)..<(offset + 8 + length)]) == UInt32(bigEndian(offset + 8 + length)) else {
                throw Failure(description: "bad CRC in \(type)")
            }
            switch type {
            case "IHDR":
                width = bigEndian(offset + 8)
                height = bigEndian(offset + 12)
                guard Array(body[8...]) == [8, 2, 0, 0, 0] else { throw Failure(description: "not 8-bit RGB: \(body)") }
            case "IDAT": compressed += body
            case "IEND": sawEnd = true
            default: break
            }
            offset += 12 + length
        }
        guard sawEnd, width > 0, height > 0 else { throw Failure(description: "missing IHDR or IEND") }
        guard compressed.count > 6, (Int(compressed[0]) << 8 | Int(compressed[1])) % 31 == 0, compressed[0] & 0x0F == 8 else {
            throw Failure(description: "bad zlib header")
        }
        let filtered = try inflate(Array(compressed[2..<(compressed.count - 4)]))
        let adler = compressed.suffix(4).reduce(0) { $0 << 8 | UInt32($1) }
        guard adler == PNGEncoder.adler32(filtered) else { throw Failure(description: "bad Adler-32") }
        let stride = width * 3
        guard filtered.count == height * (stride + 1) else { throw Failure(description: "\(filtered.count) bytes of image data") }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let type = filtered[y * (stride + 1)]
            for i in 0..<stride {
                let raw = filtered[y * (stride + 1) + 1 + i]
                let left = i >= 3 ? rgb[y * stride + i - 3] : 0
                let up = y > 0 ? rgb[(y - 1) * stride + i] : 0
                let upLeft = i >= 3 && y > 0 ? rgb[(y - 1) * stride + i - 3] : 0
                let predictor: UInt8
                switch type {
                case 0: predictor = 0
                case 1: predictor = left
                case 2: predictor = up
                case 3: predictor = UInt8((Int(left) + Int(up)) / 2)
                case 4: predictor = PNGEncoder.paeth(left, up, upLeft)
                default: throw Failure(description: "filter type \(type)")
                }
                rgb[y * stride + i] = raw &+ predictor
            }
        }
        return Image(width: width, height: height, rgb: rgb)
    }

    /// Inflates stored and fixed-Huffman blocks (what our encoder writes).
    static func inflate(_ input: [UInt8]) throws -> [UInt8] {
        var position = 0  // in bits
        func bits(_ count: Int) throws -> Int {
            var value = 0
            for index in 0..<count {
                guard position / 8 < input.count else { throw Failure(description: "deflate stream ends early") }
                value |= Int(input[position / 8] >> UInt8(position % 8) & 1) << index
                position += 1
            }
            return value
        }
        func huffman(_ count: Int) throws -> Int {  // most-significant bit first
            var value = 0
            for _ in 0..<count { value = value << 1 | (try bits(1)) }
            return value
        }
        func literal() throws -> Int {
            var code = try huffman(7)
            if code <= 0b0010111 { return code + 256 }
            code = code << 1 | (try bits(1))
            if code >= 0x30, code <= 0xBF { return code - 0x30 }
            if code >= 0xC0, code <= 0xC7 { return code - 0xC0 + 280 }
            code = code << 1 | (try bits(1))
            return code - 0x190 + 144
        }
        let lengthBases = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
                           163, 195, 227, 258]
        let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
        let distanceBases = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
                             2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
        let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
        var output: [UInt8] = []
        var final = 0
        repeat {
            final = try bits(1)
            switch try bits(2) {
            case 0:
                position = (position + 7) / 8 * 8
                let length = try bits(16)
                _ = try bits(16)
                for _ in 0..<length { output.append(UInt8(try bits(8))) }
            case 1:
                while true {
                    let symbol = try literal()
                    if symbol < 256 { output.append(UInt8(symbol)); continue }
                    if symbol == 256 { break }
                    let code = symbol - 257
                    let length = lengthBases[code] + (try bits(lengthExtra[code]))
                    let distanceCode = try huffman(5)
                    let distance = distanceBases[distanceCode] + (try bits(distanceExtra[distanceCode]))
                    guard distance <= output.count else { throw Failure(description: "distance \(distance) too far back") }
                    for _ in 0..<length { output.append(output[output.count - distance]) }
                }
            default:
                throw Failure(description: "dynamic Huffman blocks are not expected here")
            }
        } while final == 0
        return output
    }
}
