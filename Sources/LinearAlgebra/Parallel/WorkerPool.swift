import Dispatch
import Foundation
import Synchronization

/// A piece of parallel work that needs no closure: `task(context, item)`, with
/// `context` pointing at whatever the items share (usually a struct on the
/// caller's stack). See ``parallelFor(_:context:_:)``.
package typealias ParallelTask = @convention(c) (_ context: UnsafeMutableRawPointer?, _ item: Int) -> Void

/// The helper threads behind ``parallelFor(_:_:)``: started once, then waiting
/// between jobs. A job given as a ``ParallelTask`` and a context pointer is
/// handed out without allocating; a closure job allocates once (the escaping
/// wrapper `withoutActuallyEscaping` makes of it), where Dispatch's
/// `concurrentPerform` allocated about five times.
///
/// A helper that has finished its share keeps looking for the next job for
/// ``spinTime`` (yielding its core to any other runnable thread meanwhile)
/// before it parks on a semaphore; the caller likewise waits for the helpers'
/// shares. Waking a parked thread costs a system call on each side and, on a
/// virtual machine, an interrupt to the sleeping core: a decoded token hands out
/// about fifty jobs, and those wake-ups took about a tenth of its time.
///
/// One job runs at a time. A call made while a job is running (from inside a
/// job, or from another thread) returns `false` and the caller falls back to Dispatch.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long a waiting thread keeps checking before it parks.
    static let spinTime: Duration = .microseconds(500)

    /// Set while a job runs; guards `helpers` and `body`.
    private let busy = Atomic<Bool>(false)
    private var helpers: [Helper] = []
    /// Helpers of the running job that have not finished their share.
    private let pending = Atomic<Int>(0)
    /// Whether the caller has parked on `finished` (see ``Helper``'s `parked`).
    private let callerParked = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    /// A closure job's body (the caller's closure, not escaping the call), run by ``closureTask``.
    private var body: ((Int) -> Void)?

    /// One helper thread and the job it was last handed.
    private final class Helper: @unchecked Sendable {
        /// Jobs handed to it so far; it runs one each time this moves.
        let posted = Atomic<Int>(0)
        /// Set while it is (about to be) parked on `wake`: the caller then signals.
        let parked = Atomic<Bool>(false)
        let wake = DispatchSemaphore(value: 0)
        /// Its share of the job: items `first`, `first + step`, … below `count`.
        /// Written by the caller before `posted` moves, read by the helper after.
        var task: ParallelTask?
        var context: UnsafeMutableRawPointer?
        var first = 0, step = 1, count = 0
    }

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
        pending.store(participants - 1, ordering: .relaxed)
        for h in 0..<participants - 1 {
            let helper = helpers[h]
            helper.task = task
            helper.context = context
            (helper.first, helper.step, helper.count) = (h + 1, participants, count)
            helper.posted.add(1, ordering: .sequentiallyConsistent)
            if helper.parked.load(ordering: .sequentiallyConsistent) { helper.wake.signal() }
        }
        var i = 0
        while i < count { task(context, i); i += participants }
        Self.wait(until: { pending.load(ordering: .sequentiallyConsistent) == 0 }, parked: callerParked, on: finished)
    }

    /// Starts helper `h`, which runs items `h + 1`, `h + 1 + p`, … of each job handed to it.
    private func startHelper(_ h: Int) {
        let helper = Helper()
        helpers.append(helper)
        let thread = Thread { [unowned self] in
            var done = 0
            while true {
                Self.wait(until: { helper.posted.load(ordering: .sequentiallyConsistent) != done }, parked: helper.parked, on: helper.wake)
                done += 1
                let task = helper.task!, context = helper.context
                var i = helper.first
                while i < helper.count { task(context, i); i += helper.step }
                if pending.subtract(1, ordering: .sequentiallyConsistent).newValue == 0,
                   callerParked.load(ordering: .sequentiallyConsistent) {
                    finished.signal()
                }
            }
        }
        thread.name = "swiftattention-worker-\(h + 1)"
        thread.start()
    }

    /// Returns once `ready()` holds: checks it for ``spinTime``, yielding the
    /// core between checks, then parks on `semaphore` with `parked` set, for
    /// the other side to signal. A signal left over from a race only makes
    /// a later park return early, to check again.
    private static func wait(until ready: () -> Bool, parked: borrowing Atomic<Bool>, on semaphore: DispatchSemaphore) {
        let clock = ContinuousClock()
        var deadline = clock.now + spinTime
        while !ready() {
            if clock.now < deadline {
                sched_yield()
                continue
            }
            parked.store(true, ordering: .sequentiallyConsistent)
            if !ready() { semaphore.wait() }
            parked.store(false, ordering: .sequentiallyConsistent)
            deadline = clock.now + spinTime
        }
    }
}

/// Memory that grows to the largest size asked for and is then reused, so hot
/// loops borrow it without allocating: the one scratch allocator, per thread
/// (``ThreadScratch``) and per forward pass (the transformer's workspace).
package final class ScratchBuffer {
    private var pointer: UnsafeMutableRawPointer?, capacity = 0   // in bytes

    package init() {}

    /// Room for at least `count` elements of `S`, 64-byte aligned (contents
    /// unspecified; reallocated only when it must grow).
    @inline(__always)
    package func buffer<S>(_ count: Int, of: S.Type) -> UnsafeMutablePointer<S> {
        bytes(max(count, 1) * MemoryLayout<S>.stride).bindMemory(to: S.self, capacity: max(count, 1))
    }

    /// Room for at least `count` bytes (a call that is not generic, so other modules reach it specialised).
    package func bytes(_ count: Int) -> UnsafeMutableRawPointer {
        if capacity < count {
            pointer?.deallocate()
            pointer = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
            capacity = count
        }
        return pointer!
    }

    deinit { pointer?.deallocate() }
}

/// A ``ScratchBuffer`` per thread, kept until the thread ends.
enum ThreadScratch {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { Unmanaged<ScratchBuffer>.fromOpaque($0!).release() }
        return key
    }()

    /// Room for at least `count` elements of `S` (contents unspecified), valid
    /// until the same thread asks again; not for use across nested calls.
    static func buffer<S: MatrixScalar>(_ count: Int, of: S.Type) -> UnsafeMutablePointer<S> {
        if let own = pthread_getspecific(key) { return Unmanaged<ScratchBuffer>.fromOpaque(own).takeUnretainedValue().buffer(count, of: S.self) }
        let scratch = ScratchBuffer()
        pthread_setspecific(key, Unmanaged.passRetained(scratch).toOpaque())
        return scratch.buffer(count, of: S.self)
    }
}
