import Foundation
@testable import Experiments
import PolicyModel
import Tokenizers
import XCTest

/// The R1-Zero demonstration that `make run` starts: its experiment file, the base model in the repository and
/// the config that rebuilds that model.
final class ShippedExperimentTests: XCTestCase {
    let experiments = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Experiments")

    func testTheR1ZeroExperimentLoadsWithTheShippedBaseModel() throws {
        let experiment = try Experiment.load(experiments.appendingPathComponent("r1zero-arithmetic.yaml"))
        XCTAssertEqual(experiment.task.templateName, "r1zero")
        XCTAssertEqual(experiment.rewards.map(\.name), ["accuracy", "format"])
        XCTAssertGreaterThan(experiment.training.beta, 0, "GRPO with a reference model")
        let model = try Transformer.load(directory: experiment.modelPath)
        let tokenizer = try loadTokenizer(path: experiment.tokenizerPath.path)
        XCTAssertEqual(model.config.vocabularySize, tokenizer.vocabularySize)
        XCTAssertLessThan(model.parameters.count, 25_000_000 / 4, "the base stays under 25 MB")
        // Tag names are spelled letter by letter (spaced_words), so the base can copy `<think>` from the template.
        XCTAssertEqual(tokenizer.encode("<think>").count, 7)
    }

    func testTheBaseModelRecordsTheConfigThatRebuildsIt() throws {
        func withoutComments(_ url: URL) throws -> String {
            try String(contentsOf: url, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
        }
        XCTAssertEqual(try withoutComments(experiments.appendingPathComponent("r1zero-base-pretrain.yaml")),
                       try withoutComments(experiments.appendingPathComponent("r1zero-base/pretrain.yaml")))
        let config = try PretrainConfig.load(experiments.appendingPathComponent("r1zero-base-pretrain.yaml"))
        let model = try Transformer.load(directory: experiments.appendingPathComponent("r1zero-base"))
        XCTAssertEqual(model.config.hiddenSize, config.model.hiddenSize)
        XCTAssertEqual(model.config.layerCount, config.model.numHiddenLayers)
    }
}
