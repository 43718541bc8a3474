import ArgumentParser

@main
struct GRPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo",
        abstract: "SwiftGRPO: GRPO reinforcement learning for language models, on the CPU.",
        version: SwiftGRPOVersion.string,
        subcommands: [
            SampleCommand.self,
            LogProbsCommand.self,
            BenchCommand.self,
            ScoreCommand.self,
            TokenizeCommand.self,
            InspectCommand.self,
        ]
    )
}

enum SwiftGRPOVersion {
    static let string = "0.1.0-dev"
}
