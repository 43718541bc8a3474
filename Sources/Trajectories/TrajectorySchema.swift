/// The run file's layout, format version 1, as data: the writer creates exactly these datasets, the reader
/// checks them, and `docs/trajectory-format.md` documents them (a test keeps the three in agreement).
public enum TrajectorySchema {
    public static let formatName = "SwiftGRPO trajectories"
    /// Bump on any change a reader could notice, and document the change in docs/trajectory-format.md.
    public static let version = 1

    /// Tables (HDF5 groups) in the order the writer fills them within a step; `steps` comes last so that a
    /// step row exists only once everything it points at is on disk.
    public static let tables = ["prompts", "completions", "tokens", "eval_problems", "evals", "steps"]

    /// How many values one row of a column holds.
    enum Width: Sendable {
        case one
        /// One value per reward rule (`RunMetadata.rewardRules`), names in the dataset's `rule_names` attribute.
        case rules
        /// One value per extra step metric, names in the dataset's `metric_names` attribute.
        case extra
    }

    struct ColumnSpec: Sendable {
        let path: String
        let kind: ElementKind
        let width: Width
        /// A value no complete row holds, so a row whose write was cut short is recognisable (e.g. step -1).
        let fill: Double?

        init(_ path: String, _ kind: ElementKind, _ width: Width = .one, fill: Double? = nil) {
            self.path = path
            self.kind = kind
            self.width = width
            self.fill = fill
        }

        var table: String { String(path.split(separator: "/")[0]) }

        /// Numeric columns of the two big tables are compressed (shuffle + deflate). The others are not: under
        /// SWMR, HDF5 never reuses the space of a rewritten compressed chunk, and every step rewrites the partial
        /// last chunk of every column, so compressing the small tables would grow the file instead of shrinking it.
        /// (Strings are HDF5 variable-length data: their text lives in the global heap, which filters never touch.)
        var compressed: Bool { kind != .string && (table == "tokens" || table == "completions") }
        var name: String { String(path.split(separator: "/")[1]) }
    }

    /// Rows per chunk of each table. Every step's flush recompresses the partial last chunk of each column, so
    /// chunks are small: 4 KiB of log-probs, 64 rows of the per-step tables, 256 rows of the others.
    static func chunkRows(of table: String) -> Int {
        switch table {
        case "tokens": return 1_024
        case "steps", "evals": return 64
        default: return 256
        }
    }

    static let deflateLevel: UInt32 = 1

    static let columns: [ColumnSpec] = [
        ColumnSpec("prompts/step", .int64, fill: -1),
        ColumnSpec("prompts/prompt_index", .int64),
        ColumnSpec("prompts/text", .string),
        ColumnSpec("prompts/answer", .string),

        ColumnSpec("completions/step", .int64, fill: -1),
        ColumnSpec("completions/prompt_index", .int64),
        ColumnSpec("completions/group", .int32),
        ColumnSpec("completions/prompt_row", .int64),
        ColumnSpec("completions/text", .string),
        ColumnSpec("completions/length", .int32),
        ColumnSpec("completions/token_offset", .int64),
        ColumnSpec("completions/finish_reason", .string),
        ColumnSpec("completions/rule_rewards", .float32, .rules, fill: .nan),
        ColumnSpec("completions/reward", .float32, fill: .nan),
        ColumnSpec("completions/advantage", .float32, fill: .nan),
        ColumnSpec("completions/rule_errors", .string, .rules),

        ColumnSpec("tokens/token_id", .int32, fill: -1),
        ColumnSpec("tokens/old_logprob", .float32, fill: .nan),
        ColumnSpec("tokens/ref_logprob", .float32, fill: .nan),
        ColumnSpec("tokens/new_logprob", .float32, fill: .nan),

        ColumnSpec("eval_problems/step", .int64, fill: -1),
        ColumnSpec("eval_problems/problem_index", .int64),
        ColumnSpec("eval_problems/correct", .uint8),
        ColumnSpec("eval_problems/correct_samples", .int32),

        ColumnSpec("evals/k", .int64),
        ColumnSpec("evals/pass_at_1", .float64, fill: .nan),
        ColumnSpec("evals/pass_at_k", .float64, fill: .nan),
        ColumnSpec("evals/maj_at_k", .float64, fill: .nan),
        ColumnSpec("evals/first_problem", .int64),
        ColumnSpec("evals/problem_count", .int64),
        ColumnSpec("evals/step", .int64, fill: -1),  // written last of its row: the row's commit mark

        ColumnSpec("steps/learning_rate", .float64, fill: .nan),
        ColumnSpec("steps/loss", .float64, fill: .nan),
        ColumnSpec("steps/kl", .float64, fill: .nan),
        ColumnSpec("steps/clip_fraction_low", .float64, fill: .nan),
        ColumnSpec("steps/clip_fraction_high", .float64, fill: .nan),
        ColumnSpec("steps/entropy", .float64, fill: .nan),
        ColumnSpec("steps/grad_norm", .float64, fill: .nan),
        ColumnSpec("steps/reward_mean", .float64, fill: .nan),
        ColumnSpec("steps/reward_std", .float64, fill: .nan),
        ColumnSpec("steps/rule_reward_mean", .float64, .rules, fill: .nan),
        ColumnSpec("steps/rule_reward_std", .float64, .rules, fill: .nan),
        ColumnSpec("steps/zero_variance_groups", .int64),
        ColumnSpec("steps/tokens_generated", .int64),
        ColumnSpec("steps/completion_length_mean", .float64, fill: .nan),
        ColumnSpec("steps/seconds_sample", .float64, fill: .nan),
        ColumnSpec("steps/seconds_score", .float64, fill: .nan),
        ColumnSpec("steps/seconds_reference", .float64, fill: .nan),
        ColumnSpec("steps/seconds_policy_update", .float64, fill: .nan),
        ColumnSpec("steps/seconds_write", .float64, fill: .nan),
        ColumnSpec("steps/wall_time", .float64, fill: .nan),
        ColumnSpec("steps/first_prompt", .int64),
        ColumnSpec("steps/prompt_count", .int64),
        ColumnSpec("steps/first_completion", .int64),
        ColumnSpec("steps/completion_count", .int64),
        ColumnSpec("steps/first_token", .int64),
        ColumnSpec("steps/token_count", .int64),
        ColumnSpec("steps/extra", .float64, .extra, fill: .nan),
        ColumnSpec("steps/step", .int64, fill: -1),  // written last of its row: the row's commit mark
    ]

    /// Every dataset path of the format, e.g. "completions/text".
    public static var datasetPaths: [String] { columns.map(\.path) }

    /// Root attribute names of the format.
    public static let rootAttributes = [
        "format", "format_version", "swiftgrpo_version", "experiment", "seed", "model_path", "model_hash",
        "tokenizer_path", "tokenizer_hash", "reward_rules", "reward_weights", "extra_step_metrics", "start_time",
    ]
}
