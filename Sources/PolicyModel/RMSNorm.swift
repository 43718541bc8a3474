import Tensors

/// Root-mean-square normalization: y = x / √(mean(x²) + ε) · w, row by row.
enum RMSNorm {
    /// Writes `output` [rows, width] and the per-row 1/√(mean(x²)+ε) that backward needs.
    static func forward(_ input: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, width: Int, epsilon: Float,
                        output: UnsafeMutablePointer<Float>, inverseRMS: UnsafeMutablePointer<Float>) {
        Parallel.parallelFor(rows, minimumChunk: 16) { range in
            for row in range {
                let x = input + row * width, y = output + row * width
                let r = 1 / (Kernels.sumOfSquares(x, width) / Float(width) + epsilon).squareRoot()
                inverseRMS[row] = r
                let scale = Kernels.Vector(repeating: r)
                var j = 0
                while j + 8 <= width {
                    Kernels.store(Kernels.load(x + j) * scale * Kernels.load(weight + j), y + j)
                    j += 8
                }
                while j < width { y[j] = x[j] * r * weight[j]; j += 1 }
            }
        }
    }

    /// With n = x·r and dn = dy ⊙ w: accumulates dx += r·(dn − n·mean(dn ⊙ n)) and dw += Σ_rows dy ⊙ n.
    static func backward(outputGradient: UnsafePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                         inverseRMS: UnsafePointer<Float>, rows: Int, width: Int,
                         inputGradient: UnsafeMutablePointer<Float>, weightGradient: UnsafeMutablePointer<Float>) {
        Parallel.parallelFor(rows, minimumChunk: 16) { range in
            for row in range {
                let x = input + row * width, dy = outputGradient + row * width, dx = inputGradient + row * width
                let r = inverseRMS[row]
                // mean(dn ⊙ n) = r/width · Σ dy ⊙ w ⊙ x
                var total = Kernels.Vector()
                var j = 0
                while j + 8 <= width {
                    total = total.addingProduct(Kernels.load(dy + j) * Kernels.load(weight + j), Kernels.load(x + j))
                    j += 8
                }
                var dot = total.sum()
                while j < width { dot += dy[j] * weight[j] * x[j]; j += 1 }
                let meanProduct = dot * r / Float(width)
                for k in 0..<width {
                    let normalized = x[k] * r
                    dx[k] += r * (dy[k] * weight[k] - normalized * meanProduct)
                }
            }
        }
        // Columns in parallel, rows in order: the sum is the same whatever the thread count.
        Parallel.parallelFor(width, minimumChunk: 64) { columns in
            for row in 0..<rows {
                let x = input + row * width, dy = outputGradient + row * width
                let r = inverseRMS[row]
                for k in columns { weightGradient[k] += dy[k] * x[k] * r }
            }
        }
    }
}
