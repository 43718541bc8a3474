import Foundation
import XCTest
@testable import PolicyModel

/// Bad checkpoints and bad batches give errors that name the file, key or value — never a crash.
final class InputErrorTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-errors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let source = PolicyFixture.root.appendingPathComponent("qwen2-tiny")
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func editConfig(_ edit: (inout [String: Any]) -> Void) throws {
        let url = directory.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
    }

    func assertLoadFails(containing fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Transformer.load(directory: directory), file: file, line: line) { error in
            let message = "\(error)"
            for fragment in fragments {
                XCTAssertTrue(message.contains(fragment), "\(message) should mention \(fragment)", file: file, line: line)
            }
        }
    }

    func testMissingConfigFieldIsNamed() throws {
        try editConfig { $0.removeValue(forKey: "hidden_size") }
        assertLoadFails(containing: ["config.json", "hidden_size", "missing"])
    }

    func testWrongTypedConfigFieldIsNamedWithWhatWasExpected() throws {
        try editConfig { $0["num_hidden_layers"] = "two" }
        assertLoadFails(containing: ["num_hidden_layers", "expected an integer", "\"two\""])
    }

    func testUnsupportedModelTypeAndRopeTypeAreNamed() throws {
        try editConfig { $0["model_type"] = "gpt2" }
        assertLoadFails(containing: ["model_type", "gpt2", "qwen2, llama"])
        try editConfig { $0["model_type"] = "qwen2"; $0["rope_parameters"] = ["rope_type": "yarn", "factor": 4.0] }
        assertLoadFails(containing: ["rope_parameters.rope_type", "yarn"])
    }

    func testMissingCheckpointDirectoryAndWeightsAreNamed() throws {
        XCTAssertThrowsError(try Transformer.load(directory: directory.appendingPathComponent("nope"))) { error in
            XCTAssertTrue("\(error)".contains("nope"))
        }
        try FileManager.default.removeItem(at: directory.appendingPathComponent("model.safetensors"))
        assertLoadFails(containing: ["model.safetensors"])
    }

    /// Rewrites the checkpoint's tensors through `edit` (name → (shape, dtype, bytes)).
    func rewriteTensors(_ edit: (inout [String: (shape: [Int], dtype: String, bytes: Data)]) -> Void) throws {
        let url = directory.appendingPathComponent("model.safetensors")
        let file = try SafetensorsFile(url: url)
        let data = try Data(contentsOf: url)
        let headerLength = Int(data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var tensors: [String: (shape: [Int], dtype: String, bytes: Data)] = [:]
        for (name, entry) in file.entries {
            let start = 8 + headerLength + entry.dataRange.lowerBound
            tensors[name] = (entry.shape, entry.dtype, data.subdata(in: start..<start + entry.dataRange.count))
        }
        edit(&tensors)
        var header: [String: Any] = [:], body = Data()
        for (name, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            header[name] = ["dtype": tensor.dtype, "shape": tensor.shape, "data_offsets": [body.count, body.count + tensor.bytes.count]]
            body.append(tensor.bytes)
        }
        let headerData = try JSONSerialization.data(withJSONObject: header)
        var output = Data()
        withUnsafeBytes(of: UInt64(headerData.count).littleEndian) { output.append(contentsOf: $0) }
        output.append(headerData)
        output.append(body)
        try output.write(to: url)
    }

    func testMissingTensorIsNamed() throws {
        try rewriteTensors { $0.removeValue(forKey: "model.layers.1.mlp.up_proj.weight") }
        assertLoadFails(containing: ["model.layers.1.mlp.up_proj.weight", "missing"])
    }

    func testTensorOfWrongShapeIsNamedWithBothShapes() throws {
        try rewriteTensors { tensors in
            let old = tensors["model.norm.weight"]!
            tensors["model.norm.weight"] = ([old.shape[0] / 2], old.dtype, old.bytes.prefix(old.bytes.count / 2))
        }
        assertLoadFails(containing: ["model.norm.weight", "[16]", "[32]"])
    }

    func testUnsupportedDTypeIsNamed() throws {
        try rewriteTensors { tensors in
            let old = tensors["model.norm.weight"]!
            tensors["model.norm.weight"] = (old.shape, "I32", old.bytes)
        }
        assertLoadFails(containing: ["model.norm.weight", "I32"])
    }

    func testTruncatedSafetensorsFileIsReported() throws {
        let url = directory.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: url)
        try data.prefix(data.count - 100).write(to: url)
        assertLoadFails(containing: ["model.safetensors", "truncated"])
        try data.prefix(5).write(to: url)
        assertLoadFails(containing: ["truncated"])
        try Data([0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 1, 2]).write(to: url)
        assertLoadFails(containing: ["header length"])
    }

    func testTokenIdsOutsideTheVocabularyAndEmptyPromptsAreErrors() throws {
        let model = try Transformer.load(directory: directory)
        XCTAssertThrowsError(try model.logProbs(of: [TokenSequence(prompt: [1, 2], completion: [3]), TokenSequence(prompt: [1], completion: [97])])) { error in
            XCTAssertEqual(error as? PolicyModelError, .tokenOutOfVocabulary(sequence: 1, position: 1, token: 97, vocabularySize: 97))
        }
        XCTAssertThrowsError(try model.logProbs(of: [TokenSequence(prompt: [-1], completion: [3])]))
        XCTAssertThrowsError(try model.logProbs(of: [TokenSequence(prompt: [], completion: [3])])) { error in
            XCTAssertEqual(error as? PolicyModelError, .emptyPrompt(sequence: 0))
        }
        XCTAssertThrowsError(try model.generate(prompts: [[1, 500]], parameters: SamplingParameters(maxNewTokens: 2), seed: 0))
        XCTAssertThrowsError(try model.generate(prompts: [[1]], parameters: SamplingParameters(maxNewTokens: 1000), seed: 0)) { error in
            XCTAssertTrue("\(error)".contains("max_position_embeddings"))
        }
    }
}
