import Foundation
import XCTest
@testable import PolicyModel

/// Reads the reference outputs that Tests/Fixtures/make_policy_fixtures.py wrote with PyTorch.
struct PolicyFixture {
    let directory: URL
    let json: [String: Any]

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    init(_ name: String, file: String = "expected.json") throws {
        directory = Self.root.appendingPathComponent(name)
        let data = try Data(contentsOf: directory.appendingPathComponent(file))
        json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    var batch: [TokenSequence] {
        (json["batch"] as! [[String: Any]]).map {
            TokenSequence(prompt: ($0["prompt_ids"] as! [Int]).map(Int32.init), completion: ($0["completion_ids"] as! [Int]).map(Int32.init))
        }
    }

    var coefficients: [[Float]] {
        (json["batch"] as! [[String: Any]]).map { ($0["coefficients"] as! [Double]).map(Float.init) }
    }

    func floats(_ key: String) -> [[Float]] {
        (json[key] as! [[Double]]).map { $0.map(Float.init) }
    }

    func model() throws -> Transformer { try Transformer.load(directory: directory) }
}

func assertClose(_ actual: [Float], _ expected: [Float], absolute: Float, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "count " + message, file: file, line: line)
    let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThanOrEqual(worst, absolute, "max |difference| \(worst) > \(absolute) " + message, file: file, line: line)
}

/// ‖a − b‖ / ‖b‖, the error measure for gradient tensors.
func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    var difference: Double = 0, reference: Double = 0
    for (x, y) in zip(a, b) {
        difference += Double(x - y) * Double(x - y)
        reference += Double(y) * Double(y)
    }
    return Float((difference / max(reference, 1e-30)).squareRoot())
}

func allValues(_ parameters: ModelParameters) -> [Float] {
    Array(UnsafeBufferPointer(start: parameters.values.pointer, count: parameters.count))
}
