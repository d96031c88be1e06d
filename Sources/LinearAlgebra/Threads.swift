import COpenBLAS
import Foundation
import Synchronization

/// The number of threads both backends use for one operation.
///
/// It starts from the environment variable `SWIFTATTENTION_NUM_THREADS` when that
/// holds a positive integer, and otherwise from the number of active processors.
/// Setting it also sets OpenBLAS's thread count (`openblas_set_num_threads`),
/// and the pure-Swift kernels split their work across as many threads.
/// Values below 1 are stored as 1.
public var threadCount: Int {
    get { ThreadSettings.shared.withLock { $0 } }
    set {
        let n = max(1, newValue)
        ThreadSettings.shared.withLock { $0 = n }
        openblas_set_num_threads(Int32(n))
    }
}

enum ThreadSettings {
    /// Read once, on first use; OpenBLAS is told at the same moment.
    static let shared: Mutex<Int> = {
        let n = initialThreadCount(environment: ProcessInfo.processInfo.environment)
        openblas_set_num_threads(Int32(n))
        return Mutex(n)
    }()

    /// Parses `SWIFTATTENTION_NUM_THREADS`; falls back to the processor count.
    static func initialThreadCount(environment: [String: String]) -> Int {
        if let text = environment["SWIFTATTENTION_NUM_THREADS"],
           let n = Int(text.trimmingCharacters(in: .whitespaces)), n > 0 {
            return n
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Makes sure OpenBLAS has been told the thread count before a BLAS call.
    @inline(__always)
    static func prepareBLAS() { shared.withLock { _ in } }
}

/// Runs `body(0)`, …, `body(count - 1)` concurrently (inline when `count` is 1)
/// and returns when all are done. The bodies must write disjoint memory.

public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    if count <= 1 {
        if count == 1 { body(0) }
        return
    }
    // The shared helper threads when they are free (one small allocation: the
    // escaping wrapper of `body`); Dispatch when they are busy, e.g. for a
    // parallelFor inside another.
    if WorkerPool.shared.run(count, threads: min(count, max(threadCount, 2)), body) { return }
    withoutActuallyEscaping(body) { escapable in
        let box = UncheckedSendable(escapable)
        DispatchQueue.concurrentPerform(iterations: count) { box.value($0) }
    }
}

/// As ``parallelFor(_:_:)``, with the body given as a C-convention function and
/// a context pointer instead of a closure: `task(context, i)` for `i` in
/// `0..<count`. Nothing is allocated while the helper threads are free, which
/// is what hot loops (a decoded token's matrix–vector products) need; the
/// closure form allocates once per call.
public func parallelFor(_ count: Int, context: UnsafeMutableRawPointer?, _ task: ParallelTask) {
    if count <= 1 {
        if count == 1 { task(context, 0) }
        return
    }
    if WorkerPool.shared.run(count, threads: min(count, max(threadCount, 2)), context: context, task) { return }
    let shared = UncheckedSendable(context)
    DispatchQueue.concurrentPerform(iterations: count) { task(shared.value, $0) }
}

/// Carries a value into a `@Sendable` closure where the caller guarantees
/// the concurrent uses do not race (``parallelFor(_:_:)`` bodies write disjoint memory).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Splits `0..<count` into at most ``threadCount`` contiguous ranges of at
/// least `minimum` items and runs `body` on each concurrently. For loops over
/// independent rows or elements; the bodies must write disjoint memory.
public func parallelRanges(_ count: Int, minimum: Int, _ body: (Range<Int>) -> Void) {
    let parts = max(1, min(threadCount, count / max(minimum, 1)))
    let chunk = (count + parts - 1) / parts
    parallelFor(parts) { t in
        let range = t * chunk ..< min(count, (t + 1) * chunk)
        if !range.isEmpty { body(range) }
    }
}

/// How many threads one kernel call may use: ``threadCount``, except inside
/// ``parallelKernels(_:_:)``, where each call runs on its own thread.
enum KernelThreads {
    /// Per thread: non-nil inside ``withSingleThread(_:)``. A pthread key, not a
    /// task-local, because setting a task-local allocates.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Whether the calling thread is inside ``withSingleThread(_:)``.
    static var singleThreaded: Bool { pthread_getspecific(key) != nil }

    static var current: Int { singleThreaded ? 1 : threadCount }

    /// Runs `body` with ``current`` at 1 on this thread.
    static func withSingleThread(_ body: () -> Void) {
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(key, previous) }
        body()
    }
}

/// Runs `body(0)`, …, `body(count - 1)` spread over up to ``threadCount``
/// threads, with every kernel called inside running single-threaded: for many
/// small independent products (attention heads), where one thread per product
/// beats splitting each product. OpenBLAS is set to one thread for the
/// duration, so BLAS calls made meanwhile by other code also get one thread.
/// Bodies must write disjoint memory; `worker` (0..<threads) names the thread,
/// for per-thread scratch space.
public func parallelKernels(_ count: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
    let workers = parallelKernelWorkers(count)
    if workers == 1 {
        for i in 0..<count { body(i, 0) }
        return
    }
    ThreadSettings.prepareBLAS()
    openblas_set_num_threads(1)
    defer { openblas_set_num_threads(Int32(threadCount)) }
    parallelFor(workers) { w in
        KernelThreads.withSingleThread {
            for i in stride(from: w, to: count, by: workers) { body(i, w) }
        }
    }
}

/// As ``ParallelTask``, with the worker's index: `task(context, item, worker)`.
public typealias ParallelKernelTask = @convention(c) (_ context: UnsafeMutableRawPointer?, _ item: Int, _ worker: Int) -> Void

/// As ``parallelKernels(_:_:)``, with the body given as a C-convention function
/// and a context pointer: `task(context, item, worker)`. Allocates nothing while
/// the helper threads are free.
public func parallelKernels(_ count: Int, context: UnsafeMutableRawPointer?, _ task: ParallelKernelTask) {
    let workers = parallelKernelWorkers(count)
    if workers == 1 {
        for i in 0..<count { task(context, i, 0) }
        return
    }
    ThreadSettings.prepareBLAS()
    openblas_set_num_threads(1)
    defer { openblas_set_num_threads(Int32(threadCount)) }
    var job = KernelsJob(count: count, workers: workers, context: context, task: task)
    withUnsafeMutablePointer(to: &job) { parallelFor(workers, context: $0, KernelsJob.perWorker) }
}

/// What each worker of ``parallelKernels(_:context:_:)`` needs.
private struct KernelsJob {
    let count: Int, workers: Int
    let context: UnsafeMutableRawPointer?
    let task: ParallelKernelTask

    /// Worker `w`: items `w`, `w + workers`, …, with kernels single-threaded.
    static let perWorker: ParallelTask = { job, w in
        let job = job!.assumingMemoryBound(to: KernelsJob.self).pointee
        KernelThreads.withSingleThread {
            for i in stride(from: w, to: job.count, by: job.workers) { job.task(job.context, i, w) }
        }
    }
}

/// The number of workers ``parallelKernels(_:_:)`` will use for `count` items.
public func parallelKernelWorkers(_ count: Int) -> Int { max(1, min(threadCount, count)) }
