import ArgumentParser
import Foundation
import GRPO
import PolicyModel
import RewardSystem
import Tensors
import Tokenizers

/// TRL's benchmark rewards (../shared/bench/trl_grpo_tiny.py): 1 if the completion contains the sum, 0.5 if
/// it starts with an integer.
private struct ContainsAnswer: RewardRule {
    let name = "correctness"
    func score(_ completion: Completion, for sample: Sample) throws -> RewardOutcome {
        let answer = sample.answer ?? ""
        var searchStart = completion.text.startIndex
        while let range = completion.text.range(of: answer, range: searchStart..<completion.text.endIndex) {
            let before = range.lowerBound > completion.text.startIndex ? completion.text[completion.text.index(before: range.lowerBound)] : " "
            let after = range.upperBound < completion.text.endIndex ? completion.text[range.upperBound] : " "
            if !before.isNumber && !after.isNumber { return RewardOutcome(value: 1) }
            searchStart = completion.text.index(after: range.lowerBound)
        }
        return RewardOutcome(value: 0)
    }
}

private struct StartsWithInteger: RewardRule {
    let name = "format"
    func score(_ completion: Completion, for sample: Sample) throws -> RewardOutcome {
        var text = Substring(completion.text.drop { $0.isWhitespace })
        if text.first == "-" { text = text.dropFirst() }
        return RewardOutcome(value: text.first?.isASCII == true && text.first?.isNumber == true ? 0.5 : 0)
    }
}

struct BenchGRPOStepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo-step",
        abstract: "One GRPO step in TRL's benchmark configuration (../shared/bench/trl_grpo_tiny.py).",
        discussion: """
        The tiny Qwen2 shape (random init), a byte-level tokenizer, prompts "Compute a+b =" (~15 tokens), \
        2 prompts × 8 completions of 64 tokens (EOS ignored), β = 0.04 with the reference pass, loss dapo, \
        lr 1e-5. Prints seconds per step and per phase (medians over the timed steps), GFLOP/s counted as TRL's \
        script counts them (10 × matmul parameters × tokens), and peak RSS, as one JSON line.
        """)

    @Option(help: "Timed steps after one warm-up step; medians are reported.") var steps: Int = 10
    @Option(help: "Completion tokens per sequence.") var completionLength: Int = 64
    @Option(help: "Completions per prompt.") var numGenerations: Int = 8
    @Option(help: "Completions per step (per_device_train_batch_size).") var batch: Int = 16
    @Option(help: "KL coefficient (0 skips the reference model).") var beta: Double = 0.04
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try threadOptions.apply()
        guard steps >= 1 else { throw ValidationError("--steps must be ≥ 1, got \(steps)") }
        let policy = BenchModel.tiny.randomModel()
        let tokenizer = CharacterTokenizer.bytes(specialTokens: ["<pad>", "<eos>", "<bos>"])
        var config = GRPOConfig()
        config.numGenerations = numGenerations
        config.perDeviceTrainBatchSize = batch
        config.maxCompletionLength = completionLength
        config.beta = beta
        config.lossType = .dapo
        config.learningRate = 1e-5
        config.maxSteps = steps + 1
        config.seed = 42
        let rewards = try RewardSet([WeightedRule(ContainsAnswer()), WeightedRule(StartsWithInteger())])
        let trainer = try GRPOTrainer(config: config, policy: policy, rewards: rewards, tokenizer: tokenizer, eosTokenIDs: [])

        var generator = SeededGenerator(seed: 0)
        func prompts() -> [TrainingPrompt] {
            (0..<config.promptsPerStep).map { index in
                let a = Int(generator.next() % 100), b = Int(generator.next() % 100)
                let text = "Compute \(a)+\(b) ="
                return TrainingPrompt(index: index, tokenIDs: tokenizer.encode(text).map(Int32.init),
                                      sample: Sample(prompt: text, answer: String(a + b)))
            }
        }
        var results: [StepResult] = []
        for step in 0...steps {
            let result = try trainer.step(prompts: prompts())
            if step > 0 { results.append(result) }
        }

        let seconds = results.map(\.metrics.seconds)
        let stepSeconds = median(seconds.map(\.total))
        let sequences = Double(batch)
        let promptLength = results.map { Double($0.prompts.map(\.tokenIDs.count).reduce(0, +)) / Double($0.prompts.count) }.reduce(0, +) / Double(results.count)
        let completion = results.map(\.metrics.completionLengthMean).reduce(0, +) / Double(results.count)
        let flops = 10 * Double(matmulParameters(policy.config)) * sequences * (promptLength + completion)
        try printJSON([
            "benchmark": "grpo-step", "config": "tiny", "threads": Parallel.threadCount, "steps": steps,
            "completions_per_step": batch, "num_generations": numGenerations, "beta": beta, "loss_type": "dapo",
            "mean_prompt_length": promptLength, "mean_completion_length": completion,
            "seconds_per_step_median": stepSeconds, "seconds_per_step_min": seconds.map(\.total).min()!,
            "seconds_per_step_all": seconds.map(\.total),
            "phase_seconds_median": [
                "sample": median(seconds.map(\.sample)), "score": median(seconds.map(\.score)),
                "reference": median(seconds.map(\.reference)), "policy_update": median(seconds.map(\.policyUpdate)),
            ],
            "gflop_per_step": flops / 1e9, "gflops_per_second": flops / stepSeconds / 1e9,
            "reward_mean_last_step": results.last!.metrics.rewardMean,
            "peak_rss_mb": peakResidentMegabytes(),
        ])
    }
}
