import CBLAS
import Dispatch
import Foundation
import Synchronization

/// How many cores SwiftGRPO uses, and a `parallelFor` that shares them with OpenBLAS.
///
/// OpenBLAS keeps its own thread pool. Calling a multi-threaded sgemm from several of our threads at
/// once oversubscribes the cores (and OpenBLAS 0.3.21 serializes such calls on a lock), so inside a
/// `parallelFor` region BLAS runs single-threaded, and outside it BLAS uses all configured cores.
public enum Parallel {
    nonisolated(unsafe) private static var configuredThreads = defaultThreadCount()
    nonisolated(unsafe) private static var insideRegion = false

    /// Threads used by `parallelFor` and by BLAS. Set from `--threads` or `GRPO_THREADS`.
    public static var threadCount: Int { configuredThreads }

    public static func defaultThreadCount() -> Int {
        if let text = ProcessInfo.processInfo.environment["GRPO_THREADS"], let value = Int(text), value > 0 {
            return value
        }
        return ProcessInfo.processInfo.activeProcessorCount
    }

    /// Sets the thread count for our kernels and for OpenBLAS. `nil` keeps `GRPO_THREADS` or all cores.
    public static func configure(threads: Int?) {
        configuredThreads = max(1, threads ?? defaultThreadCount())
        openblas_set_num_threads(Int32(configuredThreads))
    }

    /// Runs `body` over `0..<count` split into contiguous chunks, one per thread. Chunks smaller than
    /// `minimumChunk` items are not split further, so tiny loops stay on the calling thread.
    public static func parallelFor(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(configuredThreads, max(1, count / max(minimumChunk, 1)))
        if chunks <= 1 || insideRegion {
            body(0..<count)
            return
        }
        insideRegion = true
        openblas_set_num_threads(1)
        defer {
            openblas_set_num_threads(Int32(configuredThreads))
            insideRegion = false
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = count * chunk / chunks
            let end = count * (chunk + 1) / chunks
            body(start..<end)
        }
    }

    /// Runs `body` once for each of `count` jobs of uneven size, handing the next job to whichever
    /// thread is free. The result must not depend on which thread runs a job.
    public static func parallelForEach(_ count: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        let threads = min(configuredThreads, count)
        if threads <= 1 || insideRegion {
            for index in 0..<count { body(index) }
            return
        }
        insideRegion = true
        openblas_set_num_threads(1)
        defer {
            openblas_set_num_threads(Int32(configuredThreads))
            insideRegion = false
        }
        let nextJob = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while true {
                let job = nextJob.wrappingAdd(1, ordering: .relaxed).oldValue
                if job >= count { break }
                body(job)
            }
        }
    }
}
