import CKernels
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Persistent worker threads that run one task on every thread at once.
///
/// Workers spin (with `pause`) for up to 2 ms after a task, since the next parallel region of a forward
/// pass usually follows within microseconds, then sleep on a condition variable, so an idle pool costs
/// nothing. Waking a spinning worker takes well under a microsecond, against tens for a Dispatch or pthread wake-up —
/// which matters for decoding, where a step is a few dozen small parallel regions.
final class WorkerPool: @unchecked Sendable {
    let threadCount: Int
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private var task: ((Int) -> Void)?
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var sleepers = 0
    /// How long a worker spins for the next task before it goes to sleep. Regions of a decode step follow each
    /// other within microseconds to a millisecond; a worker woken through the kernel for each of them (tens of
    /// microseconds on this VM) cost medium decoding a sixth of its speed.
    private let spinNanoseconds: UInt64 = 2_000_000

    init(threads: Int) {
        threadCount = max(1, threads)
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
        for index in 1..<threadCount {
            // Workers hold the pool until `shutdown` lets them return, so a replaced pool lives until then.
            let thread = Thread { self.work(as: index) }
            thread.name = "grpo-worker-\(index)"
            thread.start()
        }
    }

    private func work(as index: Int) {
        var seen = 0
        while true {
            var spins = 0
            var spinStart: UInt64 = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                grpo_spin_pause()
                if spins % 64 != 0 { continue }
                let now = DispatchTime.now().uptimeNanoseconds
                if spinStart == 0 { spinStart = now }
                if now - spinStart < spinNanoseconds { continue }
                pthread_mutex_lock(&mutex)
                sleepers += 1
                while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(&condition, &mutex) }
                sleepers -= 1
                pthread_mutex_unlock(&mutex)
            }
            seen = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .acquiring) { return }
            task!(index)
            pending.subtract(1, ordering: .releasing)
        }
    }

    /// Calls `body(i)` for i in 0..<threadCount, `body(0)` on the calling thread; returns when all are done.
    func run(_ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            task = escapable
            pending.store(threadCount - 1, ordering: .relaxed)
            wakeWorkers()
            escapable(0)
            // Spin briefly; then yield, so a preempted worker gets the core back when cores are oversubscribed.
            var spins = 0
            while pending.load(ordering: .acquiring) > 0 {
                spins += 1
                grpo_spin_pause()
                if spins > 2_000 { sched_yield() }
            }
            task = nil
        }
    }

    /// Ends the worker threads once they finish what they are doing.
    func shutdown() {
        stopping.store(true, ordering: .releasing)
        wakeWorkers()
    }

    private func wakeWorkers() {
        pthread_mutex_lock(&mutex)
        generation.add(1, ordering: .releasing)
        if sleepers > 0 { pthread_cond_broadcast(&condition) }
        pthread_mutex_unlock(&mutex)
    }
}
