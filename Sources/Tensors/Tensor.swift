#if canImport(Glibc)
import Glibc
#endif

/// Memory for float32 tensors: one aligned allocation, freed when the last view goes away.
///
/// Allocations of 4 MiB and more are 2 MiB-aligned and advised to use transparent huge pages: weight
/// matrices and activations are streamed through by every GEMM, and with 4 KiB pages the TLB misses
/// show (most Linux systems only give huge pages to memory that asks for them).
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    static let hugePageBytes = 2 << 20

    public init(count: Int, zeroed: Bool = true) {
        precondition(count >= 0, "tensor element count must be non-negative")
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        var raw: UnsafeMutableRawPointer?
        if bytes >= 2 * Self.hugePageBytes {
            let rounded = (bytes + Self.hugePageBytes - 1) / Self.hugePageBytes * Self.hugePageBytes
            guard posix_memalign(&raw, Self.hugePageBytes, rounded) == 0, let raw else {
                fatalError("out of memory allocating \(bytes) bytes for a tensor")
            }
            #if os(Linux)
            _ = madvise(raw, rounded, MADV_HUGEPAGE)
            #endif
        } else {
            guard posix_memalign(&raw, 64, bytes) == 0 else { fatalError("out of memory allocating \(bytes) bytes for a tensor") }
        }
        pointer = raw!.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        if zeroed { pointer.initialize(repeating: 0, count: count) }
    }

    deinit { free(pointer) }
}

/// A float32, contiguous, row-major tensor: a view (offset + shape) into a `TensorStorage`.
///
/// `Tensor` has reference semantics for its elements: copies of a `Tensor` value share memory,
/// which is what parameter views into one buffer need. Use `copy()` for an independent tensor.
public struct Tensor: @unchecked Sendable {
    public let storage: TensorStorage
    public let offset: Int
    public let shape: [Int]
    public let count: Int

    public init(zeros shape: [Int]) {
        let count = shape.reduce(1, *)
        self.storage = TensorStorage(count: count)
        self.offset = 0
        self.shape = shape
        self.count = count
    }

    public init(shape: [Int], values: [Float]) {
        let count = shape.reduce(1, *)
        precondition(values.count == count, "\(values.count) values do not fill shape \(shape)")
        self.init(zeros: shape)
        values.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: count) }
    }

    public init(view storage: TensorStorage, offset: Int, shape: [Int]) {
        let count = shape.reduce(1, *)
        precondition(offset >= 0 && offset + count <= storage.count, "view \(shape) at \(offset) exceeds storage of \(storage.count)")
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.count = count
    }

    @inline(__always) public var pointer: UnsafeMutablePointer<Float> { storage.pointer + offset }
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    public var scalars: [Float] { Array(buffer) }
    public var rank: Int { shape.count }

    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(view: storage, offset: offset, shape: newShape)
    }

    /// Rows `range` of a tensor seen as [shape[0], rest...].
    public func rows(_ range: Range<Int>) -> Tensor {
        let rowSize = count / max(shape[0], 1)
        return Tensor(view: storage, offset: offset + range.lowerBound * rowSize, shape: [range.count] + shape.dropFirst())
    }

    public func copy() -> Tensor {
        let result = Tensor(zeros: shape)
        result.pointer.update(from: pointer, count: count)
        return result
    }

    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }
    public func zero() { fill(0) }

    public subscript(_ index: Int) -> Float {
        get { pointer[index] }
        nonmutating set { pointer[index] = newValue }
    }
}
