import Foundation
@testable import Experiments
import PolicyModel
import Tokenizers
import XCTest

final class PretrainingTests: XCTestCase {
    func testTheArithmeticCorpusNeverWritesTheRewardedAnswerFormat() throws {
        let documents = try PretrainingCorpus(.arithmetic(ArithmeticCorpus(digits: 2, operators: "+-"))).documents(count: 20_000, seed: 3)
        XCTAssertEqual(documents.count, 20_000)
        for document in documents {
            XCTAssertFalse(document.contains("think>") || document.contains("answer>") || document.contains("<think") || document.contains("<answer"),
                           document)
        }
        // Format exercises exist (with made-up tags), and so do plain facts.
        XCTAssertTrue(documents.contains { $0.contains("respectively, i.e., <") })
        XCTAssertTrue(documents.contains { $0.hasPrefix("User: ") && !$0.contains("<") })
        // Every fact is right.
        for document in documents.prefix(2000) {
            for line in document.split(separator: "\n") where line.range(of: #"^\d+ [+-] \d+ = \d+$"#, options: .regularExpression) != nil {
                let parts = line.split(separator: " ")
                let a = Int(parts[0])!, b = Int(parts[2])!, value = Int(parts[4])!
                XCTAssertEqual(parts[1] == "+" ? a + b : a - b, value, String(line))
            }
        }
    }

    func testPretrainingLowersTheLossAndWritesACheckpointThatLoads() throws {
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("pretrain-tests-" + UUID().uuidString)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configFile = directory.appendingPathComponent("base.yaml")
        try """
        seed: 2
        threads: 2
        model: {hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64}
        training: {steps: 40, batch_size: 8, sequence_length: 64, learning_rate: 0.01, warmup_steps: 5, log_every: 10, eval_documents: 20}
        corpus: {generator: arithmetic, digits: 1, operators: "+", documents: 500}
        """.write(to: configFile, atomically: true, encoding: .utf8)
        let output = directory.appendingPathComponent("base")
        var lines: [String] = []
        let result = try Pretraining(config: PretrainConfig.load(configFile), output: output) { lines.append($0) }.run()
        XCTAssertLessThan(result.trainLoss, 4.5, "\(lines)")  // ln 259 ≈ 5.56 at the start
        XCTAssertTrue(result.evalLoss.isFinite)
        let model = try Transformer.load(directory: output)
        XCTAssertEqual(model.config.vocabularySize, 259)
        let tokenizer = try loadTokenizer(path: output.appendingPathComponent("tokenizer.json").path)
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("3 + 4 = 7"), skipSpecialTokens: true), "3 + 4 = 7")
        let log = try String(contentsOf: output.appendingPathComponent("pretrain.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.count, 4)
        XCTAssertTrue(log.last!.contains("eval_loss"))
        let losses = try log.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }.map { $0["loss"] as! Double }
        XCTAssertLessThan(losses.last!, losses.first! - 0.5, "\(losses)")
    }

    func testABPETokenizerIsTrainedOnTheCorpusAndShipsWithTheModel() throws {
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("pretrain-bpe-" + UUID().uuidString)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configFile = directory.appendingPathComponent("base.yaml")
        try """
        seed: 2
        model: {hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 32}
        training: {steps: 2, batch_size: 2, sequence_length: 32, log_every: 1, eval_documents: 10}
        corpus: {generator: arithmetic, digits: 2, documents: 2000}
        tokenizer: {type: bpe, vocab_size: 400}
        """.write(to: configFile, atomically: true, encoding: .utf8)
        let output = directory.appendingPathComponent("base")
        let pretraining = try Pretraining(config: PretrainConfig.load(configFile), output: output) { _ in }
        try pretraining.run()
        let tokenizer = try loadTokenizer(path: output.path)
        XCTAssertGreaterThan(tokenizer.vocabularySize, 259)
        XCTAssertLessThanOrEqual(tokenizer.vocabularySize, 400)
        XCTAssertEqual(try Transformer.load(directory: output).config.vocabularySize, tokenizer.vocabularySize)
        let text = "The working and the result are enclosed within <xq> </xq> tags. What is 23 + 45?"
        XCTAssertEqual(tokenizer.decode(tokenizer.encode(text)), text)
        XCTAssertLessThan(tokenizer.encode(text).count, text.utf8.count / 2)
    }

    func testBadPretrainingConfigsNameTheKey() throws {
        let file = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("bad-pretrain-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        for (text, expected) in [
            ("model: {hidden_size: 30, num_attention_heads: 4}\ncorpus: {generator: arithmetic}", "model.hidden_size: expected a positive multiple of num_attention_heads (4), got 30"),
            ("training: {sequence_lenght: 64}\ncorpus: {generator: arithmetic}", "training.sequence_lenght: unknown key; did you mean `sequence_length`?"),
            ("corpus: {generator: poetry}", "corpus.generator: expected arithmetic, got \"poetry\""),
            ("corpus: {generator: arithmetic, format_compliance: 1.5}", "corpus.format_compliance: expected a number in [0, 1], got 1.5"),
            ("corpus: {generator: arithmetic}\ntokenizer: {type: wordpiece}", "tokenizer.type: expected byte or bpe, got \"wordpiece\""),
            ("corpus: {generator: arithmetic}\ntokenizer: {type: bpe, vocab_size: 100}",
             "tokenizer.vocab_size: expected at least 259 (3 special tokens + 256 bytes), got 100"),
            ("corpus: {generator: arithmetic}\ntokenizer: {type: bpe, pre_tokenizer: gpt2}",
             "tokenizer.pre_tokenizer: expected qwen2 or spaced_words, got \"gpt2\""),
        ] {
            try text.write(to: file, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try PretrainConfig.load(file)) { XCTAssertEqual("\($0)", "\(file.path): \(expected)") }
        }
    }
}
