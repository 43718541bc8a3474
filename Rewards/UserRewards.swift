import RewardSystem

/// The user's own reward rules, compiled into `grpo` and named from YAML or `grpo score --rule NAME`.
///
/// To add a rule: put one Swift file in `Rewards/` with a type that conforms to `ConfigurableRule`
/// (see `StepCountRule.swift`), then add the type to this list. Names must not clash with the built-in
/// rules (`grpo score --list-rules` shows them all).
public enum UserRewards {
    public static let rules: [any ConfigurableRule.Type] = [
        LanguageMixingRule.self,
        StepCountRule.self,
    ]

    /// The built-in rules plus the user rules.
    public static func registry() throws -> RuleRegistry {
        var registry = RuleRegistry.builtIn
        try registry.register(contentsOf: rules)
        return registry
    }
}
