import ArgumentParser
import Trajectories

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarize a run file, or show one step's completions with their rewards.",
        discussion: """
            Without --step: the run's config (model, tokenizer, seed, reward rules and weights, the experiment \
            file), its steps and evaluations, and the metrics of the last step. With --step N: step N's metrics \
            and its first K completions (--completions, default 4), each with its prompt, text, length, finish \
            reason, rewards per rule, total reward, advantage and rule errors. A run file that a run is still \
            writing can be inspected; a step in flight is not shown.
            """)

    @Argument(help: ArgumentHelp("The run file, e.g. runs/NAME/run.h5.", valueName: "run-file"))
    var runFile: String

    @Option(help: ArgumentHelp("Show this step's completions.", valueName: "N"))
    var step: Int?

    @Option(help: ArgumentHelp("How many completions to show (default 4); without --step, of the last step.",
                               valueName: "K"))
    var completions: Int?

    func validate() throws {
        if let completions, completions < 0 { throw ValidationError("--completions must be 0 or more, got \(completions)") }
    }

    func run() throws {
        let reader = try TrajectoryReader(path: runFile)
        if let step {
            print(try RunReport.step(step, of: reader, completions: completions ?? 4))
        } else {
            print(try RunReport.summary(of: reader))
            if let completions, completions > 0, let last = reader.steps.last {
                print("")
                print(try RunReport.step(last, of: reader, completions: completions))
            }
        }
    }
}
