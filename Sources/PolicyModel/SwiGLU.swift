import Tensors

/// The gated activation of the MLP: act = silu(gate) ⊙ up, with gate and up side by side in one row
/// of `gateUp` [rows, 2·width] (the fused gate|up projection).
enum SwiGLU {
    static func forward(gateUp: UnsafePointer<Float>, rows: Int, width: Int, output: UnsafeMutablePointer<Float>) {
        Parallel.parallelFor(rows, minimumChunk: 8) { range in
            for row in range {
                let gate = gateUp + row * 2 * width, up = gate + width, y = output + row * width
                var j = 0
                while j + 8 <= width {
                    let g = Kernels.load(gate + j)
                    let sigmoid = 1 / (1 + Kernels.exp(-g))
                    Kernels.store(g * sigmoid * Kernels.load(up + j), y + j)
                    j += 8
                }
                while j < width {
                    let g = gate[j]
                    y[j] = g / (1 + Kernels.exp(-g)) * up[j]
                    j += 1
                }
            }
        }
    }

    /// d gate = d act ⊙ up ⊙ σ(g)(1 + g(1 − σ(g))), d up = d act ⊙ silu(g). Overwrites `gateUpGradient`.
    static func backward(outputGradient: UnsafePointer<Float>, gateUp: UnsafePointer<Float>, rows: Int, width: Int,
                         gateUpGradient: UnsafeMutablePointer<Float>) {
        Parallel.parallelFor(rows, minimumChunk: 8) { range in
            for row in range {
                let gate = gateUp + row * 2 * width, up = gate + width, dy = outputGradient + row * width
                let dGate = gateUpGradient + row * 2 * width, dUp = dGate + width
                var j = 0
                while j + 8 <= width {
                    let g = Kernels.load(gate + j), u = Kernels.load(up + j), d = Kernels.load(dy + j)
                    let sigmoid = 1 / (1 + Kernels.exp(-g))
                    let silu = g * sigmoid
                    Kernels.store(d * u * sigmoid * (1 + g * (1 - sigmoid)), dGate + j)
                    Kernels.store(d * silu, dUp + j)
                    j += 8
                }
                while j < width {
                    let g = gate[j], sigmoid = 1 / (1 + Kernels.exp(-g))
                    dGate[j] = dy[j] * up[j] * sigmoid * (1 + g * (1 - sigmoid))
                    dUp[j] = dy[j] * g * sigmoid
                    j += 1
                }
            }
        }
    }
}
