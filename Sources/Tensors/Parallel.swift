import CBLAS
import Foundation
import Synchronization

/// How many cores SwiftGRPO uses, and the parallel loops that use them.
///
/// All parallelism is ours: OpenBLAS is kept single-threaded, and large matrix products are split
/// across our worker threads (see `gemm`). Two thread pools on two cores (OpenBLAS's spinning
/// workers and ours) would otherwise take turns preempting each other.
public enum Parallel {
    nonisolated(unsafe) private static var pool = makePool(threads: defaultThreadCount())
    nonisolated(unsafe) private(set) static var insideRegion = false
    /// Held by the thread running a parallel region: a region started meanwhile from another thread
    /// (two models used from two threads) runs inline on its own thread instead of sharing the workers.
    private static let regionLock = NSLock()

    /// Threads used by our kernels. Set from `--threads` or `GRPO_THREADS`.
    public static var threadCount: Int { pool.threadCount }

    public static func defaultThreadCount() -> Int {
        if let text = ProcessInfo.processInfo.environment["GRPO_THREADS"], let value = Int(text), value > 0 {
            return value
        }
        return ProcessInfo.processInfo.activeProcessorCount
    }

    private static func makePool(threads: Int) -> WorkerPool {
        openblas_set_num_threads(1)
        return WorkerPool(threads: threads)
    }

    /// Sets the thread count. `nil` keeps `GRPO_THREADS`, else all cores. Call it between parallel regions.
    public static func configure(threads: Int?) {
        let count = max(1, threads ?? defaultThreadCount())
        guard count != pool.threadCount else { return }
        pool.shutdown()
        pool = makePool(threads: count)
    }

    /// Runs `body` over `0..<count` split into contiguous chunks, about four per thread, handed out to
    /// whichever thread is free: a thread slowed down by another process on its core then takes fewer
    /// chunks instead of holding up the others. Chunks smaller than `minimumChunk` items are not split
    /// further, so tiny loops stay on the calling thread. Inside a parallel region, nested calls run inline.
    public static func parallelFor(_ count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(4 * pool.threadCount, max(1, count / max(minimumChunk, 1)))
        if chunks <= 1 || pool.threadCount <= 1 || insideRegion || !regionLock.try() {
            body(0..<count)
            return
        }
        insideRegion = true
        defer { insideRegion = false; regionLock.unlock() }
        let nextChunk = Atomic<Int>(0)
        pool.run { _ in
            while true {
                let chunk = nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
                if chunk >= chunks { break }
                body(count * chunk / chunks..<count * (chunk + 1) / chunks)
            }
        }
    }

    /// Runs `body(thread)` once on each of the `threadCount` threads, all at the same time (a machine-wide probe,
    /// not a way to split work: use `parallelFor` for that). Inside a parallel region it runs inline, once.
    public static func onEveryThread(_ body: (Int) -> Void) {
        if pool.threadCount <= 1 || insideRegion || !regionLock.try() {
            body(0)
            return
        }
        insideRegion = true
        defer { insideRegion = false; regionLock.unlock() }
        pool.run(body)
    }

    /// Runs `body` once for each of `count` jobs of uneven size, handing the next job to whichever
    /// thread is free. The result must not depend on which thread runs a job.
    public static func parallelForEach(_ count: Int, _ body: (Int) -> Void) {
        parallelForEach(count) { job, _ in body(job) }
    }

    /// `parallelForEach` that also tells each job which thread (0..<threadCount) runs it, so that jobs can
    /// reuse that thread's scratch memory: no two jobs with the same thread index run at once.
    public static func parallelForEach(_ count: Int, _ body: (_ job: Int, _ thread: Int) -> Void) {
        guard count > 0 else { return }
        if pool.threadCount <= 1 || count == 1 || insideRegion || !regionLock.try() {
            for index in 0..<count { body(index, 0) }
            return
        }
        insideRegion = true
        defer { insideRegion = false; regionLock.unlock() }
        let nextJob = Atomic<Int>(0)
        pool.run { thread in
            while true {
                let job = nextJob.wrappingAdd(1, ordering: .relaxed).oldValue
                if job >= count { break }
                body(job, thread)
            }
        }
    }
}
