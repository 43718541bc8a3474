import Foundation
@testable import Experiments
import GRPO
import XCTest

final class ExperimentFileTests: XCTestCase {
    let file = URL(fileURLWithPath: "/tmp/exp.yaml")

    func parse(_ text: String) throws -> Experiment { try Experiment.parse(text, file: file) }

    let minimal = """
    model: model
    task: {name: arithmetic}
    rewards: [{name: accuracy}]
    """

    func assertError(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(text), file: file, line: line) { error in
            XCTAssertEqual("\(error)", expected, file: file, line: line)
        }
    }

    func testDefaultsFillEverythingAFileLeavesOut() throws {
        let experiment = try parse(minimal)
        XCTAssertEqual(experiment.seed, 42)
        XCTAssertEqual(experiment.training.seed, 42)
        XCTAssertEqual(experiment.training.lossType, .dapo)
        XCTAssertEqual(experiment.training.maxCompletionLength, 512)
        XCTAssertEqual(experiment.modelPath.path, "/tmp/model")
        XCTAssertEqual(experiment.tokenizerPath.path, "/tmp/model/tokenizer.json")
        XCTAssertEqual(experiment.rewards.map(\.name), ["accuracy"])
        XCTAssertEqual(experiment.evaluation, EvaluationConfig())
        XCTAssertEqual(experiment.output.checkpointEvery, 50)
        XCTAssertEqual(experiment.defaultRunDirectory.lastPathComponent, "exp")
    }

    func testTrainingAndGenerationKeysReachTheTrainer() throws {
        let experiment = try parse(minimal + """

        seed: 7
        training: {beta: 0.04, loss_type: grpo, num_generations: 4, per_device_train_batch_size: 8, learning_rate: 1e-5}
        generation: {max_completion_length: 64, temperature: 0.7, top_p: 0.95, stop: ["</answer>"]}
        """)
        XCTAssertEqual(experiment.training.beta, 0.04)
        XCTAssertEqual(experiment.training.lossType, .grpo)
        XCTAssertEqual(experiment.training.learningRate, 1e-5)
        XCTAssertEqual(experiment.training.maxCompletionLength, 64)
        XCTAssertEqual(experiment.training.temperature, 0.7)
        XCTAssertEqual(experiment.training.topP, 0.95)
        XCTAssertEqual(experiment.training.seed, 7)
        XCTAssertEqual(experiment.stop, ["</answer>"])
    }

    func testAWrongTypeNamesTheKeyPathAndTheValue() {
        assertError(minimal + "\ntraining: {beta: abc}", #"/tmp/exp.yaml: training.beta: expected a number, got "abc""#)
        assertError(minimal + "\ngeneration: {max_completion_length: 1.5}", "/tmp/exp.yaml: generation.max_completion_length: expected a whole number, got 1.5")
        assertError(minimal + "\neval: {k: many}", #"/tmp/exp.yaml: eval.k: expected a whole number, got "many""#)
    }

    func testAnUnknownKeyNamesTheNearestValidOne() {
        assertError(minimal + "\ntraining: {num_generation: 4}", "/tmp/exp.yaml: training.num_generation: unknown key; did you mean `num_generations`?")
        assertError(minimal + "\ntrainng: {beta: 0.1}", "/tmp/exp.yaml: trainng: unknown key; did you mean `training`?")
        assertError(minimal + "\noutput: {checkpoint_evry: 5}", "/tmp/exp.yaml: output.checkpoint_evry: unknown key; did you mean `checkpoint_every`?")
    }

    func testAKeyInTheWrongSectionSaysWhereItBelongs() {
        assertError(minimal + "\ntraining: {temperature: 0.7}", "/tmp/exp.yaml: training.temperature: belongs in the `generation` section")
        assertError(minimal + "\ngeneration: {beta: 0.1}", "/tmp/exp.yaml: generation.beta: belongs in the `training` section")
    }

    func testInvalidValuesAndMissingSectionsAreNamed() {
        assertError(minimal + "\ntraining: {beta: -1}", "/tmp/exp.yaml: training.beta: expected a number ≥ 0, got -1.0")
        assertError(minimal + "\ntraining: {loss_type: ppo}", "/tmp/exp.yaml: training.loss_type: expected one of grpo, bnpo, dr_grpo, dapo, got \"ppo\"")
        assertError("task: {name: arithmetic}\nrewards: [{name: accuracy}]", "/tmp/exp.yaml: model: missing: the checkpoint directory (config.json + model.safetensors)")
        assertError("model: m\ntask: {name: arithmetic}", "/tmp/exp.yaml: rewards: missing: a list of {name, weight, options}, e.g. - {name: accuracy, weight: 1.0}")
        assertError("model: m\ntask: {name: arithmetic}\nrewards: [{weight: 1}]", "/tmp/exp.yaml: rewards[0].name: missing: the rule's name (see `grpo score --list-rules`)")
        XCTAssertThrowsError(try parse("model: [1, 2")) { error in
            XCTAssertTrue("\(error)".hasPrefix("/tmp/exp.yaml: not valid YAML: "), "\(error)")
        }
    }

    func testAMissingFileNamesThePath() {
        XCTAssertThrowsError(try Experiment.load(URL(fileURLWithPath: "/tmp/does-not-exist.yaml"))) { error in
            XCTAssertEqual("\(error)", "/tmp/does-not-exist.yaml: experiment file not found")
        }
    }
}
