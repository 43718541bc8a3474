import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Memory for float32 tensors: one aligned allocation, freed when the last view goes away.
///
/// Allocations of 1 MiB and more are 2 MiB-aligned and advised to use transparent huge pages: weight
/// matrices and activations are streamed through by every GEMM, and with 4 KiB pages the TLB misses
/// show (most Linux systems only give huge pages to memory that asks for them). When such a block is
/// freed it goes to `LargeBlockCache`, so the next step's tensors of the same size reuse it instead
/// of faulting in (and zeroing) fresh pages: a training step allocates and frees gigabytes.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    private let blockBytes: Int

    static let hugePageBytes = 2 << 20

    public init(count: Int, zeroed: Bool = true) {
        precondition(count >= 0, "tensor element count must be non-negative")
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        var raw: UnsafeMutableRawPointer?
        if bytes >= Self.hugePageBytes / 2 {
            let rounded = (bytes + Self.hugePageBytes - 1) / Self.hugePageBytes * Self.hugePageBytes
            if let cached = LargeBlockCache.shared.take(bytes: rounded) {
                raw = cached.pointer
                blockBytes = cached.bytes
            } else {
                guard posix_memalign(&raw, Self.hugePageBytes, rounded) == 0, raw != nil else {
                    fatalError("out of memory allocating \(bytes) bytes for a tensor")
                }
                #if os(Linux)
                _ = madvise(raw, rounded, MADV_HUGEPAGE)
                #endif
                blockBytes = rounded
            }
        } else {
            guard posix_memalign(&raw, 64, bytes) == 0 else { fatalError("out of memory allocating \(bytes) bytes for a tensor") }
            blockBytes = 0
        }
        pointer = raw!.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        if zeroed { pointer.initialize(repeating: 0, count: count) }
    }

    deinit {
        if blockBytes == 0 || !LargeBlockCache.shared.give(UnsafeMutableRawPointer(pointer), bytes: blockBytes) { free(pointer) }
    }
}

/// Freed large tensor blocks kept for reuse, up to `limitBytes` in all; the oldest go first.
final class LargeBlockCache: @unchecked Sendable {
    static let shared = LargeBlockCache(limitBytes: 4 << 30)

    private var blocks: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []
    private var cachedBytes = 0
    private let limitBytes: Int
    private let lock = NSLock()

    init(limitBytes: Int) { self.limitBytes = limitBytes }

    /// A cached block of at least `bytes` and at most 25 % more, the smallest such.
    func take(bytes: Int) -> (pointer: UnsafeMutableRawPointer, bytes: Int)? {
        lock.lock()
        defer { lock.unlock() }
        var best: Int?
        for (index, block) in blocks.enumerated() where block.bytes >= bytes && block.bytes <= bytes + bytes / 4 {
            if best == nil || block.bytes < blocks[best!].bytes { best = index }
        }
        guard let index = best else { return nil }
        cachedBytes -= blocks[index].bytes
        return blocks.remove(at: index)
    }

    /// Keeps a freed block; false when it is larger than the whole cache (the caller frees it).
    func give(_ pointer: UnsafeMutableRawPointer, bytes: Int) -> Bool {
        guard bytes <= limitBytes else { return false }
        lock.lock()
        defer { lock.unlock() }
        blocks.append((pointer, bytes))
        cachedBytes += bytes
        while cachedBytes > limitBytes {
            let oldest = blocks.removeFirst()
            cachedBytes -= oldest.bytes
            free(oldest.pointer)
        }
        return true
    }

    /// Returns every cached block to the system.
    func releaseAll() {
        lock.lock()
        defer { lock.unlock() }
        for block in blocks { free(block.pointer) }
        blocks.removeAll()
        cachedBytes = 0
    }
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
