import Foundation
import PolicyModel
import RewardSystem
import Tensors
import Tokenizers
import Rewards
import Trajectories

/// pass@1 (greedy), pass@k and maj@k of a policy on held-out problems.
public struct Evaluator {
    public var problems: [Problem]
    public var prompts: [[Int32]]
    public var promptTexts: [String]
    public var rewards: RewardSet
    /// The rule whose value decides correctness (≥ 1 is correct): `accuracy`, else `countdown`, else the first.
    public var correctnessRule: String
    public var tokenizer: any Tokenizer
    public var sampling: SamplingParameters
    public var k: Int
    public var temperature: Float
    public var seed: UInt64

    public struct Result {
        public var record: EvaluationRecord
        /// The greedy completion of each problem, for reports.
        public var greedyTexts: [String]
        /// Mean reward of each rule over the greedy completions, in rule order.
        public var greedyRuleMeans: [Double]
    }

    /// The problems whose rendered prompt fits in `context` tokens, with their prompts; and how many did not.
    public static func fitting(_ problems: [Problem], template: PromptTemplate, tokenizer: any Tokenizer, context: Int) throws
        -> (problems: [Problem], texts: [String], prompts: [[Int32]], skipped: Int) {
        var kept: [Problem] = [], texts: [String] = [], prompts: [[Int32]] = []
        for problem in problems {
            let text = try template.render(problem)
            let ids = tokenizer.encode(text).map(Int32.init)
            guard !ids.isEmpty, ids.count <= context else { continue }
            kept.append(problem)
            texts.append(text)
            prompts.append(ids)
        }
        return (kept, texts, prompts, problems.count - kept.count)
    }

    public static func correctnessRule(among rules: [String]) -> String {
        ["accuracy", "countdown"].first(where: rules.contains) ?? rules[0]
    }

    public func evaluate(_ policy: Transformer, step: Int) throws -> Result {
        var greedy = sampling
        greedy.greedy = true
        let greedyGenerations = try policy.generate(prompts: prompts, parameters: greedy, seed: seed)
        let greedyScores = try score(greedyGenerations, repeating: 1)
        var problemsOut: [EvaluationProblem] = []
        var passAtK = 0.0, majAtK = 0.0
        var sampledScores: [ScoredCompletion] = []
        if k > 1 {
            var sampled = sampling
            sampled.temperature = temperature
            let generations = try policy.generate(prompts: prompts.flatMap { Array(repeating: $0, count: k) }, parameters: sampled, seed: seed &+ 1)
            sampledScores = try score(generations, repeating: k)
        }
        for index in problems.indices {
            let greedyCorrect = isCorrect(greedyScores[index])
            var correctSamples = greedyCorrect ? 1 : 0
            if k > 1 {
                let samples = Array(sampledScores[index * k..<(index + 1) * k])
                correctSamples = samples.filter(isCorrect).count
                if correctSamples > 0 { passAtK += 1 }
                if majorityIsCorrect(samples) { majAtK += 1 }
            } else if greedyCorrect {
                passAtK += 1
                majAtK += 1
            }
            problemsOut.append(EvaluationProblem(problemIndex: problems[index].index, correct: greedyCorrect, correctSamples: correctSamples))
        }
        let count = Double(max(problems.count, 1))
        let passAt1 = Double(problemsOut.filter(\.correct).count) / count
        let ruleNames = rewards.rules.map(\.name)
        let means = ruleNames.map { rule in greedyScores.reduce(0) { $0 + ($1.value(of: rule) ?? 0) } / count }
        return Result(record: EvaluationRecord(step: step, k: k, passAt1: passAt1, passAtK: passAtK / count,
                                               majAtK: majAtK / count, problems: problemsOut),
                      greedyTexts: greedyGenerations.map { tokenizer.decode($0.tokens.map(Int.init), skipSpecialTokens: true) },
                      greedyRuleMeans: means)
    }

    func score(_ generations: [Generation], repeating: Int) throws -> [ScoredCompletion] {
        var rewards = self.rewards
        let completions = generations.map {
            Completion(text: tokenizer.decode($0.tokens.map(Int.init), skipSpecialTokens: true), tokenCount: $0.tokens.count,
                       truncated: $0.finishReason == .length)
        }
        return try rewards.score(completions, against: problems.flatMap { Array(repeating: $0.sample, count: repeating) })
    }

    func isCorrect(_ scored: ScoredCompletion) -> Bool { (scored.value(of: correctnessRule) ?? 0) >= 1 }

    /// The most frequent extracted answer (ties: the first seen) is correct.
    func majorityIsCorrect(_ samples: [ScoredCompletion]) -> Bool {
        var counts: [String: Int] = [:], firstCorrect: [String: Bool] = [:], order: [String] = []
        for sample in samples {
            guard case .some(.some(let answer)) = sample.extracted(by: correctnessRule) else { continue }
            if counts[answer] == nil { order.append(answer); firstCorrect[answer] = isCorrect(sample) }
            counts[answer, default: 0] += 1
        }
        guard let best = order.max(by: { counts[$0]! < counts[$1]! || (counts[$0]! == counts[$1]! && order.firstIndex(of: $0)! > order.firstIndex(of: $1)!) }) else {
            return false
        }
        return firstCorrect[best] ?? false
    }
}

extension Evaluator {
    /// The evaluator of an experiment on `held` (from `fitting`): its rewards, correctness rule, temperature and seed.
    public init(experiment: Experiment, held: (problems: [Problem], texts: [String], prompts: [[Int32]], skipped: Int),
                rewards: RewardSet, tokenizer: any Tokenizer, sampling: SamplingParameters, k: Int) {
        self.init(problems: held.problems, prompts: held.prompts, promptTexts: held.texts, rewards: rewards,
                  correctnessRule: Evaluator.correctnessRule(among: rewards.rules.map(\.name)), tokenizer: tokenizer,
                  sampling: sampling, k: k, temperature: experiment.evaluation.temperature, seed: experiment.seed &+ 0x5eed)
    }
}

/// `grpo eval`: one checkpoint on an experiment's held-out split, recorded in a run file.
public enum ModelEvaluation {
    public static func run(experiment: Experiment, model: URL, k: Int?, problems: Int?, step: Int?, runFile: String) throws -> Evaluator.Result {
        guard FileManager.default.fileExists(atPath: model.appendingPathComponent("config.json").path) else {
            throw ExperimentError.fileNotFound(path: model.path, what: "model checkpoint (config.json + model.safetensors)")
        }
        let policy = try Transformer.load(directory: model)
        let tokenizerPath = FileManager.default.fileExists(atPath: model.appendingPathComponent("tokenizer.json").path)
            ? model.appendingPathComponent("tokenizer.json") : experiment.tokenizerPath
        let tokenizer = try loadTokenizer(path: tokenizerPath.path)
        let template = try experiment.task.makeTemplate()
        let splits = try experiment.task.makeSplits(relativeTo: experiment.file.deletingLastPathComponent())
        let chosen = Array(splits.eval.prefix(problems ?? experiment.evaluation.size ?? splits.eval.count))
        guard !chosen.isEmpty else {
            throw ExperimentError.invalidValue(file: experiment.file.path, keyPath: "task", message: "the task has no held-out problems to evaluate")
        }
        let rewards = try UserRewards.registry().makeRewardSet(experiment.rewards)
        let sampling = experiment.evaluationSampling(model: policy.config, tokenizer: tokenizer)
        let held = try Evaluator.fitting(chosen, template: template, tokenizer: tokenizer,
                                         context: policy.config.maxPositionEmbeddings - sampling.maxNewTokens)
        guard !held.problems.isEmpty else {
            throw ExperimentError.invalidValue(file: experiment.file.path, keyPath: "task",
                                               message: "no held-out prompt fits the model's context of \(policy.config.maxPositionEmbeddings) tokens with \(sampling.maxNewTokens) new tokens")
        }
        let evaluator = Evaluator(experiment: experiment, held: held, rewards: rewards, tokenizer: tokenizer, sampling: sampling,
                                  k: k ?? experiment.evaluation.k)
        let checkpointStep = (try? Checkpoint(directory: model))?.state.generationStep
        let result = try evaluator.evaluate(policy, step: step ?? checkpointStep ?? 0)
        let writer: TrajectoryWriter
        if FileManager.default.fileExists(atPath: runFile) {
            writer = try TrajectoryWriter(resuming: runFile)
        } else {
            writer = try TrajectoryWriter(creating: runFile, metadata: RunMetadata(
                experiment: experiment.text, seed: experiment.seed, swiftGRPOVersion: swiftGRPOVersion, modelPath: model.path,
                modelHash: TrainingRun.contentHash(policy.parameters), tokenizerPath: tokenizerPath.path,
                tokenizerHash: TrainingRun.fileHash(tokenizerPath), rewardRules: rewards.rules.map(\.name),
                rewardWeights: rewards.rules.map(\.weight)))
        }
        try writer.appendEvaluation(result.record)
        try writer.close()
        return result
    }
}
