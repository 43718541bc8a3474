import Foundation
import RewardSystem

/// One problem: the fields its prompt template fills, its gold answer, and what reward rules read.
public struct Problem: Sendable, Equatable {
    /// Position in its split (0-based).
    public var index: Int
    /// Template fields, e.g. `question`, `expression`, `numbers`, `target`; always holds `question`.
    public var fields: [String: String]
    /// The gold answer, bare (`18`, `-7`, `3/4`); nil when the dataset line had none. Countdown: one
    /// equation that reaches the target (the `countdown` rule ignores it: any correct equation scores).
    public var answer: String?
    /// Given to reward rules as `Sample.metadata` (countdown: `numbers` (array of ints), `target` (int)).
    public var metadata: [String: JSONValue]

    public init(index: Int = 0, fields: [String: String], answer: String?, metadata: [String: JSONValue] = [:]) {
        self.index = index
        self.fields = fields
        self.answer = answer
        self.metadata = metadata
    }

    /// The question text (`fields["question"]`, empty if absent).
    public var question: String { fields["question"] ?? "" }

    /// What the reward rules see: prompt = the question text, the gold answer and the metadata.
    public var sample: Sample { Sample(prompt: question, answer: answer, metadata: metadata) }
}

/// A task's problems: the training split and the held-out evaluation split. No evaluation question text
/// appears in `train`.
public struct TaskSplits: Sendable, Equatable {
    public var train: [Problem]
    public var eval: [Problem]

    public init(train: [Problem], eval: [Problem]) {
        self.train = train
        self.eval = eval
    }

    /// Numbers each split's problems 0, 1, … and drops every training problem whose question text is also
    /// an evaluation question.
    static func heldOut(train: [Problem], eval: [Problem]) -> TaskSplits {
        let evalQuestions = Set(eval.map(\.question))
        var trainKept = train.filter { !evalQuestions.contains($0.question) }
        var evalKept = eval
        for i in trainKept.indices { trainKept[i].index = i }
        for i in evalKept.indices { evalKept[i].index = i }
        return TaskSplits(train: trainKept, eval: evalKept)
    }
}

/// Draws problems from one seeded stream: first `evalSize` distinct ones for evaluation, then `trainSize`
/// for training, skipping any whose question is an evaluation question. Evaluation comes first so that
/// changing `train_size` never changes the evaluation set.
struct ProblemStream {
    var draw: (inout TaskRandom) throws -> Problem
    /// What makes two problems the same for the held-out rule (default: the question text).
    var key: (Problem) -> String = { $0.question }

    func splits(seed: UInt64, trainSize: Int, evalSize: Int, describe: String) throws -> TaskSplits {
        var random = TaskRandom(seed: seed)
        var eval: [Problem] = []
        var evalQuestions = Set<String>()
        var attempts = 0
        let evalBudget = 100 * evalSize + 10_000
        while eval.count < evalSize {
            attempts += 1
            if attempts > evalBudget {
                throw TaskError.cannotGenerate(key: "eval_size",
                    message: "found only \(eval.count) distinct \(describe) problems in \(evalBudget) draws, \(evalSize) wanted for evaluation; lower eval_size or widen the task")
            }
            var problem = try draw(&random)
            if evalQuestions.insert(key(problem)).inserted {
                problem.index = eval.count
                eval.append(problem)
            }
        }
        var train: [Problem] = []
        attempts = 0
        let trainBudget = 100 * trainSize + 10_000
        while train.count < trainSize {
            attempts += 1
            if attempts > trainBudget {
                throw TaskError.cannotGenerate(key: "train_size",
                    message: "found only \(train.count) \(describe) training problems outside the evaluation set in \(trainBudget) draws; lower eval_size or widen the task")
            }
            var problem = try draw(&random)
            if !evalQuestions.contains(key(problem)) {
                problem.index = train.count
                train.append(problem)
            }
        }
        return TaskSplits(train: train, eval: eval)
    }
}
