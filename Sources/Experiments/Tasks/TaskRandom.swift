import Tensors
/// The tasks' own random stream: `SeededGenerator` (xoshiro256** seeded through SplitMix64) from `task.seed`.
///
/// Written out here (not `Int.random(in:using:)`) so that the problems of a seed never change with the
/// Swift version or platform: every draw is defined by this file alone.
struct TaskRandom {
    private var generator: SeededGenerator

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

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
