import ArgumentParser
import Experiments

@main
struct GRPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo",
        abstract: "SwiftGRPO: GRPO reinforcement learning for language models, on the CPU.",
        version: swiftGRPOVersion,
        subcommands: [
            TrainCommand.self,
            PretrainCommand.self,
            EvalCommand.self,
            SampleCommand.self,
            LogProbsCommand.self,
            BenchCommand.self,
            ScoreCommand.self,
            TokenizeCommand.self,
            InspectCommand.self,
            CompareCommand.self,
        ]
    )
}

