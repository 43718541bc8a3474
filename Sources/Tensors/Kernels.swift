/// Vectorized float32 kernels on raw buffers: the inner loops of every layer.
///
/// Each works on 8 lanes at a time (AVX2) with a scalar tail; none allocates.
public enum Kernels {
    public typealias Vector = SIMD8<Float>

    @inlinable @inline(__always) public static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    @inlinable @inline(__always) public static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }

    /// e^x for 8 lanes (Cephes' polynomial, relative error ≈ 2e-7). Inputs below −87.3 give ≈ 1e-38, not 0.
    @inlinable @inline(__always) public static func exp(_ x: Vector) -> Vector {
        // Clamp with masks: the generic `clamped` is not specialized across modules.
        var clamped = x
        let low = Vector(repeating: -87.3), high = Vector(repeating: 88.3)
        clamped.replace(with: low, where: clamped .< low)
        clamped.replace(with: high, where: clamped .> high)
        let magic = Vector(repeating: 12_582_912) // 1.5 · 2^23: adding it rounds to an integer
        let shifted = magic.addingProduct(clamped, Vector(repeating: 1.442_695_04))
        let n = shifted - magic
        var r = clamped.addingProduct(n, Vector(repeating: -0.693_359_375))
        r = r.addingProduct(n, Vector(repeating: 2.121_944_40e-4))
        var p = Vector(repeating: 1.987_569_150_0e-4)
        p = Vector(repeating: 1.398_199_950_7e-3).addingProduct(p, r)
        p = Vector(repeating: 8.333_451_907_3e-3).addingProduct(p, r)
        p = Vector(repeating: 4.166_579_589_4e-2).addingProduct(p, r)
        p = Vector(repeating: 1.666_666_545_9e-1).addingProduct(p, r)
        p = Vector(repeating: 5.000_000_120_1e-1).addingProduct(p, r)
        p = (r + 1).addingProduct(p, r * r)
        let exponent = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let scale = unsafeBitCast((exponent &+ 127) &<< 23, to: Vector.self)
        return p * scale
    }

    /// Scalar e^x with the same polynomial as the vector version.
    @inlinable @inline(__always) public static func exp(_ x: Float) -> Float { exp(Vector(repeating: x))[0] }

    @inlinable public static func maximum(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var best = Vector(repeating: -.infinity)
        var i = 0
        while i + 8 <= count {
            let value = load(x + i)
            best.replace(with: value, where: value .> best)
            i += 8
        }
        var result = best.max()
        while i < count { result = Swift.max(result, x[i]); i += 1 }
        return result
    }

    @inlinable public static func sum(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var total = Vector()
        var i = 0
        while i + 8 <= count { total += load(x + i); i += 8 }
        var result = total.sum()
        while i < count { result += x[i]; i += 1 }
        return result
    }

    @inlinable public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ count: Int) -> Float {
        var total = Vector()
        var i = 0
        while i + 8 <= count { total = total.addingProduct(load(x + i), load(y + i)); i += 8 }
        var result = total.sum()
        while i < count { result += x[i] * y[i]; i += 1 }
        return result
    }

    /// y += alpha · x
    @inlinable public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        let a = Vector(repeating: alpha)
        var i = 0
        while i + 8 <= count { store(load(y + i).addingProduct(a, load(x + i)), y + i); i += 8 }
        while i < count { y[i] += alpha * x[i]; i += 1 }
    }

    /// y += x
    @inlinable public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, _ count: Int) {
        var i = 0
        while i + 8 <= count { store(load(y + i) + load(x + i), y + i); i += 8 }
        while i < count { y[i] += x[i]; i += 1 }
    }

    /// x *= alpha
    @inlinable public static func scale(_ x: UnsafeMutablePointer<Float>, by alpha: Float, _ count: Int) {
        let a = Vector(repeating: alpha)
        var i = 0
        while i + 8 <= count { store(load(x + i) * a, x + i); i += 8 }
        while i < count { x[i] *= alpha; i += 1 }
    }

    /// x[i] = e^(x[i] − shift); returns the sum of the results.
    @discardableResult
    @inlinable public static func expInPlace(_ x: UnsafeMutablePointer<Float>, _ count: Int, subtracting shift: Float) -> Float {
        let s = Vector(repeating: shift)
        var total = Vector()
        var i = 0
        while i + 8 <= count {
            let e = exp(load(x + i) - s)
            store(e, x + i)
            total += e
            i += 8
        }
        var result = total.sum()
        while i < count { let e = exp(x[i] - shift); x[i] = e; result += e; i += 1 }
        return result
    }

    /// log Σ e^x, stable.
    public static func logSumExp(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        let m = maximum(x, count)
        if m == -.infinity { return -.infinity }
        let s = Vector(repeating: m)
        var total = Vector()
        var i = 0
        while i + 8 <= count { total += exp(load(x + i) - s); i += 8 }
        var result = total.sum()
        while i < count { result += exp(x[i] - m); i += 1 }
        return m + Float.log(result)
    }

    /// Sum of squares, accumulated in 8 float lanes (then in Double across lanes).
    @inlinable public static func sumOfSquares(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var total = Vector()
        var i = 0
        while i + 8 <= count { let v = load(x + i); total = total.addingProduct(v, v); i += 8 }
        var result = total.sum()
        while i < count { result += x[i] * x[i]; i += 1 }
        return result
    }
}

extension Float {
    @inline(__always) static func log(_ x: Float) -> Float { logf(x) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
