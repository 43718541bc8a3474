import Foundation
import Tensors

/// AdamW (decoupled weight decay, bias-corrected moments) over one contiguous parameter buffer, in
/// `torch.optim.AdamW`'s order of operations. Weight decay applies only to the ranges given as decayed
/// (Hugging Face's Trainer exempts biases and norm weights).
public final class AdamW {
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var weightDecay: Double
    /// Updates made so far (torch's `step`, used by the bias correction).
    public private(set) var step = 0
    public let parameterCount: Int
    let firstMoment: TensorStorage
    let secondMoment: TensorStorage
    /// Contiguous pieces of the buffer, each with or without weight decay, small enough to share out.
    private let segments: [(range: Range<Int>, decayed: Bool)]

    public init(parameterCount: Int, decayedRanges: [Range<Int>]? = nil, beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-8, weightDecay: Double = 0.01) {
        self.parameterCount = parameterCount
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        firstMoment = TensorStorage(count: parameterCount)
        secondMoment = TensorStorage(count: parameterCount)
        segments = AdamW.segments(parameterCount: parameterCount, decayedRanges: decayedRanges ?? [0..<parameterCount])
    }

    static func segments(parameterCount: Int, decayedRanges: [Range<Int>]) -> [(range: Range<Int>, decayed: Bool)] {
        var pieces: [(Range<Int>, Bool)] = []
        var cursor = 0
        for range in decayedRanges.sorted(by: { $0.lowerBound < $1.lowerBound }) where !range.isEmpty {
            if range.lowerBound > cursor { pieces.append((cursor..<range.lowerBound, false)) }
            pieces.append((max(range.lowerBound, cursor)..<range.upperBound, true))
            cursor = max(cursor, range.upperBound)
        }
        if cursor < parameterCount { pieces.append((cursor..<parameterCount, false)) }
        let chunk = 1 << 16
        return pieces.flatMap { piece in
            stride(from: piece.0.lowerBound, to: piece.0.upperBound, by: chunk).map {
                (range: $0..<min($0 + chunk, piece.0.upperBound), decayed: piece.1)
            }
        }
    }

    /// One update of `values` with `gradients` at learning rate `learningRate`.
    public func update(values: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, learningRate: Double) {
        step += 1
        let biasCorrection1 = 1 - pow(beta1, Double(step))
        let biasCorrection2Root = (1 - pow(beta2, Double(step))).squareRoot()
        let stepSize = Float(learningRate / biasCorrection1)
        let decayFactor = Float(1 - learningRate * weightDecay)
        let oneMinusBeta1 = Float(1 - beta1), beta2 = Float(self.beta2), oneMinusBeta2 = Float(1 - self.beta2)
        let correction2 = Float(biasCorrection2Root), epsilon = Float(self.epsilon)
        let m = firstMoment.pointer, v = secondMoment.pointer
        let segments = self.segments
        Parallel.parallelForEach(segments.count) { index in
            let (range, decayed) = segments[index]
            let decay = decayed ? decayFactor : 1
            for i in range {
                let g = gradients[i]
                let p = values[i] * decay
                let m1 = m[i] + oneMinusBeta1 * (g - m[i])  // torch's lerp for weights < 0.5
                let v1 = v[i] * beta2 + oneMinusBeta2 * g * g
                m[i] = m1
                v[i] = v1
                let denominator = v1.squareRoot() / correction2 + epsilon
                values[i] = p + (-stepSize * m1) / denominator
            }
        }
    }

    /// The moments and step count, for checkpoints.
    public var state: (step: Int, firstMoment: [Float], secondMoment: [Float]) {
        (step, Array(UnsafeBufferPointer(start: firstMoment.pointer, count: parameterCount)),
         Array(UnsafeBufferPointer(start: secondMoment.pointer, count: parameterCount)))
    }

    public func restore(step: Int, firstMoment: [Float], secondMoment: [Float]) throws {
        guard firstMoment.count == parameterCount, secondMoment.count == parameterCount else {
            throw GRPOError.invalidBatch("optimizer state has \(firstMoment.count)/\(secondMoment.count) values, expected \(parameterCount)")
        }
        self.step = step
        firstMoment.withUnsafeBufferPointer { self.firstMoment.pointer.update(from: $0.baseAddress!, count: parameterCount) }
        secondMoment.withUnsafeBufferPointer { self.secondMoment.pointer.update(from: $0.baseAddress!, count: parameterCount) }
    }
}

/// The L2 norm of a whole gradient buffer, accumulated in Double.
public func gradientNorm(_ gradients: UnsafePointer<Float>, count: Int) -> Double {
    let chunk = 1 << 16
    let chunks = (count + chunk - 1) / chunk
    var partial = [Double](repeating: 0, count: chunks)
    partial.withUnsafeMutableBufferPointer { sums in
        let sums = sums
        Parallel.parallelForEach(chunks) { index in
            let start = index * chunk, length = min(chunk, count - start)
            sums[index] = Double(Kernels.sumOfSquares(gradients + start, length))
        }
    }
    return partial.reduce(0, +).squareRoot()
}

/// Scales the gradients so their norm is at most `maxNorm`, as `torch.nn.utils.clip_grad_norm_`
/// (factor maxNorm / (norm + 1e-6), capped at 1). Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ gradients: UnsafeMutablePointer<Float>, count: Int, maxNorm: Double) -> Double {
    let norm = gradientNorm(gradients, count: count)
    let factor = min(maxNorm / (norm + 1e-6), 1)
    if factor < 1 { Kernels.scale(gradients, by: Float(factor), count) }
    return norm
}
