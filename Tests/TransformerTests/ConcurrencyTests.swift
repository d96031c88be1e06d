import Dispatch
import Foundation
import SwiftAttention
import Synchronization
import TestSupport
import Testing

/// A 256-wide model, big enough that products go to several threads.
let wideModel: GPT = try! GPT.random(config: GPTConfig(nCtx: 128, nVocab: 300, nEmbd: 256, nHead: 4, nLayer: 2), seed: 11)
    .storingWeights(.both)

/// The logits of a greedy generation, step by step: the prompt's, then each decoded token's.
func logitTrace(_ model: GPT, _ prompt: [Int], backend: Backend, steps: Int = 4) throws -> [[Double]] {
    let cache = try KVCache(config: model.config)
    var logits = Matrix.zeros(rows: 1, cols: model.config.nVocab)
    var trace: [[Double]] = []
    try model.forward(prompt, cache: cache, logits: &logits, backend: backend)
    for _ in 0..<steps {
        trace.append(logits.elements)
        let next = logits.elements.indices.max { logits.elements[$0] < logits.elements[$1] }!
        try model.forward([next], cache: cache, logits: &logits, backend: backend)
    }
    return trace
}

/// Serialized: its tests change the thread count, which the others compare results across.
/// (No other suite changes it.)
@Suite("Concurrent generations from one model", .serialized, slowSuite)
struct ConcurrencyTests {
    /// Prompts long enough for a multi-row prefill and, past 64 positions, heads side by side.
    let jobs: [(prompt: [Int], backend: Backend)] = (0..<6).map { i in
        ((0..<(10 + 13 * i)).map { ($0 * 31 + i) % 300 }, i % 2 == 0 ? .blas : .swift)
    }

    /// The serial results, then the same jobs on six threads at once, with
    /// `mutate` running on another thread meanwhile.
    func runConcurrently(while mutate: @escaping @Sendable (Int) -> Void) throws -> (serial: [[[Double]]], concurrent: [[[Double]]]) {
        let saved = (Backend.default, LinearAlgebra.threadCount)
        defer { Backend.default = saved.0; try? LinearAlgebra.setThreadCount(saved.1) }
        let serial = try jobs.map { try logitTrace(wideModel, $0.prompt, backend: $0.backend) }
        let done = Atomic<Bool>(false)
        let mutator = Thread {
            var i = 0
            while !done.load(ordering: .acquiring) { mutate(i); i += 1; usleep(200) }
        }
        mutator.start()
        let results = Mutex([[[Double]]?](repeating: nil, count: jobs.count))
        let jobs = self.jobs
        DispatchQueue.concurrentPerform(iterations: jobs.count) { j in
            let trace = try? logitTrace(wideModel, jobs[j].prompt, backend: jobs[j].backend)
            results.withLock { $0[j] = trace }
        }
        done.store(true, ordering: .releasing)
        return (serial, results.withLock { $0.map { $0 ?? [] } })
    }

    /// Nothing else changes: every result is bitwise the serial one, on both backends.
    @Test func bitwiseEqualToSerial() throws {
        let (serial, concurrent) = try runConcurrently { _ in }
        let same = jobs.indices.map { concurrent[$0] == serial[$0] }
        #expect(same.allSatisfy { $0 }, "jobs differing from their serial run: \(jobs.indices.filter { !same[$0] }.map { "\($0) (\(jobs[$0].backend))" })")
    }

    /// Another thread flips the default backend and the thread count throughout. Each
    /// forward pass reads both once; the pure-Swift kernels' results do not depend on
    /// the thread count, so the swift jobs stay bitwise equal. OpenBLAS's GEMM splits
    /// its sums differently for different thread counts (~1e-16 relative), so the blas
    /// jobs may differ in the last bits (README, "Guarantees"), never by more.
    @Test func settingsFlippedMeanwhile() throws {
        let (serial, concurrent) = try runConcurrently { i in
            Backend.default = i % 2 == 0 ? .swift : .blas
            try! LinearAlgebra.setThreadCount(1 + i % 3)
        }
        for j in jobs.indices {
            if jobs[j].backend == .swift {
                let same = concurrent[j] == serial[j]
                #expect(same, "job \(j) (swift) differs")
            } else {
                #expect(concurrent[j].count == serial[j].count)
                for (a, b) in zip(concurrent[j], serial[j]) {
                    expectClose(Matrix(row: a), Matrix(row: b), relative: 1e-12, "job \(j) (blas)")
                }
            }
        }
    }

    /// The pure-Swift kernels give the same bits at every thread count.
    /// (A 49-token prompt's MLP has 49 × 1024 GELU inputs, which three threads
    /// split at offsets that are not multiples of the vector width.)
    @Test(arguments: [75, 49])
    func swiftResultsIndependentOfTheThreadCount(promptLength: Int) throws {
        let saved = LinearAlgebra.threadCount
        defer { try? LinearAlgebra.setThreadCount(saved) }
        let prompt = (0..<promptLength).map { ($0 * 31 + 3) % 300 }
        var traces: [[[Double]]] = []
        for t in [1, 2, 3, 4] {
            try LinearAlgebra.setThreadCount(t)
            traces.append(try logitTrace(wideModel, prompt, backend: .swift))
        }
        let same = traces.allSatisfy { $0 == traces[0] }
        #expect(same)
    }

    /// GELU gives the same bits at every thread count, however its ranges split
    /// (the last numbers of a range once went through a scalar `exp`).
    @Test func geluIndependentOfTheThreadCount() {
        let saved = LinearAlgebra.threadCount
        defer { try? LinearAlgebra.setThreadCount(saved) }
        var g = SeededGenerator(seed: 5)
        let input = (0..<50_177).map { _ in 8 * g.nextUnit() - 4 }
        func gelu<S: MatrixScalar>(_: S.Type, threads: Int) -> [S] {
            try! LinearAlgebra.setThreadCount(threads)
            var x = input.map { S($0) }
            x.withUnsafeMutableBufferPointer { GELU.apply($0.baseAddress!, count: $0.count) }
            return x
        }
        func differing<S: MatrixScalar>(_: S.Type, threads: Int) -> Int {
            zip(gelu(S.self, threads: threads), gelu(S.self, threads: 1)).filter { $0 != $1 }.count
        }
        for t in 2...4 {
            #expect(differing(Double.self, threads: t) == 0, "Double, \(t) threads")
            #expect(differing(Float.self, threads: t) == 0, "Float, \(t) threads")
        }
    }

    /// Out-of-range thread counts are refused, never passed on (OpenBLAS takes an Int32).
    @Test func threadCountIsChecked() throws {
        let saved = LinearAlgebra.threadCount
        defer { try? LinearAlgebra.setThreadCount(saved) }
        for asked in [1 << 31, Int.max, LinearAlgebra.maxThreadCount + 1, 0, -5] {
            #expect(throws: LinearAlgebraError.threadCountOutOfRange(asked, maximum: LinearAlgebra.maxThreadCount)) {
                try LinearAlgebra.setThreadCount(asked)
            }
            #expect(LinearAlgebra.threadCount == saved, "\(asked)")
        }
        try LinearAlgebra.setThreadCount(2)
        #expect(LinearAlgebra.threadCount == 2)
    }
}
