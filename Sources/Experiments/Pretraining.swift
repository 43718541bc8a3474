import Foundation
import GRPO
import PolicyModel
import Tensors
import Tokenizers
import Yams

/// `grpo pretrain`: next-token pretraining of a small Qwen2-shaped model from scratch, with a byte-level
/// tokenizer (bytes, or a BPE trained on the corpus), AdamW, warmup + cosine decay, a held-out loss, a JSONL
/// log and a Hugging Face checkpoint.
public struct PretrainConfig: Sendable {
    public struct Model: Codable, Equatable, Sendable {
        public var hiddenSize = 256
        public var intermediateSize = 768
        public var numHiddenLayers = 4
        public var numAttentionHeads = 4
        public var numKeyValueHeads = 2
        public var maxPositionEmbeddings = 512
        public var ropeTheta = 10_000.0
        public var tieWordEmbeddings = true

        enum CodingKeys: String, CodingKey, CaseIterable {
            case hiddenSize = "hidden_size", intermediateSize = "intermediate_size", numHiddenLayers = "num_hidden_layers"
            case numAttentionHeads = "num_attention_heads", numKeyValueHeads = "num_key_value_heads"
            case maxPositionEmbeddings = "max_position_embeddings", ropeTheta = "rope_theta", tieWordEmbeddings = "tie_word_embeddings"
        }
        public init() {}
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self), d = Model()
            hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? d.hiddenSize
            intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? d.intermediateSize
            numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? d.numHiddenLayers
            numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? d.numAttentionHeads
            numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? d.numKeyValueHeads
            maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? d.maxPositionEmbeddings
            ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? d.ropeTheta
            tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? d.tieWordEmbeddings
        }
    }

    public struct Training: Codable, Equatable, Sendable {
        public var steps = 1000
        public var batchSize = 16
        public var sequenceLength = 256
        public var learningRate = 1e-3
        public var warmupSteps = 50
        /// Cosine decay ends at this fraction of the learning rate.
        public var minLearningRateRatio = 0.1
        public var weightDecay = 0.1
        public var maxGradNorm = 1.0
        public var adamBeta1 = 0.9
        public var adamBeta2 = 0.95
        public var logEvery = 10
        public var checkpointEvery = 0
        public var evalDocuments = 200

        enum CodingKeys: String, CodingKey, CaseIterable {
            case steps, batchSize = "batch_size", sequenceLength = "sequence_length", learningRate = "learning_rate"
            case warmupSteps = "warmup_steps", minLearningRateRatio = "min_learning_rate_ratio", weightDecay = "weight_decay"
            case maxGradNorm = "max_grad_norm", adamBeta1 = "adam_beta1", adamBeta2 = "adam_beta2", logEvery = "log_every"
            case checkpointEvery = "checkpoint_every", evalDocuments = "eval_documents"
        }
        public init() {}
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self), d = Training()
            steps = try c.decodeIfPresent(Int.self, forKey: .steps) ?? d.steps
            batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
            sequenceLength = try c.decodeIfPresent(Int.self, forKey: .sequenceLength) ?? d.sequenceLength
            learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate) ?? d.learningRate
            warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps) ?? d.warmupSteps
            minLearningRateRatio = try c.decodeIfPresent(Double.self, forKey: .minLearningRateRatio) ?? d.minLearningRateRatio
            weightDecay = try c.decodeIfPresent(Double.self, forKey: .weightDecay) ?? d.weightDecay
            maxGradNorm = try c.decodeIfPresent(Double.self, forKey: .maxGradNorm) ?? d.maxGradNorm
            adamBeta1 = try c.decodeIfPresent(Double.self, forKey: .adamBeta1) ?? d.adamBeta1
            adamBeta2 = try c.decodeIfPresent(Double.self, forKey: .adamBeta2) ?? d.adamBeta2
            logEvery = try c.decodeIfPresent(Int.self, forKey: .logEvery) ?? d.logEvery
            checkpointEvery = try c.decodeIfPresent(Int.self, forKey: .checkpointEvery) ?? d.checkpointEvery
            evalDocuments = try c.decodeIfPresent(Int.self, forKey: .evalDocuments) ?? d.evalDocuments
        }
    }

    public struct Corpus: Codable, Equatable, Sendable {
        /// A generator name (`arithmetic`) or nil when `path` is given.
        public var generator: String?
        public var path: String?
        public var documents = 100_000
        public var digits = 2
        public var operators = "+-"
        public var exerciseShare = 0.5
        public var formatCompliance = 0.5

        enum CodingKeys: String, CodingKey, CaseIterable {
            case generator, path, documents, digits, operators
            case exerciseShare = "exercise_share", formatCompliance = "format_compliance"
        }
        public init() {}
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self), d = Corpus()
            generator = try c.decodeIfPresent(String.self, forKey: .generator)
            path = try c.decodeIfPresent(String.self, forKey: .path)
            documents = try c.decodeIfPresent(Int.self, forKey: .documents) ?? d.documents
            digits = try c.decodeIfPresent(Int.self, forKey: .digits) ?? d.digits
            operators = try c.decodeIfPresent(String.self, forKey: .operators) ?? d.operators
            exerciseShare = try c.decodeIfPresent(Double.self, forKey: .exerciseShare) ?? d.exerciseShare
            formatCompliance = try c.decodeIfPresent(Double.self, forKey: .formatCompliance) ?? d.formatCompliance
        }

        public var arithmetic: ArithmeticCorpus {
            ArithmeticCorpus(digits: digits, operators: operators, exerciseShare: exerciseShare, formatCompliance: formatCompliance)
        }
    }

    /// `byte`: one token per byte. `bpe`: a byte-level BPE trained on the training documents, up to
    /// `vocab_size` tokens (fewer when no pair is left that occurs twice).
    public struct TokenizerSpec: Codable, Equatable, Sendable {
        public var type = "byte"
        public var vocabSize = 1024
        /// `qwen2` or `spaced_words` (see `BPETrainer.spacedWordsPattern`).
        public var preTokenizer = "qwen2"

        enum CodingKeys: String, CodingKey, CaseIterable { case type, vocabSize = "vocab_size", preTokenizer = "pre_tokenizer" }
        public init() {}
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self), d = TokenizerSpec()
            type = try c.decodeIfPresent(String.self, forKey: .type) ?? d.type
            vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? d.vocabSize
            preTokenizer = try c.decodeIfPresent(String.self, forKey: .preTokenizer) ?? d.preTokenizer
        }

        var pattern: String { preTokenizer == "spaced_words" ? BPETrainer.spacedWordsPattern : BPETrainer.qwen2Pattern }
    }

    public var file: URL
    public var text: String
    public var seed: UInt64 = 0
    public var threads: Int?
    public var model = Model()
    public var training = Training()
    public var corpus = Corpus()
    public var tokenizer = TokenizerSpec()

    public static func load(_ file: URL) throws -> PretrainConfig {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw ExperimentError.fileNotFound(path: file.path, what: "pretraining config")
        }
        let text = String(decoding: data, as: UTF8.self)
        let reader = YAMLReader(file: file.path)
        let root = try reader.root(of: text)
        try reader.checkKeys(root, allowed: ["seed", "threads", "model", "training", "corpus", "tokenizer"], at: "")
        var config = PretrainConfig(file: file, text: text)
        config.seed = try reader.decode(UInt64.self, at: "seed", in: root) ?? 0
        config.threads = try reader.decode(Int.self, at: "threads", in: root)
        for (section, keys) in [("model", Model.CodingKeys.allCases.map(\.rawValue)), ("training", Training.CodingKeys.allCases.map(\.rawValue)),
                                ("corpus", Corpus.CodingKeys.allCases.map(\.rawValue)),
                                ("tokenizer", TokenizerSpec.CodingKeys.allCases.map(\.rawValue))] {
            try reader.checkKeys(root.mapping?[section] ?? YAMLReader.emptyMapping, allowed: keys, at: section)
        }
        config.model = try reader.decode(Model.self, at: "model", node: root.mapping?["model"] ?? YAMLReader.emptyMapping)
        config.training = try reader.decode(Training.self, at: "training", node: root.mapping?["training"] ?? YAMLReader.emptyMapping)
        config.corpus = try reader.decode(Corpus.self, at: "corpus", node: root.mapping?["corpus"] ?? YAMLReader.emptyMapping)
        config.tokenizer = try reader.decode(TokenizerSpec.self, at: "tokenizer", node: root.mapping?["tokenizer"] ?? YAMLReader.emptyMapping)
        try config.validate()
        return config
    }

    func validate() throws {
        func require(_ ok: Bool, _ path: String, _ message: String) throws {
            if !ok { throw ExperimentError.invalidValue(file: file.path, keyPath: path, message: message) }
        }
        let m = model, t = training
        try require(m.hiddenSize > 0 && m.hiddenSize % m.numAttentionHeads == 0, "model.hidden_size", "expected a positive multiple of num_attention_heads (\(m.numAttentionHeads)), got \(m.hiddenSize)")
        try require((m.hiddenSize / max(m.numAttentionHeads, 1)) % 2 == 0, "model.hidden_size", "expected an even head dimension (hidden_size / num_attention_heads)")
        try require(m.numAttentionHeads > 0 && m.numKeyValueHeads > 0 && m.numAttentionHeads % m.numKeyValueHeads == 0, "model.num_key_value_heads",
                    "expected a positive divisor of num_attention_heads (\(m.numAttentionHeads)), got \(m.numKeyValueHeads)")
        try require(m.intermediateSize > 0, "model.intermediate_size", "expected a positive size, got \(m.intermediateSize)")
        try require(m.numHiddenLayers > 0, "model.num_hidden_layers", "expected at least 1, got \(m.numHiddenLayers)")
        try require(t.sequenceLength >= 2 && t.sequenceLength <= m.maxPositionEmbeddings, "training.sequence_length",
                    "expected 2 … max_position_embeddings (\(m.maxPositionEmbeddings)), got \(t.sequenceLength)")
        try require(t.steps > 0, "training.steps", "expected at least 1, got \(t.steps)")
        try require(t.batchSize > 0, "training.batch_size", "expected at least 1, got \(t.batchSize)")
        try require(t.learningRate > 0, "training.learning_rate", "expected a positive number, got \(t.learningRate)")
        try require((0...1).contains(t.minLearningRateRatio), "training.min_learning_rate_ratio", "expected a number in [0, 1], got \(t.minLearningRateRatio)")
        try require(t.logEvery > 0, "training.log_every", "expected at least 1, got \(t.logEvery)")
        try require(corpus.generator != nil || corpus.path != nil, "corpus", "expected `generator: arithmetic` or `path: FILE`")
        if let generator = corpus.generator {
            try require(generator == "arithmetic", "corpus.generator", "expected arithmetic, got \"\(generator)\"")
        }
        try require((1...9).contains(corpus.digits), "corpus.digits", "expected 1 … 9, got \(corpus.digits)")
        try require(!corpus.operators.isEmpty && corpus.operators.allSatisfy { "+-*/".contains($0) }, "corpus.operators",
                    "expected some of + - * /, got \"\(corpus.operators)\"")
        try require((0...1).contains(corpus.exerciseShare), "corpus.exercise_share", "expected a number in [0, 1], got \(corpus.exerciseShare)")
        try require(["byte", "bpe"].contains(tokenizer.type), "tokenizer.type", "expected byte or bpe, got \"\(tokenizer.type)\"")
        try require(["qwen2", "spaced_words"].contains(tokenizer.preTokenizer), "tokenizer.pre_tokenizer",
                    "expected qwen2 or spaced_words, got \"\(tokenizer.preTokenizer)\"")
        let smallest = Pretraining.specialTokens.count + 256
        try require(tokenizer.vocabSize >= smallest, "tokenizer.vocab_size",
                    "expected at least \(smallest) (\(Pretraining.specialTokens.count) special tokens + 256 bytes), got \(tokenizer.vocabSize)")
        try require((0...1).contains(corpus.formatCompliance), "corpus.format_compliance", "expected a number in [0, 1], got \(corpus.formatCompliance)")
    }

    public func transformerConfig(vocabularySize: Int) -> TransformerConfig {
        TransformerConfig(modelType: .qwen2, vocabularySize: vocabularySize, hiddenSize: model.hiddenSize, intermediateSize: model.intermediateSize,
                          layerCount: model.numHiddenLayers, headCount: model.numAttentionHeads, keyValueHeadCount: model.numKeyValueHeads,
                          ropeTheta: model.ropeTheta, maxPositionEmbeddings: model.maxPositionEmbeddings,
                          tieWordEmbeddings: model.tieWordEmbeddings, bosTokenId: 2, eosTokenIds: [1])
    }
}

/// The pretraining loop.
public final class Pretraining {
    public let config: PretrainConfig
    public let model: Transformer
    public let tokenizer: any Tokenizer
    let tokenizerJSON: Data
    let trainDocuments: [String]
    let heldDocuments: [String]
    let output: URL
    let log: (String) -> Void

    static let specialTokens = ["<pad>", "<eos>", "<bos>"]
    static let eos: Int32 = 1

    /// Makes the documents, the tokenizer (a BPE is trained on the training documents) and a random model.
    public init(config: PretrainConfig, corpusOverride: PretrainingCorpus.Source? = nil, output: URL, log: @escaping (String) -> Void) throws {
        self.config = config
        self.output = output
        self.log = log
        Parallel.configure(threads: config.threads)
        let source = corpusOverride ?? config.corpus.path.map { .file(Experiment.resolve($0, relativeTo: config.file.deletingLastPathComponent())) }
            ?? .arithmetic(config.corpus.arithmetic)
        let t = config.training
        var documents = try PretrainingCorpus(source).documents(count: config.corpus.documents + t.evalDocuments, seed: config.seed)
        // Held out: the last eval_documents (a file: every 20th document, at most eval_documents).
        if case .file = source {
            heldDocuments = stride(from: 0, to: documents.count, by: 20).prefix(t.evalDocuments).map { documents[$0] }
            documents = documents.enumerated().filter { $0.offset % 20 != 0 || $0.offset / 20 >= t.evalDocuments }.map(\.element)
        } else {
            heldDocuments = Array(documents.suffix(t.evalDocuments))
            documents.removeLast(t.evalDocuments)
        }
        trainDocuments = documents
        if config.tokenizer.type == "bpe" {
            let trained = try BPETrainer(vocabularySize: config.tokenizer.vocabSize, specialTokens: Self.specialTokens,
                                         pattern: config.tokenizer.pattern).train(on: documents)
            tokenizerJSON = try trained.tokenizerJSON()
        } else {
            tokenizerJSON = try ByteLevelVocabulary.tokenizerJSON(specialTokens: Self.specialTokens)
        }
        tokenizer = try BPETokenizer(data: tokenizerJSON)
        model = Transformer(config: config.transformerConfig(vocabularySize: tokenizer.vocabularySize))
        model.parameters.initializeRandomly(seed: config.seed, standardDeviation: 0.02)
    }

    /// Documents → one token stream, each document followed by EOS.
    func stream(_ documents: [String]) -> [Int32] {
        var tokens: [Int32] = []
        for document in documents {
            tokens += tokenizer.encode(document).map(Int32.init)
            tokens.append(Self.eos)
        }
        return tokens
    }

    @discardableResult
    public func run() throws -> (trainLoss: Double, evalLoss: Double) {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: output, withIntermediateDirectories: true)
        let t = config.training
        let train = stream(trainDocuments), evaluation = stream(heldDocuments)
        let length = t.sequenceLength
        guard train.count > length + 1 else {
            throw ExperimentError.invalidValue(file: config.file.path, keyPath: "corpus", message: "the corpus has \(train.count) tokens, fewer than one sequence of \(length)")
        }
        log("pretraining \(model.parameters.count) parameters on \(train.count) tokens (\(trainDocuments.count) documents, \(tokenizer.vocabularySize)-token vocabulary), \(t.steps) steps of \(t.batchSize) × \(length) tokens")

        let optimizer = AdamW(parameterCount: model.parameters.count,
                              decayedRanges: model.parameters.slots.filter { GRPOTrainer.isDecayed($0.name) }.map { $0.offset..<($0.offset + $0.count) },
                              beta1: t.adamBeta1, beta2: t.adamBeta2, epsilon: 1e-8, weightDecay: t.weightDecay)
        let schedule = LearningRateSchedule(type: .cosine, baseLearningRate: t.learningRate, warmupSteps: t.warmupSteps, totalSteps: t.steps)
        var generator = SeededGenerator(seed: config.seed, stream: 0x9e7)
        let logFile = output.appendingPathComponent("pretrain.jsonl")
        guard fileManager.createFile(atPath: logFile.path, contents: nil) else {
            throw ExperimentError.runDirectory(path: output.path, message: "cannot create pretrain.jsonl here")
        }
        let logHandle = try FileHandle(forWritingTo: logFile)
        defer { try? logHandle.close() }
        let start = Date()
        var recent: [Double] = []
        var lastTrain = Double.nan, lastEval = Double.nan
        for step in 0..<t.steps {
            let batch = (0..<t.batchSize).map { _ -> TokenSequence in
                let offset = Int(generator.next() % UInt64(train.count - length))
                let window = Array(train[offset..<(offset + length)])
                return TokenSequence(prompt: [window[0]], completion: Array(window[1...]))
            }
            let scored = t.batchSize * (length - 1)
            let pass = try model.forward(batch)
            let loss = -pass.logProbs.reduce(0.0) { $0 + $1.reduce(0.0) { $0 + Double($1) } } / Double(scored)
            try model.backward(pass, logProbGradients: batch.map { [Float](repeating: -1 / Float(scored), count: $0.completion.count) })
            let norm = clipGradientNorm(model.parameters.gradients.pointer, count: model.parameters.count, maxNorm: t.maxGradNorm)
            // Linear warmup, then cosine from the full rate down to min_learning_rate_ratio of it.
            let multiplier = schedule.multiplier(atStep: step)
            let learningRate = t.learningRate * (step < t.warmupSteps ? multiplier
                                                 : t.minLearningRateRatio + (1 - t.minLearningRateRatio) * multiplier)
            if loss.isFinite, norm.isFinite {
                optimizer.update(values: model.parameters.values.pointer, gradients: model.parameters.gradients.pointer, learningRate: learningRate)
            }
            model.parameters.zeroGradients()
            recent.append(loss)
            lastTrain = loss
            let done = step + 1
            var fields: [(String, Any)] = []
            if done % t.logEvery == 0 || done == t.steps {
                let elapsed = Date().timeIntervalSince(start)
                let mean = recent.reduce(0, +) / Double(recent.count)
                recent.removeAll()
                fields = [("step", done), ("loss", mean), ("lr", learningRate), ("grad_norm", norm),
                          ("tokens_per_second", Double(done * t.batchSize * length) / elapsed), ("seconds", elapsed)]
                var line = String(format: "step %d/%d | loss %.4f | lr %.2e | %.0f tok/s", done, t.steps, mean, learningRate,
                                  Double(done * t.batchSize * length) / elapsed)
                let evalDue = done == t.steps || (t.checkpointEvery > 0 && done % t.checkpointEvery == 0)
                if evalDue, !evaluation.isEmpty {
                    lastEval = try heldOutLoss(evaluation)
                    fields.append(("eval_loss", lastEval))
                    line += String(format: " | held-out loss %.4f", lastEval)
                }
                log(line)
                try logHandle.write(contentsOf: Data(metricsRecord(fields).utf8))
                if evalDue { try save() }
            }
        }
        return (lastTrain, lastEval)
    }

    /// Mean next-token loss over fixed windows of the held-out stream.
    func heldOutLoss(_ tokens: [Int32]) throws -> Double {
        let length = min(config.training.sequenceLength, tokens.count)
        guard length >= 2 else { return .nan }
        let windows = stride(from: 0, to: tokens.count - length + 1, by: length).prefix(64).map {
            TokenSequence(prompt: [tokens[$0]], completion: Array(tokens[($0 + 1)..<($0 + length)]))
        }
        let logProbs = try model.logProbs(of: windows).logProbs
        let count = logProbs.reduce(0) { $0 + $1.count }
        return -logProbs.reduce(0.0) { $0 + $1.reduce(0.0) { $0 + Double($1) } } / Double(max(count, 1))
    }

    func save() throws {
        try model.save(to: output)
        try tokenizerJSON.write(to: output.appendingPathComponent("tokenizer.json"))
        try ByteLevelVocabulary.tokenizerConfigJSON().write(to: output.appendingPathComponent("tokenizer_config.json"))
        try config.text.write(to: output.appendingPathComponent("pretrain.yaml"), atomically: true, encoding: .utf8)
        log("saved \(output.path)")
    }
}
