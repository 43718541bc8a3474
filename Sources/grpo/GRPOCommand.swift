import ArgumentParser
import Experiments
import Foundation
import Tensors

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

    static func main() {
        restartWithOpenBLASKernelsForThisCPU()
        main(nil)
    }

    /// OpenBLAS chose kernels older than this CPU's vector instructions (`OpenBLASCore`): it reads
    /// `OPENBLAS_CORETYPE` only when it is loaded, so the process starts again with it set. A value the user set is
    /// kept; if the restart fails, the command runs with OpenBLAS's own choice.
    private static func restartWithOpenBLASKernelsForThisCPU() {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let core = OpenBLASCore.suggestedCoreType else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")
    }
}
