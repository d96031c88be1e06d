import CommandSupport
import Foundation
import SwiftAttention

/// One measured result, as printed in the table and the JSON.
struct Row {
    var suite: String
    var name: String
    var backend: String
    var threads: Int
    var shape: String
    var median: Double
    var min: Double
    var gflops: Double? = nil
    var gbytesPerSecond: Double? = nil
    var tokensPerSecond: Double? = nil
    /// Free-form columns for the table (share of peak, ratios, memory).
    var notes: [String] = []
}

/// How hard to try: warm-up runs, then repeats until both `minRuns` and `minSeconds` are reached
/// (or `maxRuns`).
struct Effort {
    var minRuns: Int
    var maxRuns: Int
    var minSeconds: Double

    static let full = Effort(minRuns: 5, maxRuns: 200, minSeconds: 0.5)
    static let quick = Effort(minRuns: 3, maxRuns: 20, minSeconds: 0.05)
}

/// Seconds for one call of `body`: one warm-up, then repeated runs; returns (median, min).
func measure(_ effort: Effort, _ body: () -> Void) -> (median: Double, min: Double) {
    withoutActuallyEscaping(body) { measureInterleaved(effort, [$0])[0] }
}

/// Like ``measure(_:_:)`` for several bodies at once, run in turn, each round
/// starting one body later (A B, B A, …), so that a slow spell of a shared
/// machine hits all of them alike and their ratios stay meaningful.
/// Returns (median, min) for each body, in order.
func measureInterleaved(_ effort: Effort, _ bodies: [() -> Void]) -> [(median: Double, min: Double)] {
    bodies.forEach { $0() }
    var times = [[Double]](repeating: [], count: bodies.count)
    var total = 0.0
    while times[0].count < effort.minRuns || (total < effort.minSeconds * Double(bodies.count) && times[0].count < effort.maxRuns) {
        let round = times[0].count
        for j in bodies.indices {
            let i = (j + round) % bodies.count, body = bodies[i]
            let t = elapsedSeconds(body)
            times[i].append(t)
            total += t
        }
    }
    return times.map { t in
        let sorted = t.sorted()
        return (sorted[sorted.count / 2], sorted[0])
    }
}

/// The seconds one run of `body` takes.
func elapsedSeconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// A progress line on stderr, overwritten in place.
func progress(_ text: String) {
    Console.note("\r\u{1B}[K\(text)", terminator: "")
}

/// The nominal double-precision peak of `threads` cores: clock × flops per
/// cycle per core × `threads`, the clock as /proc/cpuinfo gives it (nominal:
/// boost clocks can exceed it). See ``doubleFlopsPerCycle(cpuinfo:)``.
func nominalPeakGFLOPS(threads: Int) -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu MHz") }),
          let mhz = Double(line.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) else { return nil }
    return mhz * 1e-3 * Double(doubleFlopsPerCycle(cpuinfo: text)) * Double(threads)
}

/// One core's double-precision flops per cycle: two FMA units, each 8 lanes
/// wide with full-width AVX-512 (Intel's, AMD's Zen 5: family 26) and 4 lanes
/// otherwise (AVX2, and Zen 4, family 25, whose AVX-512 runs each 8-wide FMA
/// as two 256-bit halves); an FMA is two flops.
func doubleFlopsPerCycle(cpuinfo text: String) -> Int {
    let avx512 = OpenBLASKernels.cpuFlags(cpuinfo: text).contains("avx512f")
    let family = text.split(separator: "\n").first { $0.hasPrefix("cpu family") }
        .flatMap { Int($0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) }
    let fullWidth = avx512 && (text.contains("GenuineIntel") || (text.contains("AuthenticAMD") && (family ?? 0) >= 26))
    return 2 * 2 * (fullWidth ? 8 : 4)
}
