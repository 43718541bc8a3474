/// The tasks' own random stream: xoshiro256** seeded through SplitMix64 from `task.seed`.
///
/// Written out here (not `Int.random(in:using:)`) so that the problems of a seed never change with the
/// Swift version or platform: every draw is defined by this file alone.
struct TaskRandom {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    mutating func next() -> UInt64 {
        func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    /// Uniform in `range` (closed), by rejection: no modulo bias.
    mutating func int(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(bitPattern: Int64(range.upperBound) &- Int64(range.lowerBound)) &+ 1
        if span == 0 { return Int(Int64(bitPattern: next())) }  // the whole Int64 range
        let limit = UInt64.max - (UInt64.max % span)
        var x = next()
        while x >= limit { x = next() }
        return Int(Int64(range.lowerBound) &+ Int64(bitPattern: x % span))
    }

    mutating func element<T>(of array: [T]) -> T { array[int(in: 0...(array.count - 1))] }
}
