import ArgumentParser
import Foundation
import PolicyModel
import Tensors

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks; each prints one JSON line of results.",
        subcommands: [
            BenchSampleCommand.self,
            BenchTrainCommand.self,
            BenchTokenizeCommand.self,
            BenchStoreCommand.self,
            BenchGemmCommand.self,
            BenchGRPOStepCommand.self,
        ])
}

/// The model shapes of ../shared/bench (PyTorch and TRL baselines), random init.
enum BenchModel: String, ExpressibleByArgument, CaseIterable {
    case tiny, medium

    var config: TransformerConfig {
        switch self {
        case .tiny:
            return TransformerConfig(modelType: .qwen2, vocabularySize: 512, hiddenSize: 256, intermediateSize: 688, layerCount: 4,
                                     headCount: 4, keyValueHeadCount: 2, maxPositionEmbeddings: 1024, tieWordEmbeddings: true)
        case .medium:
            return TransformerConfig(modelType: .qwen2, vocabularySize: 32000, hiddenSize: 512, intermediateSize: 1376, layerCount: 8,
                                     headCount: 8, keyValueHeadCount: 4, maxPositionEmbeddings: 1024, tieWordEmbeddings: true)
        }
    }

    func randomModel() -> Transformer {
        let model = Transformer(config: config)
        model.parameters.initializeRandomly(seed: 0)
        return model
    }
}

/// Weights that take part in a matmul, per token (lm_head counted even when tied), as ../shared/bench counts them.
func matmulParameters(_ config: TransformerConfig) -> Int {
    let perLayer = config.hiddenSize * config.qkvWidth + config.queryWidth * config.hiddenSize + 3 * config.hiddenSize * config.intermediateSize
    return perLayer * config.layerCount + config.vocabularySize * config.hiddenSize
}

/// Attention FLOPs (q·kᵀ and p·v) of one sequence, summed over query positions with `keys` attended keys in all.
func attentionFlops(_ config: TransformerConfig, attendedKeys: Int) -> Double {
    Double(2 * 2 * config.layerCount * config.headCount * config.headDimension * attendedKeys)
}

func peakResidentMegabytes() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// The machine's FMA ceiling (all threads at once) measured before and after a benchmark, and the fraction of
/// the higher of the two that `achievedGflops` reached: on a shared virtual machine the ceiling itself moves, so a
/// time alone does not say whether the code or the machine got slower. The higher one, because a probe sometimes
/// reads half the machine for a while (117 against 221 GFLOP/s, for at least 0.3 s), and their mean then gave 106 %.
/// With them, the kernels OpenBLAS ran (`OpenBLASCore`).
func ceilingFields(before: Double, after: Double, achievedGflops: Double) -> [String: Any] {
    let ceiling = max(before, after)
    return ["fma_peak_gflops_before": before, "fma_peak_gflops_after": after,
            "fraction_of_fma_peak": ceiling > 0 ? achievedGflops / ceiling : 0, "openblas_core": OpenBLASCore.name]
}

func printJSON(_ object: [String: Any]) throws {
    print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
}

struct BenchSampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Batched KV-cache sampling: 16 prompts × 32 random tokens → 128 new tokens each (pure sampling, no EOS).")

    @Option(help: "Model shape: tiny or medium.") var config: BenchModel = .tiny
    @Option(help: "Timed runs after one warm-up; the median is reported.") var runs: Int = 5
    @Option(help: "Prompts.") var batch: Int = 16
    @Option(help: "Prompt tokens.") var promptLength: Int = 32
    @Option(help: "New tokens per prompt.") var newTokens: Int = 128
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        for (flag, value) in [("--runs", runs), ("--batch", batch), ("--prompt-length", promptLength)] where value < 1 {
            throw ValidationError("\(flag) must be at least 1, got \(value)")
        }
        guard newTokens >= 2 else {
            throw ValidationError("--new-tokens must be at least 2 (decode steps are timed after the first), got \(newTokens)")
        }
    }

    func run() throws {
        try threadOptions.apply()
        let model = config.randomModel()
        var generator = SeededGenerator(seed: 1)
        let prompts = (0..<batch).map { _ in (0..<promptLength).map { _ in Int32(1 + generator.next() % UInt64(model.config.vocabularySize - 1)) } }
        let parameters = SamplingParameters(maxNewTokens: newTokens, temperature: 1)
        var times: [Double] = [], prefill: [Double] = []
        let peakBefore = FMAPeak.gigaflops()
        for run in 0...runs {
            var generations: [Generation] = []
            let elapsed = try seconds { generations = try model.generate(prompts: prompts, parameters: parameters, seed: UInt64(run)) }
            precondition(generations.allSatisfy { $0.tokens.count == newTokens })
            let prefillTime = try seconds { _ = try model.logits(after: prompts) }
            if run > 0 { times.append(elapsed); prefill.append(prefillTime) }
        }
        let peakAfter = FMAPeak.gigaflops()
        let m = median(times)
        let c = model.config
        let tokens = batch * (promptLength + newTokens - 1)
        let attended = (1..<(promptLength + newTokens)).reduce(0, +)
        let flops = 2 * Double(matmulParameters(c)) * Double(tokens) + Double(batch) * attentionFlops(c, attendedKeys: attended)
        let gflops = flops / m / 1e9
        try printJSON(ceilingFields(before: peakBefore, after: peakAfter, achievedGflops: gflops).merging([
            "benchmark": "sample", "config": config.rawValue, "threads": Parallel.threadCount,
            "batch": batch, "prompt_length": promptLength, "new_tokens": newTokens, "runs": runs,
            "seconds_median": m, "seconds_min": times.min()!, "seconds_all": times,
            "new_tokens_per_second": Double(batch * newTokens) / m,
            "prefill_seconds_median": median(prefill),
            "ms_per_decode_step": 1000 * (m - median(prefill)) / Double(newTokens - 1),
            "gflops_per_second": gflops,
            "peak_rss_mb": peakResidentMegabytes(),
        ]) { $1 })
    }
}

struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Forward + backward of the mean token log-prob over 16 × 160 random tokens, and a no-grad forward.")

    @Option(help: "Model shape: tiny or medium.") var config: BenchModel = .tiny
    @Option(help: "Timed runs after one warm-up; the median is reported.") var runs: Int = 5
    @Option(help: "Sequences.") var batch: Int = 16
    @Option(help: "Tokens per sequence.") var sequenceLength: Int = 160
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        for (flag, value, least) in [("--runs", runs, 1), ("--batch", batch, 1), ("--sequence-length", sequenceLength, 2)]
        where value < least {
            throw ValidationError("\(flag) must be at least \(least), got \(value)")
        }
    }

    func run() throws {
        try threadOptions.apply()
        let model = config.randomModel()
        var generator = SeededGenerator(seed: 2)
        let sequences = (0..<batch).map { _ -> TokenSequence in
            let ids = (0..<sequenceLength).map { _ in Int32(1 + generator.next() % UInt64(model.config.vocabularySize - 1)) }
            return TokenSequence(prompt: [ids[0]], completion: Array(ids[1...]))
        }
        let scored = batch * (sequenceLength - 1)
        let gradient = sequences.map { [Float](repeating: -1 / Float(scored), count: $0.completion.count) }
        var forward: [Double] = [], backward: [Double] = [], noGrad: [Double] = []
        let peakBefore = FMAPeak.gigaflops()
        for run in 0...runs {
            model.parameters.zeroGradients()
            var pass: ForwardPass!
            let f = try seconds { pass = try model.forward(sequences) }
            let b = try seconds { try model.backward(pass, logProbGradients: gradient) }
            pass = nil
            let n = try seconds { _ = try model.logProbs(of: sequences) }
            if run > 0 { forward.append(f); backward.append(b); noGrad.append(n) }
        }
        let peakAfter = FMAPeak.gigaflops()
        let c = model.config
        let tokens = batch * sequenceLength
        let forwardFlops = 2 * Double(matmulParameters(c)) * Double(tokens)
            + Double(batch) * attentionFlops(c, attendedKeys: sequenceLength * (sequenceLength + 1) / 2)
        let total = zip(forward, backward).map { $0 + $1 }
        let trainingGflops = 3 * forwardFlops / median(total) / 1e9
        try printJSON(ceilingFields(before: peakBefore, after: peakAfter, achievedGflops: trainingGflops).merging([
            "benchmark": "train", "config": config.rawValue, "threads": Parallel.threadCount,
            "batch": batch, "sequence_length": sequenceLength, "runs": runs,
            "forward_s": median(forward), "backward_s": median(backward),
            "fwd_plus_bwd_s": median(total), "fwd_plus_bwd_s_min": total.min()!, "fwd_plus_bwd_s_all": total,
            "nograd_forward_s": median(noGrad),
            "fwd_bwd_gflops_per_s": trainingGflops,
            "nograd_fwd_gflops_per_s": forwardFlops / median(noGrad) / 1e9,
            "peak_rss_mb": peakResidentMegabytes(),
        ]) { $1 })
    }
}
