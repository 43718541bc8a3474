import CommandLineSupport
import Foundation
import GRPO
@testable import Experiments
import PolicyModel
import Trajectories
import XCTest

final class TrainingRunTests: XCTestCase {
    var sandbox: ExperimentSandbox!

    override func setUpWithError() throws { sandbox = try ExperimentSandbox() }
    override func tearDown() { sandbox.remove() }

    func weights(_ directory: URL) throws -> [Float] {
        let model = try Transformer.load(directory: directory)
        return Array(UnsafeBufferPointer(start: model.parameters.values.pointer, count: model.parameters.count))
    }

    func testATrainingRunWritesTheRunFileMetricsAndCheckpoints() throws {
        let experiment = try Experiment.load(sandbox.experiment(steps: 4))
        var lines: [String] = []
        let run = try TrainingRun(experiment: experiment) { lines.append($0) }
        try run.run()

        let reader = try TrajectoryReader(path: run.runFile.path)
        defer { reader.close() }
        XCTAssertEqual(reader.stepCount, 4)
        XCTAssertEqual(reader.metadata.rewardRules, ["accuracy", "length"])
        XCTAssertEqual(reader.metadata.experiment, experiment.text)
        let step = try reader.record(ofStep: 2)
        XCTAssertEqual(step.prompts.count, 2)
        XCTAssertEqual(step.completions.count, 8)
        XCTAssertTrue(step.completions.allSatisfy { $0.referenceLogProbs.count == $0.tokenIDs.count && $0.newLogProbs.count == $0.tokenIDs.count })
        // Evaluations at the start, after step 2 and at the end.
        XCTAssertEqual(try reader.evaluations().map(\.step), [0, 2, 4])
        XCTAssertTrue(try reader.evaluations().allSatisfy { $0.k == 2 && $0.problems.count == 6 })

        let metrics = try String(contentsOf: run.metricsFile, encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(metrics.compactMap { $0["step"] as? Int }, [1, 2, 3, 4])
        XCTAssertEqual(metrics.compactMap { $0["eval_step"] as? Int }, [0, 2, 4])
        XCTAssertNotNil(metrics.first { $0["step"] != nil }?["reward/accuracy"])

        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: run.checkpointsDirectory.path).sorted()
        XCTAssertEqual(checkpoints, ["step-000002", "step-000004"])
        let last = run.checkpointsDirectory.appendingPathComponent("step-000004")
        for file in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "trainer_state.json", "optimizer.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: last.appendingPathComponent(file).path), file)
        }
        XCTAssertEqual(try weights(last), Array(UnsafeBufferPointer(start: run.trainer.policy.parameters.values.pointer,
                                                                    count: run.trainer.policy.parameters.count)))
        XCTAssertTrue(lines.contains { $0.hasPrefix("step 4/4 | reward ") && $0.contains("accuracy") && $0.contains("ETA") }, "\(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("eval at step 0 on 6 held-out problems: pass@1") })
    }

    func testAStoppedRunResumesToTheSameWeightsAsAnUninterruptedOne() throws {
        let straight = try TrainingRun(experiment: Experiment.load(sandbox.experiment("straight", steps: 5))) { _ in }
        try straight.run()

        let url = try sandbox.experiment("resumed", steps: 5)
        let first = try TrainingRun(experiment: Experiment.load(url)) { _ in }
        try first.run(stopAfterSteps: 3)
        XCTAssertEqual(first.trainer.generationSteps, 3)
        let second = try TrainingRun(experiment: Experiment.load(url), resume: true) { _ in }
        XCTAssertEqual(second.trainer.generationSteps, 3)
        try second.run()

        let final = "checkpoints/step-000005"
        XCTAssertEqual(try weights(straight.runDirectory.appendingPathComponent(final)),
                       try weights(second.runDirectory.appendingPathComponent(final)))
        let a = try TrajectoryReader(path: straight.runFile.path), b = try TrajectoryReader(path: second.runFile.path)
        defer { a.close(); b.close() }
        XCTAssertEqual(b.stepCount, 5)
        for step in 1...5 {
            XCTAssertEqual(try a.record(ofStep: step).completions.map(\.tokenIDs), try b.record(ofStep: step).completions.map(\.tokenIDs))
        }
    }

    func testANewRunRefusesADirectoryThatHoldsARun() throws {
        let url = try sandbox.experiment(steps: 1)
        try TrainingRun(experiment: Experiment.load(url)) { _ in }.run()
        XCTAssertThrowsError(try TrainingRun(experiment: Experiment.load(url)) { _ in }) { error in
            XCTAssertTrue("\(error)".contains("--resume"), "\(error)")
        }
    }

    /// kill -9 at moments spread over a run, then --resume: the run file stays readable, and the run ends with
    /// the weights of an uninterrupted one.
    func testKilledRunsResumeToTheSameFinalWeights() throws {
        let binary = try grpoExecutable()
        // Kills land in sampling, training, evaluation and checkpointing. Their moments are fractions of the
        // uninterrupted run's time, so that a faster machine or a faster trainer still gets killed mid-run.
        let reference = try sandbox.experiment("uninterrupted", steps: 40, completionLength: 40, evalEvery: 10)
        let started = Date()
        XCTAssertEqual(try runGRPO(["train", reference.path]).status, 0)
        let uninterruptedSeconds = Date().timeIntervalSince(started)
        let url = try sandbox.experiment("killed", steps: 40, completionLength: 40, evalEvery: 10)
        let runDirectory = sandbox.directory.appendingPathComponent("runs/killed")
        var kills = 0, attempts = 0
        // A process that ends before its kill (the machine got faster than when timed) halves the delays.
        var scale = uninterruptedSeconds
        let fractions = [0.25, 0.15, 0.3, 0.2, 0.25]
        while kills < fractions.count, attempts < 3 * fractions.count {
            let fraction = fractions[attempts % fractions.count]
            attempts += 1
            let process = Process()
            process.executableURL = binary
            process.arguments = ["train", url.path] + (kills == 0 && !FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent("run.h5").path) ? [] : ["--resume"])
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: fraction * scale)
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            } else {
                scale /= 2
            }
            process.waitUntilExit()
            if FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent("run.h5").path) {
                let reader = try TrajectoryReader(path: runDirectory.appendingPathComponent("run.h5").path)
                _ = try reader.summaries()
                reader.close()
            }
        }
        let finish = try runGRPO(["train", url.path, "--resume"])
        XCTAssertEqual(finish.status, 0, finish.standardError)
        print(String(format: "uninterrupted run: %.2f s; %d kills landed in %d attempts", uninterruptedSeconds, kills, attempts))
        XCTAssertGreaterThan(kills, 0, "no kill landed: the run finished too fast for this test")
        let final = "checkpoints/step-000040"
        XCTAssertEqual(try weights(sandbox.directory.appendingPathComponent("runs/uninterrupted").appendingPathComponent(final)),
                       try weights(runDirectory.appendingPathComponent(final)))
        let reader = try TrajectoryReader(path: runDirectory.appendingPathComponent("run.h5").path)
        defer { reader.close() }
        XCTAssertEqual(reader.steps, Array(1...40))
        XCTAssertEqual(try reader.evaluations().map(\.step), [0, 10, 20, 30, 40])
    }

    /// Ctrl-C (SIGINT) and SIGTERM: the step in flight finishes, a checkpoint is saved, the run file is closed.
    func testAnInterruptSavesACheckpointAndClosesTheRunFile() throws {
        let binary = try grpoExecutable()
        for (index, signalNumber) in [SIGINT, SIGTERM].enumerated() {
            let url = try sandbox.experiment("interrupted-\(index)", steps: 5000, completionLength: 40, evalEvery: 10_000)
            let process = Process()
            process.executableURL = binary
            process.arguments = ["train", url.path]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Signal once the first step has been reported, so the handler is installed however slowly the
            // process started (a signal that arrives before it would simply kill the process).
            var received = Data()
            while !String(decoding: received, as: UTF8.self).split(separator: "\n").contains(where: { $0.hasPrefix("step ") }) {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                received.append(chunk)
            }
            kill(process.processIdentifier, signalNumber)
            received.append(output.fileHandleForReading.readDataToEndOfFile())
            let text = String(decoding: received, as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, text)
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("stopped after step ") }),
                  let step = Int(line.dropFirst("stopped after step ".count).prefix { $0.isNumber }) else {
                return XCTFail("no stop line (signal \(signalNumber)): \(text)")
            }
            let runDirectory = sandbox.directory.appendingPathComponent("runs/interrupted-\(index)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent(String(format: "checkpoints/step-%06d/model.safetensors", step)).path))
            let reader = try TrajectoryReader(path: runDirectory.appendingPathComponent("run.h5").path)
            XCTAssertEqual(reader.steps, Array(1...step))
            reader.close()
        }
    }

    func testTheTrainCommandReportsProgressAndEvalWritesAnEvaluation() throws {
        let url = try sandbox.experiment("cli", steps: 2)
        let result = try runGRPO(["train", url.path])
        XCTAssertEqual(result.status, 0, result.standardError)
        XCTAssertTrue(result.standardOutput.contains("step 2/2 | reward"), result.standardOutput)
        let checkpoint = sandbox.directory.appendingPathComponent("runs/cli/checkpoints/step-000002")
        let runFile = sandbox.directory.appendingPathComponent("eval.h5").path
        let eval = try runGRPO(["eval", "--model", checkpoint.path, "--experiment", url.path, "--k", "3", "--samples", "4", "--run-file", runFile])
        XCTAssertEqual(eval.status, 0, eval.standardError)
        let line = try JSONSerialization.jsonObject(with: Data(eval.standardOutput.utf8)) as! [String: Any]
        XCTAssertEqual(line["problems"] as? Int, 4)
        XCTAssertEqual(line["k"] as? Int, 3)
        XCTAssertEqual(line["step"] as? Int, 2)
        XCTAssertNotNil(line["maj@k"])
        let reader = try TrajectoryReader(path: runFile)
        defer { reader.close() }
        XCTAssertEqual(try reader.evaluations().map(\.problems.count), [4])
    }
}

final class RunRobustnessTests: XCTestCase {
    /// A line without an answer, a prompt longer than the context and an empty question: recorded and counted;
    /// the run goes on.
    func testBadTaskLinesAreRecordedAndCountedAndTheRunGoesOn() throws {
        let sandbox = try ExperimentSandbox()
        defer { sandbox.remove() }
        var lines = (0..<12).map { #"{"question": "What is \#($0) + 1?", "answer": "\#($0 + 1)"}"# }
        lines[2] = #"{"question": "What is 2 + 1?"}"#                                        // no answer
        lines[5] = #"{"question": "\#(String(repeating: "very long ", count: 40))", "answer": "0"}"#  // 400 bytes > 256 − 12
        try lines.joined(separator: "\n").write(to: sandbox.directory.appendingPathComponent("data.jsonl"), atomically: true, encoding: .utf8)
        let text = """
        seed: 5
        threads: 2
        model: model
        task: {name: jsonl, path: data.jsonl, eval_size: 2, template: plain}
        rewards: [{name: accuracy, options: {extraction: boxed_or_fallback}}]
        training: {num_generations: 2, per_device_train_batch_size: 4, max_steps: 8, learning_rate: 0.001}
        generation: {max_completion_length: 12}
        output: {run_dir: \(sandbox.directory.appendingPathComponent("runs/robust").path), checkpoint_every: 0}
        """
        let url = sandbox.directory.appendingPathComponent("robust.yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        let run = try TrainingRun(experiment: Experiment.load(url)) { _ in }
        try run.run()
        XCTAssertEqual(run.trainer.generationSteps, 8)
        let metrics = try String(contentsOf: run.metricsFile, encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }.filter { $0["step"] != nil }
        // 10 training lines, 2 prompts per step, 8 steps: both bad lines come up, each epoch.
        XCTAssertGreaterThan(metrics.last?["skipped_prompts"] as? Int ?? 0, 0)
        XCTAssertGreaterThan(metrics.compactMap { $0["rule_errors/accuracy"] as? Int }.reduce(0, +), 0)
        let reader = try TrajectoryReader(path: run.runFile.path)
        defer { reader.close() }
        let records = try (1...8).map { try reader.record(ofStep: $0) }
        let withoutAnswer = records.flatMap(\.completions).filter { !$0.ruleErrors.isEmpty }
        XCTAssertFalse(withoutAnswer.isEmpty)
        XCTAssertTrue(withoutAnswer.allSatisfy { $0.ruleErrors[0].contains("answer") }, "\(withoutAnswer.first!.ruleErrors)")
        XCTAssertTrue(records.flatMap(\.prompts).allSatisfy { !$0.text.contains("very long") })
    }
}
