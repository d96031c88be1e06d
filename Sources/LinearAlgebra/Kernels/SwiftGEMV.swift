import Dispatch
import RealModule

/// An element type weights can be stored in: `Double`, or `Float` when that is
/// lossless (see ``WeightMatrix``). Products always accumulate in `Double`.
package protocol WeightElement: BinaryFloatingPoint, Sendable {
    /// Four consecutive elements at element index `i` of `p`, widened to `Double`.
    static func load4(_ p: UnsafeRawPointer, _ i: Int) -> SIMD4<Double>
}

extension Double: WeightElement {
    @inline(__always)
    package static func load4(_ p: UnsafeRawPointer, _ i: Int) -> SIMD4<Double> {
        p.loadUnaligned(fromByteOffset: i &* 8, as: SIMD4<Double>.self)
    }
}

extension Float: WeightElement {
    @inline(__always)
    package static func load4(_ p: UnsafeRawPointer, _ i: Int) -> SIMD4<Double> {
        SIMD4<Double>(p.loadUnaligned(fromByteOffset: i &* 4, as: SIMD4<Float>.self))   // exact widening
    }
}

/// The pure-Swift matrix–vector products. `x · W` streams four rows of `W` per
/// pass (y is loaded and stored once per four rows); `W · x` is one dot product
/// per row. Large products are split across threads so that each reads one
/// contiguous part of `W`. `W` may hold `Double` or `Float` (widened as it is read).
///
/// Results never depend on the thread count: `W · x` splits whole dot products,
/// and `x · W` sums W's rows in blocks whose number is fixed by the shape, each
/// into its own partial row, the partials then added in block order.
enum SwiftGEMV {
    /// Below this many multiply-adds, one thread does the whole product.
    static let parallelThreshold = 1 << 16
    /// At most this many row blocks (and partial rows) for `x · W`.
    static let maxBlocks = 8

    static func run<E: WeightElement>(
        w W: UnsafePointer<E>, rows: Int, cols: Int, ldw: Int, transposed: Bool,
        x: UnsafePointer<Double>, incX: Int,
        y: UnsafeMutablePointer<Double>, alpha: Double, beta: Double, threads: Int
    ) {
        let large = rows * cols >= parallelThreshold
        // Transposed: `blocks` ranges of whole rows of W (one dot product per output).
        // Otherwise: `blocks` ranges of W's rows, each summed into its own partial y.
        let blocks = !large ? 1 : (transposed ? max(1, min(threads, rows / 8)) : max(1, min(maxBlocks, rows / 16)))
        if !transposed { Kernels.scale(y, count: cols, by: beta) }
        var job = Part(W: W, rows: rows, cols: cols, ldw: ldw, transposed: transposed, x: x, incX: incX, y: y,
                       alpha: alpha, beta: beta, blocks: blocks, threads: max(1, min(threads, blocks)),
                       partials: transposed ? y : ThreadScratch.doubles((blocks - 1) * cols))   // the calling thread's, reused
        withUnsafeMutablePointer(to: &job) { job in
            // The parts go out as C functions on a context pointer: no allocation per product.
            if E.self == Float.self {
                parallelFor(job.pointee.threads, context: job, Part<Float>.run)
            } else if E.self == Double.self {
                parallelFor(job.pointee.threads, context: job, Part<Double>.run)
            } else {
                for t in 0..<job.pointee.threads { job.pointee.run(t) }
            }
        }
        if !transposed {
            for b in 1..<blocks {
                let partial = job.partials + (b - 1) * cols
                for j in 0..<cols { y[j] += partial[j] }
            }
        }
    }

    /// One thread's share of a product (see ``run(w:rows:cols:ldw:transposed:x:incX:y:alpha:beta:threads:)``).
    struct Part<E: WeightElement> {
        let W: UnsafePointer<E>, rows: Int, cols: Int, ldw: Int, transposed: Bool
        let x: UnsafePointer<Double>, incX: Int, y: UnsafeMutablePointer<Double>, alpha: Double, beta: Double
        /// Row blocks of W, the threads sharing them (contiguous runs of blocks each),
        /// and where blocks after the first put their partial y (`x · W` only).
        let blocks: Int, threads: Int, partials: UnsafeMutablePointer<Double>

        /// Thread `t`: blocks `t * blocks / threads ..< (t + 1) * blocks / threads`.
        func run(_ t: Int) {
            let chunk = (rows + blocks - 1) / blocks
            for b in t * blocks / threads ..< (t + 1) * blocks / threads {
                let start = b * chunk, size = min(chunk, rows - start)
                if transposed {
                    guard size > 0 else { continue }
                    Kernels.scale(y + start, count: size, by: beta)
                    rowDots(W + start * ldw, size, cols, ldw, x, incX, y + start, alpha)
                } else {
                    let out = b == 0 ? y : partials + (b - 1) * cols
                    if b > 0 { out.update(repeating: 0, count: cols) }
                    if size > 0 { rowSweep(W + start * ldw, size, cols, ldw, x + start * incX, incX, out, alpha) }
                }
            }
        }
    }

    /// `y[0..<n] += alpha * x[0..<k] · W[k, n]`, W's rows `ldw` apart.
    @_specialize(where E == Double)
    @_specialize(where E == Float)
    static func rowSweep<E: WeightElement>(_ W: UnsafePointer<E>, _ k: Int, _ n: Int, _ ldw: Int,
                                           _ x: UnsafePointer<Double>, _ incX: Int,
                                           _ y: UnsafeMutablePointer<Double>, _ alpha: Double) {
        let yv = UnsafeMutableRawPointer(y)
        let vectorEnd = n & ~3
        var p = 0
        while p < k {
            let rowsHere = min(4, k - p)
            var xs = SIMD4<Double>()
            for r in 0..<rowsHere { xs[r] = alpha * x[(p &+ r) &* incX] }
            // Rows past the end reuse row p with a zero weight, so the loop stays branch-free.
            let w0 = W + p &* ldw
            let w1 = rowsHere > 1 ? w0 + ldw : w0
            let w2 = rowsHere > 2 ? w0 + 2 &* ldw : w0
            let w3 = rowsHere > 3 ? w0 + 3 &* ldw : w0
            let (v0, v1, v2, v3) = (UnsafeRawPointer(w0), UnsafeRawPointer(w1), UnsafeRawPointer(w2), UnsafeRawPointer(w3))
            let x0 = SIMD4(repeating: xs[0]), x1 = SIMD4(repeating: xs[1])
            let x2 = SIMD4(repeating: xs[2]), x3 = SIMD4(repeating: xs[3])
            var j = 0
            while j < vectorEnd {
                var acc = yv.loadUnaligned(fromByteOffset: j &* 8, as: SIMD4<Double>.self)
                acc = SwiftGEMM.fma(x0, E.load4(v0, j), acc)
                acc = SwiftGEMM.fma(x1, E.load4(v1, j), acc)
                acc = SwiftGEMM.fma(x2, E.load4(v2, j), acc)
                acc = SwiftGEMM.fma(x3, E.load4(v3, j), acc)
                yv.storeBytes(of: acc, toByteOffset: j &* 8, as: SIMD4<Double>.self)
                j &+= 4
            }
            while j < n {
                var acc = y[j]
                acc = Relaxed.multiplyAdd(xs[0], Double(w0[j]), acc)
                acc = Relaxed.multiplyAdd(xs[1], Double(w1[j]), acc)
                acc = Relaxed.multiplyAdd(xs[2], Double(w2[j]), acc)
                acc = Relaxed.multiplyAdd(xs[3], Double(w3[j]), acc)
                y[j] = acc
                j &+= 1
            }
            p &+= 4
        }
    }

    /// `y[i] += alpha * dot(W[i, 0..<k], x)` for `i` in `0..<m`, W's rows `ldw` apart.
    @_specialize(where E == Double)
    @_specialize(where E == Float)
    static func rowDots<E: WeightElement>(_ W: UnsafePointer<E>, _ m: Int, _ k: Int, _ ldw: Int,
                                          _ x: UnsafePointer<Double>, _ incX: Int,
                                          _ y: UnsafeMutablePointer<Double>, _ alpha: Double) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: incX == 1 ? 0 : k) { tmp in
            var xs = x
            if incX != 1 {
                for p in 0..<k { tmp[p] = x[p &* incX] }
                xs = UnsafePointer(tmp.baseAddress!)
            }
            let xv = UnsafeRawPointer(xs)
            let vectorEnd = k & ~7
            for i in 0..<m {
                let wv = UnsafeRawPointer(W + i &* ldw)
                var s0 = SIMD4<Double>(), s1 = SIMD4<Double>()
                var p = 0
                while p < vectorEnd {
                    s0 = SwiftGEMM.fma(E.load4(wv, p), Double.load4(xv, p), s0)
                    s1 = SwiftGEMM.fma(E.load4(wv, p &+ 4), Double.load4(xv, p &+ 4), s1)
                    p &+= 8
                }
                var sum = (s0 + s1).sum()
                while p < k { sum = Relaxed.multiplyAdd(Double(W[i &* ldw &+ p]), xs[p], sum); p &+= 1 }
                y[i] += alpha * sum
            }
        }
    }
}

extension SwiftGEMV.Part where E == Float {
    static let run: ParallelTask = { part, t in part!.assumingMemoryBound(to: Self.self).pointee.run(t) }
}

extension SwiftGEMV.Part where E == Double {
    static let run: ParallelTask = { part, t in part!.assumingMemoryBound(to: Self.self).pointee.run(t) }
}
