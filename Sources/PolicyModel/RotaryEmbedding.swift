import Foundation
import Tensors

/// Rotary position embeddings in the Hugging Face "rotate half" layout: dimension i is paired with
/// i + d/2 and rotated by position · inv_freq[i].
final class RotaryEmbedding: @unchecked Sendable {
    let headDimension: Int
    let inverseFrequencies: [Float]
    private(set) var cosines: [Float] = []
    private(set) var sines: [Float] = []
    private(set) var positionCapacity = 0

    init(config: TransformerConfig) {
        let headDimension = config.headDimension
        self.headDimension = headDimension
        let half = headDimension / 2
        // Computed in float32 as transformers does, so angles (and logits) match it bit for bit.
        var frequencies = (0..<half).map { i -> Float in
            1 / Float(pow(config.ropeTheta, Double(Float(2 * i) / Float(headDimension))))
        }
        if let scaling = config.ropeScaling {
            let factor = Float(scaling.factor)
            switch scaling.type {
            case "linear":
                frequencies = frequencies.map { $0 / factor }
            case "llama3":
                let oldContext = Float(scaling.originalMaxPositionEmbeddings)
                let lowFrequencyWavelength = oldContext / Float(scaling.lowFrequencyFactor)
                let highFrequencyWavelength = oldContext / Float(scaling.highFrequencyFactor)
                frequencies = frequencies.map { frequency in
                    let wavelength = 2 * Float.pi / frequency
                    if wavelength < highFrequencyWavelength { return frequency }
                    if wavelength > lowFrequencyWavelength { return frequency / factor }
                    let smooth = (oldContext / wavelength - Float(scaling.lowFrequencyFactor))
                        / Float(scaling.highFrequencyFactor - scaling.lowFrequencyFactor)
                    return (1 - smooth) * frequency / factor + smooth * frequency
                }
            default:
                break
            }
        }
        inverseFrequencies = frequencies
    }

    /// Makes the cos/sin tables cover positions 0..<count. Call before any parallel use.
    func reserve(positions count: Int) {
        guard count > positionCapacity else { return }
        let half = headDimension / 2
        let newCapacity = max(count, positionCapacity * 2, 64)
        cosines.reserveCapacity(newCapacity * half)
        sines.reserveCapacity(newCapacity * half)
        for position in positionCapacity..<newCapacity {
            for i in 0..<half {
                let angle = Float(position) * inverseFrequencies[i]
                cosines.append(Float(cos(Double(angle))))
                sines.append(Float(sin(Double(angle))))
            }
        }
        positionCapacity = newCapacity
    }

    /// Rotates `headCount` heads laid side by side at `vectors` (one row) to `position`.
    /// `inverse` rotates back by the same angle: the backward pass of a rotation is its transpose.
    @inline(__always)
    func rotate(_ vectors: UnsafeMutablePointer<Float>, headCount: Int, position: Int, inverse: Bool = false) {
        let half = headDimension / 2
        cosines.withUnsafeBufferPointer { cosTable in
            sines.withUnsafeBufferPointer { sinTable in
                let c = cosTable.baseAddress! + position * half
                let s = sinTable.baseAddress! + position * half
                for head in 0..<headCount {
                    let first = vectors + head * headDimension, second = first + half
                    if inverse {
                        for i in 0..<half {
                            let a = first[i], b = second[i]
                            first[i] = a * c[i] + b * s[i]
                            second[i] = b * c[i] - a * s[i]
                        }
                    } else {
                        for i in 0..<half {
                            let a = first[i], b = second[i]
                            first[i] = a * c[i] - b * s[i]
                            second[i] = b * c[i] + a * s[i]
                        }
                    }
                }
            }
        }
    }
}
