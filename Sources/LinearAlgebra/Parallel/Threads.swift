import COpenBLAS
import Foundation
import Synchronization

/// The number of threads both backends use for one operation.
///
/// It starts from the environment variable `SWIFTATTENTION_NUM_THREADS` when
/// that holds an integer in `1…maxThreadCount`, and otherwise from the number
/// of active processors; ``setThreadCount(_:)`` changes it.
///
/// The pure-Swift kernels split their work over this many threads. Setting
/// it (or `SWIFTATTENTION_NUM_THREADS`) also sets OpenBLAS's thread count,
/// which is process-wide; until then OpenBLAS keeps its own setting
/// (`OPENBLAS_NUM_THREADS`, or whatever the host program chose).
///
/// Safe to read and set from any thread. Every operation reads it once, when
/// it starts: a change affects operations that start afterwards.
public var threadCount: Int { ThreadSettings.shared.withLock { $0 } }

/// Sets ``threadCount`` (and OpenBLAS's thread count) to `count`.
///
/// - Throws: ``LinearAlgebraError/threadCountOutOfRange(_:maximum:)`` outside `1…maxThreadCount`.
public func setThreadCount(_ count: Int) throws {
    guard (1...maxThreadCount).contains(count) else { throw LinearAlgebraError.threadCountOutOfRange(count, maximum: maxThreadCount) }
    ThreadSettings.shared.withLock { n in
        n = count
        openblas_set_num_threads(Int32(count))
    }
}

/// The largest accepted ``threadCount``: four per active processor, at most 256.
/// (More threads than that only oversubscribe the cores, and OpenBLAS
/// allocates a buffer per thread.)
public let maxThreadCount = min(256, 4 * max(1, ProcessInfo.processInfo.activeProcessorCount))

enum ThreadSettings {
    /// Read once, on first use; OpenBLAS is told only when the environment names a count.
    static let shared: Mutex<Int> = {
        if let n = requestedThreadCount(environment: ProcessInfo.processInfo.environment) {
            openblas_set_num_threads(Int32(n))
            return Mutex(n)
        }
        return Mutex(max(1, ProcessInfo.processInfo.activeProcessorCount))
    }()

    /// `SWIFTATTENTION_NUM_THREADS` when it is an integer in `1…maxThreadCount`.
    static func requestedThreadCount(environment: [String: String]) -> Int? {
        guard let text = environment["SWIFTATTENTION_NUM_THREADS"],
              let n = Int(text.trimmingCharacters(in: .whitespaces)), (1...maxThreadCount).contains(n) else { return nil }
        return n
    }
}

/// What is wrong with `SWIFTATTENTION_NUM_THREADS` when it is set but is not a
/// thread count the library takes (the library then ignores it; an executable
/// can refuse it with this message), or `nil`.
package func threadCountVariableProblem(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
    guard let text = environment["SWIFTATTENTION_NUM_THREADS"], ThreadSettings.requestedThreadCount(environment: environment) == nil else { return nil }
    return "SWIFTATTENTION_NUM_THREADS must be an integer in 1…\(maxThreadCount), found \"\(text)\""
}

/// Runs `body(0)`, …, `body(count - 1)` concurrently, one item per thread
/// (inline when `count` is 1), and returns when all are done. The bodies must
/// write disjoint memory. Callers choose `count` from one reading of
/// ``threadCount``.
package func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    if count <= 1 {
        if count == 1 { body(0) }
        return
    }
    // The shared helper threads when they are free (one small allocation: the
    // escaping wrapper of `body`); Dispatch when they are busy, e.g. for a
    // parallelFor inside another.
    if WorkerPool.shared.run(count, body) { return }
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
package func parallelFor(_ count: Int, context: UnsafeMutableRawPointer?, _ task: ParallelTask) {
    if count <= 1 {
        if count == 1 { task(context, 0) }
        return
    }
    if WorkerPool.shared.run(count, context: context, task) { return }
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
package func parallelRanges(_ count: Int, minimum: Int, _ body: (Range<Int>) -> Void) {
    let parts = max(1, min(KernelThreads.current, count / max(minimum, 1)))
    let chunk = (count + parts - 1) / parts
    parallelFor(parts) { t in
        let range = t * chunk ..< min(count, (t + 1) * chunk)
        if !range.isEmpty { body(range) }
    }
}

/// How many threads one kernel call may use: ``threadCount``, except inside
/// ``parallelKernels(_:workers:context:_:)``, where each call runs on its own thread.
package enum KernelThreads {
    /// Per thread: non-nil inside ``withSingleThread(_:)``. A pthread key, not a
    /// task-local, because setting a task-local allocates.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// The threads a kernel starting now on this thread may use.
    package static var current: Int { pthread_getspecific(key) != nil ? 1 : threadCount }

    /// Runs `body` with ``current`` at 1 on this thread.
    static func withSingleThread(_ body: () -> Void) {
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(key, previous) }
        body()
    }
}

/// As ``ParallelTask``, with the worker's index: `task(context, item, worker)`.
package typealias ParallelKernelTask = @convention(c) (_ context: UnsafeMutableRawPointer?, _ item: Int, _ worker: Int) -> Void

/// Runs `task(context, item, worker)` for every item in `0..<count`, spread
/// over `workers` threads (worker `w` takes items `w`, `w + workers`, …), with
/// every pure-Swift kernel called inside running single-threaded: for many
/// small independent products (attention heads), where one thread per product
/// beats splitting each product. `worker` names the thread, for per-worker
/// scratch space the caller sized for `workers` (read ``KernelThreads/current`` once,
/// then pass it here). Bodies must write disjoint memory; they should call the
/// pure-Swift kernels (OpenBLAS's thread count is process-wide, and is left
/// alone). Allocates nothing while the helper threads are free.
package func parallelKernels(_ count: Int, workers: Int, context: UnsafeMutableRawPointer?, _ task: ParallelKernelTask) {
    precondition(workers >= 1, "parallelKernels: \(workers) workers")
    if workers == 1 || count <= 1 {
        for i in 0..<count { task(context, i, 0) }
        return
    }
    var job = KernelsJob(count: count, workers: workers, context: context, task: task)
    withUnsafeMutablePointer(to: &job) { parallelFor(workers, context: $0, KernelsJob.perWorker) }
}

/// What each worker of ``parallelKernels(_:workers:context:_:)`` needs.
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
