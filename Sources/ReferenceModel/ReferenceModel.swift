import Foundation
import PolicyModel

/// When the frozen reference follows the policy (TRL's `sync_ref_model`, after TR-DPO).
public enum ReferenceSync: Equatable, Sendable {
    /// The reference stays the initial policy for the whole run (GRPO, R1-Zero).
    case never
    /// After every `steps`-th optimizer step: reference ← α·policy + (1 − α)·reference.
    /// α = 1 is a hard copy.
    case every(steps: Int, mixupAlpha: Double)
}

public enum ReferenceModelError: Error, CustomStringConvertible, Equatable {
    case invalidSync(String)
    case differentArchitecture(String)

    public var description: String {
        switch self {
        case .invalidSync(let message): return "reference sync: \(message)"
        case .differentArchitecture(let message): return "reference model: \(message)"
        }
    }
}

/// A frozen model that scores completions for the KL term: log-probs only, no activations kept for a
/// backward pass, no gradients used, no optimizer state.
public final class ReferenceModel {
    public let sync: ReferenceSync
    private let model: Transformer

    /// A snapshot of `policy`'s current weights (the usual reference: the policy before training).
    public convenience init(snapshotOf policy: Transformer, sync: ReferenceSync = .never) throws {
        try self.init(model: policy.copy(), sync: sync)
    }

    /// A reference with its own weights (for example an SFT checkpoint next to a policy being trained).
    public init(model: Transformer, sync: ReferenceSync = .never) throws {
        if case .every(let steps, let alpha) = sync {
            guard steps > 0 else { throw ReferenceModelError.invalidSync("ref_model_sync_steps must be positive, got \(steps)") }
            guard alpha > 0, alpha <= 1 else {
                throw ReferenceModelError.invalidSync("ref_model_mixup_alpha must be in (0, 1], got \(alpha)")
            }
        }
        self.model = model
        self.sync = sync
    }

    public var config: TransformerConfig { model.config }

    /// log p_ref of every completion token, `temperature` dividing the logits as for the policy.
    public func logProbs(of batch: [TokenSequence], temperature: Float = 1) throws -> [[Float]] {
        try model.forward(batch, temperature: temperature, keepActivations: false).logProbs
    }

    /// Applies the sync strategy after optimizer step `completedSteps` (1-based, as TRL's `global_step`).
    /// Returns true when the reference changed.
    @discardableResult
    public func synchronizeIfDue(with policy: Transformer, completedSteps: Int) throws -> Bool {
        guard case .every(let steps, let alpha) = sync, completedSteps > 0, completedSteps % steps == 0 else { return false }
        try mix(policy, alpha: Float(alpha))
        return true
    }

    /// reference ← α·policy + (1 − α)·reference over the whole parameter buffer.
    public func mix(_ policy: Transformer, alpha: Float) throws {
        guard policy.config == model.config else {
            throw ReferenceModelError.differentArchitecture("the policy's config differs from the reference's; cannot mix their weights")
        }
        let target = model.parameters.values.pointer, source = policy.parameters.values.pointer
        if alpha == 1 {
            target.update(from: source, count: model.parameters.count)
            return
        }
        for index in 0..<model.parameters.count {
            target[index] = alpha * source[index] + (1 - alpha) * target[index]
        }
    }

    /// A weight of the reference, for checks and checkpoints.
    public func weights(_ name: String) -> [Float] { model.parameters.tensor(name).scalars }

    /// Saves the reference's weights (needed to resume a run whose reference has been synced).
    public func save(to directory: URL) throws { try model.save(to: directory) }

    /// Frees the activation buffers the reference keeps for reuse between calls.
    public func releaseCachedBuffers() { model.releaseCachedBuffers() }
}
