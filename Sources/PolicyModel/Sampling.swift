import Foundation
import Tensors

/// How completions are drawn from the model, with the meaning (and order) of Hugging Face's
/// `generate`: logits / temperature → top-k → top-p → min-p → sample. `greedy` takes the argmax.
public struct SamplingParameters: Sendable, Equatable {
    public var maxNewTokens: Int
    public var temperature: Float = 1
    /// 0 disables top-k.
    public var topK: Int = 0
    /// 1 disables top-p (nucleus) filtering.
    public var topP: Float = 1
    /// 0 disables min-p filtering.
    public var minP: Float = 0
    public var greedy = false
    /// Generation of a sequence ends after any of these tokens (which is kept in the completion).
    public var eosTokenIds: Set<Int32> = []
    /// Generation ends when the completion ends with one of these token sequences (kept in the completion).
    public var stopSequences: [[Int32]] = []

    public init(maxNewTokens: Int, temperature: Float = 1, topK: Int = 0, topP: Float = 1, minP: Float = 0,
                greedy: Bool = false, eosTokenIds: Set<Int32> = [], stopSequences: [[Int32]] = []) {
        self.maxNewTokens = maxNewTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.greedy = greedy
        self.eosTokenIds = eosTokenIds
        self.stopSequences = stopSequences
    }

    public func validate() throws {
        func fail(_ text: String) -> PolicyModelError { .invalidArgument(text) }
        guard maxNewTokens >= 0 else { throw fail("max new tokens must be ≥ 0, got \(maxNewTokens)") }
        guard greedy || (temperature > 0 && temperature.isFinite) else { throw fail("temperature must be > 0 (or use greedy), got \(temperature)") }
        guard topK >= 0 else { throw fail("top-k must be ≥ 0 (0 disables it), got \(topK)") }
        guard topP > 0 && topP <= 1 else { throw fail("top-p must be in (0, 1], got \(topP)") }
        guard minP >= 0 && minP <= 1 else { throw fail("min-p must be in [0, 1], got \(minP)") }
        guard stopSequences.allSatisfy({ !$0.isEmpty }) else { throw fail("stop sequences must not be empty") }
    }
}

public enum FinishReason: String, Codable, Sendable {
    case eos, length, stop
}

public struct Generation: Sendable, Equatable {
    public var tokens: [Int32]
    public var finishReason: FinishReason
}

/// Picks the next token from one row of logits.
struct TokenSampler {
    let parameters: SamplingParameters

    /// `logits` is overwritten. `candidates` is scratch of the vocabulary's size.
    func sample(_ logits: UnsafeMutablePointer<Float>, vocabularySize n: Int, generator: inout SeededGenerator,
                candidates: inout [Int32]) -> Int32 {
        if parameters.greedy { return argmax(logits, n) }
        if parameters.temperature != 1 { Kernels.scale(logits, by: 1 / parameters.temperature, n) }
        let maximum = Kernels.maximum(logits, n)
        let total = Kernels.expInPlace(logits, n, subtracting: maximum)
        let filtering = parameters.topK > 0 && parameters.topK < n || parameters.topP < 1 || parameters.minP > 0
        if !filtering { return draw(from: logits, n, total: total, generator: &generator) }
        Kernels.scale(logits, by: 1 / total, n) // logits now hold probabilities

        // Candidates in descending probability. Only tokens that can survive the filters are sorted: a
        // prefix of the descending order is found by a threshold, then checked to hold what is needed.
        var kept: Int
        var renormalizer: Float = 1
        let k = parameters.topK > 0 && parameters.topK < n ? parameters.topK : 0
        if k > 0 {
            kept = collect(logits, n, above: 1e-3 / Float(n), into: &candidates)
            if kept < k { kept = collect(logits, n, above: 0, into: &candidates) }
            sortDescending(&candidates, count: kept, by: logits)
            kept = min(kept, k)
            renormalizer = 0
            for index in 0..<kept { renormalizer += logits[Int(candidates[index])] }
        } else if parameters.topP < 1 {
            kept = collect(logits, n, above: 1e-3 / Float(n), into: &candidates)
            var mass: Float = 0
            for index in 0..<kept { mass += logits[Int(candidates[index])] }
            if mass < parameters.topP { kept = collect(logits, n, above: 0, into: &candidates) }
            sortDescending(&candidates, count: kept, by: logits)
        } else {
            kept = collect(logits, n, above: parameters.minP * Kernels.maximum(logits, n), into: &candidates)
            sortDescending(&candidates, count: kept, by: logits)
        }
        if parameters.topP < 1 {
            // Keep the smallest prefix whose (renormalized) mass reaches top-p, including the token that crosses it.
            var cumulative: Float = 0
            for index in 0..<kept {
                cumulative += logits[Int(candidates[index])] / renormalizer
                if cumulative >= parameters.topP { kept = index + 1; break }
            }
        }
        if parameters.minP > 0 {
            let threshold = parameters.minP * logits[Int(candidates[0])]
            while kept > 1 && logits[Int(candidates[kept - 1])] < threshold { kept -= 1 }
        }
        var mass: Float = 0
        for index in 0..<kept { mass += logits[Int(candidates[index])] }
        var target = generator.nextUniform() * mass
        for index in 0..<kept {
            target -= logits[Int(candidates[index])]
            if target < 0 { return candidates[index] }
        }
        return candidates[kept - 1]
    }

    private func collect(_ p: UnsafeMutablePointer<Float>, _ n: Int, above threshold: Float, into candidates: inout [Int32]) -> Int {
        var count = 0
        for token in 0..<n where p[token] >= threshold && p[token] > 0 {
            candidates[count] = Int32(token)
            count += 1
        }
        if count == 0 { candidates[0] = argmax(p, n); count = 1 }
        return count
    }

    private func sortDescending(_ candidates: inout [Int32], count: Int, by p: UnsafeMutablePointer<Float>) {
        candidates.withUnsafeMutableBufferPointer { buffer in
            // Ties keep the lower token id first, so results do not depend on the sort algorithm.
            var prefix = UnsafeMutableBufferPointer(rebasing: buffer[0..<count])
            prefix.sort { a, b in
                let pa = p[Int(a)], pb = p[Int(b)]
                return pa != pb ? pa > pb : a < b
            }
        }
    }

    /// Draws token i with probability weights[i] / total, skipping 8 weights at a time by their sum.
    private func draw(from weights: UnsafeMutablePointer<Float>, _ n: Int, total: Float, generator: inout SeededGenerator) -> Int32 {
        var target = generator.nextUniform() * total
        var block = 0
        while block + 8 <= n {
            let mass = Kernels.load(weights + block).sum()
            if target < mass { break }
            target -= mass
            block += 8
        }
        for token in block..<n {
            target -= weights[token]
            if target < 0 { return Int32(token) }
        }
        // Rounding left a sliver of mass: take the last token with non-zero weight.
        for token in stride(from: n - 1, through: 0, by: -1) where weights[token] > 0 { return Int32(token) }
        return Int32(n - 1)
    }

    private func argmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) -> Int32 {
        var best = 0
        for token in 1..<n where x[token] > x[best] { best = token }
        return Int32(best)
    }
}
