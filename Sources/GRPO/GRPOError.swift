import Foundation

public enum GRPOError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(key: String, message: String)
    case invalidBatch(String)
    /// A loss or gradient was NaN or infinite and `on_nonfinite` is `stop`; the update was not applied.
    case nonFinite(optimizerStep: Int, loss: Double, gradNorm: Double)

    public var description: String {
        switch self {
        case .invalidConfig(let key, let message): return "GRPO config `\(key)`: \(message)"
        case .invalidBatch(let message): return "GRPO batch: \(message)"
        case .nonFinite(let step, let loss, let norm):
            return "optimizer step \(step): loss \(loss), gradient norm \(norm) is not finite; the update was not applied "
                + "(on_nonfinite: stop). Lower learning_rate or max_grad_norm, or check the rewards."
        }
    }
}
