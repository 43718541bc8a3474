import Dispatch
import Foundation

/// Measures the store on synthetic steps shaped like a GRPO step: seconds per append, bytes per stored token and
/// the compression ratio. `grpo bench store` prints its result as one JSON line.
public enum StoreBenchmark {
    public struct Result: Codable, Equatable, Sendable {
        public var benchmark = "store"
        public var steps: Int
        public var completionsPerStep: Int
        public var tokensPerCompletion: Int
        public var secondsPerAppendMedian: Double
        public var secondsPerAppendMin: Double
        public var secondsPerAppendMax: Double
        /// CPU seconds (user + system) of the appending thread per append, median: unlike wall time, barely
        /// affected by other processes competing for the cores.
        public var cpuSecondsPerAppendMedian: Double
        /// Seconds of the step's bulk write + flush that the store records as `seconds_write` (median).
        public var secondsWriteMedian: Double
        public var fileBytes: Int
        /// Bytes of the same data uncompressed: fixed-size columns at their element size, text as UTF-8.
        public var rawBytes: Int
        public var tokens: Int
        public var bytesPerToken: Double
        public var compressionRatio: Double

        enum CodingKeys: String, CodingKey {
            case benchmark, steps, tokens
            case completionsPerStep = "completions_per_step"
            case tokensPerCompletion = "tokens_per_completion"
            case secondsPerAppendMedian = "seconds_per_append_median"
            case secondsPerAppendMin = "seconds_per_append_min"
            case secondsPerAppendMax = "seconds_per_append_max"
            case cpuSecondsPerAppendMedian = "cpu_seconds_per_append_median"
            case secondsWriteMedian = "seconds_write_median"
            case fileBytes = "file_bytes"
            case rawBytes = "raw_bytes"
            case bytesPerToken = "bytes_per_token"
            case compressionRatio = "compression_ratio"
        }

        public var jsonLine: String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
        }
    }

    public static let rules = ["correctness", "format"]

    /// Appends `steps` synthetic steps to a new file at `path` and measures each append.
    public static func run(path: String, overwrite: Bool = false, steps: Int, completionsPerStep: Int, tokensPerCompletion: Int,
                           groupSize: Int = 8, seed: UInt64 = 1) throws -> Result {
        let metadata = RunMetadata(experiment: "benchmark: synthetic steps\n", seed: seed, swiftGRPOVersion: "bench",
                                   modelPath: "synthetic", modelHash: "", tokenizerPath: "synthetic", tokenizerHash: "",
                                   rewardRules: rules, rewardWeights: [1, 0.5])
        let writer = try TrajectoryWriter(creating: path, metadata: metadata, overwrite: overwrite)
        var generator = SyntheticSteps(seed: seed)
        var appendSeconds: [Double] = []
        var cpuSeconds: [Double] = []
        var writeSeconds: [Double] = []
        var rawBytes = 0
        for step in 0..<steps {
            let record = generator.step(step, completions: completionsPerStep, tokensPerCompletion: tokensPerCompletion,
                                        groupSize: groupSize, ruleCount: rules.count)
            rawBytes += uncompressedBytes(of: record, ruleCount: rules.count)
            let cpuStart = threadCPUSeconds()
            let start = DispatchTime.now().uptimeNanoseconds
            writeSeconds.append(try writer.append(record))
            appendSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            cpuSeconds.append(threadCPUSeconds() - cpuStart)
        }
        try writer.close()
        let fileBytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        let tokens = steps * completionsPerStep * tokensPerCompletion
        return Result(steps: steps, completionsPerStep: completionsPerStep, tokensPerCompletion: tokensPerCompletion,
                      secondsPerAppendMedian: median(appendSeconds), secondsPerAppendMin: appendSeconds.min() ?? .nan,
                      secondsPerAppendMax: appendSeconds.max() ?? .nan, cpuSecondsPerAppendMedian: median(cpuSeconds),
                      secondsWriteMedian: median(writeSeconds),
                      fileBytes: fileBytes, rawBytes: rawBytes, tokens: tokens,
                      bytesPerToken: Double(fileBytes) / Double(max(tokens, 1)),
                      compressionRatio: Double(rawBytes) / Double(max(fileBytes, 1)))
    }

    /// CPU time of the calling thread, user + system.
    static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// The step's data at its stored element sizes without compression, text as UTF-8 bytes.
    static func uncompressedBytes(of record: StepRecord, ruleCount: Int) -> Int {
        let perToken = 4 + 3 * 4
        // step, prompt_index, prompt_row, token_offset (8 each), group, length (4 each), rewards, reward, advantage.
        let perCompletion = 4 * 8 + 2 * 4 + ruleCount * 4 + 2 * 4
        let perPrompt = 2 * 8
        let perStep = 26 * 8 + 2 * ruleCount * 8
        var bytes = perStep + record.prompts.count * perPrompt + record.completions.count * perCompletion
        for prompt in record.prompts { bytes += prompt.text.utf8.count + prompt.answer.utf8.count }
        for completion in record.completions {
            bytes += completion.length * perToken + completion.text.utf8.count + completion.finishReason.rawValue.utf8.count
            bytes += completion.ruleErrors.reduce(0) { $0 + $1.utf8.count }
        }
        return bytes
    }
}

/// Deterministic synthetic GRPO steps with realistic statistics: English-like reasoning text of about four bytes
/// per token, token ids skewed towards a small vocabulary, log-probs mostly near zero with a long tail, old and
/// new log-probs close to each other and the reference a little further away.
public struct SyntheticSteps {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// SplitMix64.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }

    private static let words = [
        "Let", "us", "compute", "the", "sum", "of", "first", "then", "multiply", "by", "and", "so", "we", "get",
        "so", "answer", "is", "<think>", "</think>", "<answer>", "</answer>", "therefore", "check", "again", "=",
        "+", "-", "*", "(", ")", "step", "which", "gives", "number", "remaining", "total", "each", "\\boxed{",
        "}", "First,", "Next,", "Finally,", "wait", "no", "that", "is", "wrong", "correct",
    ]

    public mutating func text(tokens: Int) -> String {
        var pieces: [String] = []
        pieces.reserveCapacity(tokens)
        for _ in 0..<max(tokens * 3 / 4, 1) {
            if uniform() < 0.2 { pieces.append(String(next() % 1000)) }
            else { pieces.append(Self.words[Int(next() % UInt64(Self.words.count))]) }
        }
        return pieces.joined(separator: " ")
    }

    /// A log-prob of a sampled token: mostly near 0 (confident), sometimes far below.
    public mutating func logProb() -> Float {
        let scale = uniform() < 0.7 ? 0.05 : 2.0
        return Float(-scale * -log(1 - uniform()))
    }

    public mutating func step(_ step: Int, completions: Int, tokensPerCompletion: Int, groupSize: Int,
                              ruleCount: Int) -> StepRecord {
        let groups = max(1, (completions + groupSize - 1) / groupSize)
        let prompts = (0..<groups).map { _ in
            PromptRecord(promptIndex: Int(next() % 7473), text: "Question: " + text(tokens: 40), answer: String(next() % 1000))
        }
        var records: [CompletionRecord] = []
        records.reserveCapacity(completions)
        for index in 0..<completions {
            let length = tokensPerCompletion
            let tokenIDs = (0..<length).map { _ in Int32(Double(151_936) * pow(uniform(), 3)) }
            let new = (0..<length).map { _ in logProb() }
            let old = new.map { $0 + Float(uniform() - 0.5) * 1e-3 }
            let reference = new.map { $0 + Float(uniform() - 0.5) * 0.1 }
            let rewards = (0..<ruleCount).map { _ in Float(next() % 2) }
            let total = rewards.reduce(0, +)
            records.append(CompletionRecord(
                group: index / groupSize, text: text(tokens: length), tokenIDs: tokenIDs,
                finishReason: uniform() < 0.8 ? .eos : .length, rewards: rewards, totalReward: total,
                advantage: Float(uniform() * 2 - 1), oldLogProbs: old, referenceLogProbs: reference, newLogProbs: new))
        }
        let metrics = StepMetrics(step: step, learningRate: 1e-5, loss: uniform(), kl: uniform() * 0.01,
                                  clipFractionLow: 0, clipFractionHigh: uniform() * 0.1, entropy: uniform(),
                                  gradNorm: uniform() * 5, zeroVarianceGroups: Int(next() % 2),
                                  tokensGenerated: completions * tokensPerCompletion,
                                  seconds: PhaseSeconds(sample: 0.6, score: 0.01, reference: 0.2, policyUpdate: 0.3))
        return StepRecord(metrics: metrics, prompts: prompts, completions: records)
    }
}
