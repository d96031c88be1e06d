import Dispatch
import Foundation
import Synchronization

/// A piece of parallel work that needs no closure: `task(context, item)`, with
/// `context` pointing at whatever the items share (usually a struct on the
/// caller's stack). See ``parallelFor(_:context:_:)``.
package typealias ParallelTask = @convention(c) (_ context: UnsafeMutableRawPointer?, _ item: Int) -> Void

/// The helper threads behind ``parallelFor(_:_:)``: started once, then parked
/// on a semaphore between jobs. A job given as a ``ParallelTask`` and a context
/// pointer is handed out without allocating; a closure job allocates once (the
/// escaping wrapper `withoutActuallyEscaping` makes of it), where Dispatch's
/// `concurrentPerform` allocated about five times.
///
/// One job runs at a time. A call made while a job is running (from inside a
/// job, or from another thread) returns `false` and the caller falls back to Dispatch.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// Set while a job runs; guards every field below.
    private let busy = Atomic<Bool>(false)
    private var helpers: [DispatchSemaphore] = []
    private let finished = DispatchSemaphore(value: 0)
    /// The running job: its task and context, its item count and how many
    /// threads share it (the caller plus `participants - 1` helpers).
    private var task: ParallelTask?
    private var context: UnsafeMutableRawPointer?
    private var count = 0
    private var participants = 1
    /// A closure job's body (the caller's closure, not escaping the call), run by ``closureTask``.
    private var body: ((Int) -> Void)?

    /// Runs `task(context, i)` for `i` in `0..<count`, one item per thread (the
    /// caller's included; items are shared out if `count` exceeds
    /// ``maxThreadCount``), returning when all are done; `false`, having run
    /// nothing, when another job holds the pool.
    func run(_ count: Int, context: UnsafeMutableRawPointer?, _ task: ParallelTask) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        execute(count, context: context, task)
        return true
    }

    /// As ``run(_:context:_:)``, for a closure.
    // `dynamic`: never specialized for a caller's closure, which would then be rebuilt on the heap.
    dynamic
    func run(_ count: Int, _ body: (Int) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            execute(count, context: nil, WorkerPool.closureTask)
            self.body = nil                                              // released before the closure's scope ends
        }
        return true
    }

    /// Calls the running closure job's body; every copy of it is gone when this returns.
    private static let closureTask: ParallelTask = { _, item in WorkerPool.shared.body!(item) }

    /// Hands the job to the helpers, runs the caller's share (items 0, p, 2p, …) and waits for theirs.
    private func execute(_ count: Int, context: UnsafeMutableRawPointer?, _ task: ParallelTask) {
        let participants = max(1, min(count, maxThreadCount))
        while helpers.count < participants - 1 { startHelper(helpers.count) }
        self.task = task
        self.context = context
        self.count = count
        self.participants = participants
        for h in 0..<participants - 1 { helpers[h].signal() }
        var i = 0
        while i < count { task(context, i); i += participants }
        for _ in 0..<participants - 1 { finished.wait() }
        self.task = nil
        self.context = nil
    }

    /// Starts helper `h`, which runs items `h + 1`, `h + 1 + p`, … of each job.
    private func startHelper(_ h: Int) {
        let wake = DispatchSemaphore(value: 0)
        helpers.append(wake)
        let thread = Thread { [unowned self] in
            while true {
                wake.wait()
                let task = task!, context = context
                var i = h + 1
                while i < count { task(context, i); i += participants }
                finished.signal()
            }
        }
        thread.name = "swiftattention-worker-\(h + 1)"
        thread.start()
    }
}

/// A scratch buffer per thread, grown to the largest size asked for and kept
/// until the thread ends, so hot loops can borrow memory without allocating.
enum ThreadScratch {
    /// Per thread: a pointer to a `[capacity, elements…]` block of doubles.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { $0?.deallocate() }
        return key
    }()

    /// Room for at least `count` elements of `S` (contents unspecified), valid
    /// until the same thread asks again; not for use across nested calls.
    static func buffer<S: MatrixScalar>(_ count: Int, of: S.Type) -> UnsafeMutablePointer<S> {
        let doubles = doubles((count * MemoryLayout<S>.stride + 7) / 8)
        return UnsafeMutableRawPointer(doubles).bindMemory(to: S.self, capacity: count)
    }

    private static func doubles(_ count: Int) -> UnsafeMutablePointer<Double> {
        if let block = pthread_getspecific(key)?.assumingMemoryBound(to: Double.self), Int(block[0]) >= count {
            return block + 1
        }
        pthread_getspecific(key)?.deallocate()
        let block = UnsafeMutablePointer<Double>.allocate(capacity: count + 1)
        block[0] = Double(count)
        pthread_setspecific(key, block)
        return block + 1
    }
}
