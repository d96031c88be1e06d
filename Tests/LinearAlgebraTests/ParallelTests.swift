import Dispatch
import Foundation
import LinearAlgebra
import Synchronization
import Testing

@Suite("parallelFor: every item once, nested and concurrent calls included")
struct ParallelTests {
    /// Runs `parallelFor(count)` and returns how many times each item ran.
    func counts(_ count: Int) -> [Int] {
        var hits = [Int](repeating: 0, count: count)
        hits.withUnsafeMutableBufferPointer { h in parallelFor(count) { h[$0] += 1 } }
        return hits
    }

    @Test func everyItemOnce() {
        for count in [0, 1, 2, 3, 7, 64] {
            #expect(counts(count) == [Int](repeating: 1, count: count), "count \(count)")
        }
    }

    /// A parallelFor inside another finds the helper threads busy and still runs everything.
    @Test func nested() {
        var hits = [Int](repeating: 0, count: 4 * 5)
        hits.withUnsafeMutableBufferPointer { h in
            parallelFor(4) { i in parallelFor(5) { j in h[i * 5 + j] += 1 } }
        }
        #expect(hits == [Int](repeating: 1, count: 20))
    }

    /// The closure-free forms: every item once, from one thread or from several at once
    /// (those that find the helpers busy fall back to Dispatch).
    @Test func taskForms() {
        let bump: ParallelTask = { hits, i in hits!.assumingMemoryBound(to: Int.self)[i] += 1 }
        let bumpKernel: ParallelKernelTask = { hits, i, worker in
            precondition(worker >= 0 && worker < 3, "worker \(worker) of 3")
            hits!.assumingMemoryBound(to: Int.self)[i] += 1
        }
        let total = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            for count in [1, 2, 5, 12] {
                var a = [Int](repeating: 0, count: count), b = a
                a.withUnsafeMutableBufferPointer { parallelFor(count, context: $0.baseAddress!, bump) }
                b.withUnsafeMutableBufferPointer { parallelKernels(count, workers: 3, context: $0.baseAddress!, bumpKernel) }
                total.add(a.filter { $0 == 1 }.count + b.filter { $0 == 1 }.count, ordering: .relaxed)
            }
        }
        #expect(total.load(ordering: .relaxed) == 6 * 2 * (1 + 2 + 5 + 12))
    }

    /// Jobs back to back (the helpers are still looking for work) and jobs
    /// after a pause longer than their spin (the helpers have parked and must be woken).
    @Test func afterHelpersPark() {
        let bump: ParallelTask = { hits, i in hits!.assumingMemoryBound(to: Int.self)[i] += 1 }
        for pause in [0, 0, 3, 0, 3, 3] {
            if pause > 0 { usleep(UInt32(pause * 1000)) }                        // ms, past the 0.5 ms spin
            var a = [Int](repeating: 0, count: 2)
            a.withUnsafeMutableBufferPointer { parallelFor(2, context: $0.baseAddress!, bump) }
            #expect(a == [1, 1], "after a \(pause) ms pause")
            #expect(counts(3) == [1, 1, 1], "after a \(pause) ms pause")
        }
    }

    /// Calls from several threads at once: one gets the helpers, the others fall back.
    @Test func concurrentCallers() {
        let total = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<50 {
                let c = counts(9)
                total.add(c.reduce(0, +), ordering: .relaxed)
            }
        }
        #expect(total.load(ordering: .relaxed) == 8 * 50 * 9)
    }
}
