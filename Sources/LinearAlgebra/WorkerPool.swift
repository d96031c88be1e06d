import Dispatch
import Foundation
import Synchronization

/// The helper threads behind ``parallelFor(_:_:)``: started once, then parked
/// on a semaphore between jobs. Handing out a job allocates once (the escaping
/// wrapper `withoutActuallyEscaping` makes of the body), where Dispatch's
/// `concurrentPerform` allocated about five times; a decoded token makes about
/// sixty parallel calls.
///
/// One job runs at a time. A call made while a job is running (from inside a
/// job, or from another thread) returns `false` and the caller falls back to Dispatch.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// Set while a job runs; guards every field below.
    private let busy = Atomic<Bool>(false)
    private var helpers: [DispatchSemaphore] = []
    private let finished = DispatchSemaphore(value: 0)
    /// The running job's body (the caller's closure, not escaping the call), its item count
    /// and how many threads share it (the caller plus `participants - 1` helpers).
    private var job: ((Int) -> Void)?
    private var count = 0
    private var participants = 1

    /// Runs `body(i)` for `i` in `0..<count` on up to `threads` threads (the
    /// caller's included), returning when all are done; `false`, having run
    /// nothing, when another job holds the pool.
    // `dynamic`: never specialized for a caller's closure, which would then be rebuilt on the heap.
    dynamic
    func run(_ count: Int, threads: Int, _ body: (Int) -> Void) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { busy.store(false, ordering: .releasing) }
        let participants = max(1, min(count, threads))
        while helpers.count < participants - 1 { startHelper(helpers.count) }
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            self.count = count
            self.participants = participants
            for h in 0..<participants - 1 { helpers[h].signal() }
            var i = 0
            while i < count { body(i); i += participants }               // the caller's share: items 0, p, 2p, …
            for _ in 0..<participants - 1 { finished.wait() }
            job = nil                                                    // released before the closure's scope ends
        }
        return true
    }

    /// Starts helper `h`, which runs items `h + 1`, `h + 1 + p`, … of each job.
    private func startHelper(_ h: Int) {
        let wake = DispatchSemaphore(value: 0)
        helpers.append(wake)
        let thread = Thread { [unowned self] in
            while true {
                wake.wait()
                do {                                                     // the copy of the body is released
                    let body = job!                                      // before the caller is told
                    var i = h + 1
                    while i < count { body(i); i += participants }
                }
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

    /// At least `count` doubles (contents unspecified), valid until the same
    /// thread asks again; not for use across nested calls.
    static func doubles(_ count: Int) -> UnsafeMutablePointer<Double> {
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
