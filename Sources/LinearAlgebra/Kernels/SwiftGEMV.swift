import CPrefetch
import Dispatch
import RealModule

/// The pure-Swift matrix–vector products, for one row of `x` or a few. `x · W`
/// streams eight rows of `W` per pass (y is loaded and stored once per eight
/// rows); `W · x` is one dot product per row. Large products are split across
/// threads so that each reads one contiguous part of `W`. One implementation for
/// `Double` and `Float` (``MatrixScalar``); `W` may hold `Float`s in a `Double`
/// product (widened as they are read).
///
/// Results never depend on the thread count: `W · x` splits whole dot products,
/// and `x · W` sums W's rows in blocks whose number is fixed by the shape, each
/// into its own partial row, the partials then added in block order. Nor, with
/// several rows of `x`, on the other rows: each row of `x` meets each part of `W`
/// in turn, while that part is in cache, through the arithmetic it would have
/// alone (W is read from memory once for all the rows, and every row of the
/// result is the one-row product's, bit for bit: a batch of sequences decodes
/// as each would alone).
enum SwiftGEMV {
    /// Below this many multiply-adds, one thread does the whole product.
    static let parallelThreshold = 1 << 16
    /// At most this many row blocks (and partial rows) for `x · W`.
    static let maxBlocks = 8
    /// How far ahead of its reads, in bytes, a dot product over W's rows asks for
    /// W's cache lines (rows are contiguous, so that reaches into the rows after;
    /// past the end of W a prefetch does nothing). It helps one core's stream
    /// beyond what the hardware prefetchers reach, and does nothing when memory
    /// itself is the limit (measured: docs/PERFORMANCE.md).
    static let prefetchAhead = 4096

    /// `y[r] = alpha · x[r] · op(W) + beta · y[r]` for the `count` rows of `x`
    /// (`[count, k]`, contiguous when there is more than one; one row may be strided by `incX`)
    /// and of `y` (`[count, n]`), where op(W) is W `[rows, cols]` (rows `ldw` apart) or,
    /// `transposed`, Wᵀ.
    @_specialize(where S == Double, E == Double)
    @_specialize(where S == Double, E == Float)
    @_specialize(where S == Float, E == Float)
    static func run<S: MatrixScalar, E: MatrixScalar>(
        w W: UnsafePointer<E>, rows: Int, cols: Int, ldw: Int, transposed: Bool,
        x: UnsafePointer<S>, incX: Int, count: Int = 1,
        y: UnsafeMutablePointer<S>, alpha: S, beta: S, threads: Int
    ) {
        precondition(count == 1 || incX == 1, "SwiftGEMV: several rows of x must be contiguous")
        let large = rows * cols >= parallelThreshold, n = transposed ? rows : cols
        // Transposed: `blocks` ranges of whole rows of W (one dot product per output).
        // Otherwise: `blocks` ranges of W's rows, each summed into its own partial y.
        let blocks = !large ? 1 : (transposed ? max(1, min(threads, rows / 8)) : max(1, min(maxBlocks, rows / 16)))
        if !transposed { Kernels.scale(y, count: count * n, by: beta) }
        var job = Part(W: W, rows: rows, cols: cols, ldw: ldw, transposed: transposed, x: x, incX: incX, count: count, y: y,
                       alpha: alpha, beta: beta, blocks: blocks, threads: max(1, min(threads, blocks)),
                       partials: transposed ? y : ThreadScratch.buffer((blocks - 1) * count * n, of: S.self))   // the calling thread's, reused
        withUnsafeMutablePointer(to: &job) { job in
            // The parts go out as C functions on a context pointer: no allocation per product.
            if let task = Part<S, E>.task {
                parallelFor(job.pointee.threads, context: job, task)
            } else {
                for t in 0..<job.pointee.threads { job.pointee.run(t) }
            }
        }
        if !transposed {
            for b in 1..<blocks {
                let partial = job.partials + (b - 1) * count * n
                for j in 0..<count * n { y[j] += partial[j] }
            }
        }
    }

    /// One thread's share of a product (see ``run(w:rows:cols:ldw:transposed:x:incX:count:y:alpha:beta:threads:)``).
    struct Part<S: MatrixScalar, E: MatrixScalar> {
        let W: UnsafePointer<E>, rows: Int, cols: Int, ldw: Int, transposed: Bool
        let x: UnsafePointer<S>, incX: Int, count: Int, y: UnsafeMutablePointer<S>, alpha: S, beta: S
        /// Row blocks of W, the threads sharing them (contiguous runs of blocks each),
        /// and where blocks after the first put their partial y (`x · W` only).
        let blocks: Int, threads: Int, partials: UnsafeMutablePointer<S>

        /// Thread `t`: blocks `t * blocks / threads ..< (t + 1) * blocks / threads`.
        func run(_ t: Int) {
            let chunk = (rows + blocks - 1) / blocks
            for b in t * blocks / threads ..< (t + 1) * blocks / threads {
                let start = b * chunk, size = min(chunk, rows - start)
                if transposed {
                    guard size > 0 else { continue }
                    for r in 0..<count { Kernels.scale(y + r * rows + start, count: size, by: beta) }
                    rowDots(W + start * ldw, size, cols, ldw, x, incX, count, y + start, rows, alpha)
                } else {
                    let out = b == 0 ? y : partials + (b - 1) * count * cols
                    if b > 0 { out.update(repeating: 0, count: count * cols) }
                    if size > 0 { rowSweep(W + start * ldw, size, cols, ldw, x + start * incX, incX, count, rows, out, alpha) }
                }
            }
        }
    }

    /// `y[r][0..<n] += alpha * x[r][0..<k] · W[k, n]` for the `count` rows of `x`
    /// (`ldx` apart, each strided by `incX`) and of `y` (`n` apart), W's rows `ldw` apart.
    @_specialize(where S == Double, E == Double)
    @_specialize(where S == Double, E == Float)
    @_specialize(where S == Float, E == Float)
    static func rowSweep<S: MatrixScalar, E: MatrixScalar>(_ W: UnsafePointer<E>, _ k: Int, _ n: Int, _ ldw: Int,
                                                           _ x: UnsafePointer<S>, _ incX: Int, _ count: Int, _ ldx: Int,
                                                           _ y: UnsafeMutablePointer<S>, _ alpha: S) {
        let lanes = S.lanes
        let vectorEnd = n / lanes * lanes
        // Eight rows of W per pass over y: y is loaded and stored once per eight rows' worth of W.
        var p = 0
        while p < k {
            let rowsHere = min(8, k - p)
            // Rows past the end reuse row p with a zero weight, so the loop stays branch-free.
            let w = W + p &* ldw
            @inline(__always) func row(_ r: Int) -> UnsafePointer<E> { r < rowsHere ? w + r &* ldw : w }
            let (w0, w1, w2, w3, w4, w5, w6, w7) = (row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7))
            let (v0, v1, v2, v3) = (UnsafeRawPointer(w0), UnsafeRawPointer(w1), UnsafeRawPointer(w2), UnsafeRawPointer(w3))
            let (v4, v5, v6, v7) = (UnsafeRawPointer(w4), UnsafeRawPointer(w5), UnsafeRawPointer(w6), UnsafeRawPointer(w7))
            for r in 0..<count {                                                       // these rows of W are in cache for the rows after the first
                let xr = x + r &* ldx, yr = y + r &* n, yv = UnsafeMutableRawPointer(yr)
                var xs = SIMD8<S>()
                for q in 0..<rowsHere { xs[q] = alpha * xr[(p &+ q) &* incX] }
                let x0 = S.Vector(repeating: xs[0]), x1 = S.Vector(repeating: xs[1])
                let x2 = S.Vector(repeating: xs[2]), x3 = S.Vector(repeating: xs[3])
                let x4 = S.Vector(repeating: xs[4]), x5 = S.Vector(repeating: xs[5])
                let x6 = S.Vector(repeating: xs[6]), x7 = S.Vector(repeating: xs[7])
                var j = 0
                while j < vectorEnd {
                    var a = S.multiplyAdd(x0, S.loadVector(v0, j, from: E.self), S.loadVector(yv, j, from: S.self))
                    var b = S.multiplyAdd(x1, S.loadVector(v1, j, from: E.self), S.multiplyAdd(x2, S.loadVector(v2, j, from: E.self), S.Vector()))
                    a = S.multiplyAdd(x3, S.loadVector(v3, j, from: E.self), a)
                    b = S.multiplyAdd(x4, S.loadVector(v4, j, from: E.self), b)
                    a = S.multiplyAdd(x5, S.loadVector(v5, j, from: E.self), a)
                    b = S.multiplyAdd(x6, S.loadVector(v6, j, from: E.self), b)
                    a = S.multiplyAdd(x7, S.loadVector(v7, j, from: E.self), a)
                    S.storeVector(a + b, yv, j)
                    j &+= lanes
                }
                while j < n {
                    var acc = yr[j]
                    acc = Relaxed.multiplyAdd(xs[0], S(w0[j]), acc); acc = Relaxed.multiplyAdd(xs[1], S(w1[j]), acc)
                    acc = Relaxed.multiplyAdd(xs[2], S(w2[j]), acc); acc = Relaxed.multiplyAdd(xs[3], S(w3[j]), acc)
                    acc = Relaxed.multiplyAdd(xs[4], S(w4[j]), acc); acc = Relaxed.multiplyAdd(xs[5], S(w5[j]), acc)
                    acc = Relaxed.multiplyAdd(xs[6], S(w6[j]), acc); acc = Relaxed.multiplyAdd(xs[7], S(w7[j]), acc)
                    yr[j] = acc
                    j &+= 1
                }
            }
            p &+= 8
        }
    }

    /// `y[r][i] += alpha * dot(W[i, 0..<k], x[r])` for `i` in `0..<m` and the `count`
    /// rows of `x` (`k` apart; one row may be strided by `incX`) and of `y` (`ldy` apart),
    /// W's rows `ldw` apart.
    @_specialize(where S == Double, E == Double)
    @_specialize(where S == Double, E == Float)
    @_specialize(where S == Float, E == Float)
    static func rowDots<S: MatrixScalar, E: MatrixScalar>(_ W: UnsafePointer<E>, _ m: Int, _ k: Int, _ ldw: Int,
                                                          _ x: UnsafePointer<S>, _ incX: Int, _ count: Int,
                                                          _ y: UnsafeMutablePointer<S>, _ ldy: Int, _ alpha: S) {
        withUnsafeTemporaryAllocation(of: S.self, capacity: incX == 1 ? 0 : k) { tmp in
            var xs = x
            if incX != 1 {
                for p in 0..<k { tmp[p] = x[p &* incX] }
                xs = UnsafePointer(tmp.baseAddress!)
            }
            if S.self == Double.self && E.self == Float.self {
                return widenedRowDots(UnsafeRawPointer(W), m, k, ldw, UnsafeRawPointer(xs), count, UnsafeMutableRawPointer(y), ldy, Double(alpha))
            }
            var first = 0
            #if SWIFTATTENTION_AVX512
            if E.self == S.self && count >= 4 && 4 &* k &* MemoryLayout<S>.stride > pairedAbove {
                first = pairedLineDots(UnsafeRawPointer(W), m, k, ldw, xs, count, y, ldy, alpha)
            }
            #endif
            for i in first..<m {
                let wv = UnsafeRawPointer(W + i &* ldw)
                var r = 0
                while r &+ 4 <= count {                                                // four rows per pass: each vector of the line loaded once for them
                    let x0 = UnsafeRawPointer(xs + r &* k), x1 = UnsafeRawPointer(xs + (r &+ 1) &* k)
                    let x2 = UnsafeRawPointer(xs + (r &+ 2) &* k), x3 = UnsafeRawPointer(xs + (r &+ 3) &* k)
                    let sums: (S, S, S, S) = dots(wv, x0, x1, x2, x3, k, E.self)
                    y[r &* ldy &+ i] += alpha * sums.0
                    y[(r &+ 1) &* ldy &+ i] += alpha * sums.1
                    y[(r &+ 2) &* ldy &+ i] += alpha * sums.2
                    y[(r &+ 3) &* ldy &+ i] += alpha * sums.3
                    r &+= 4
                }
                singleRows(wv, line: i, rows: r..<count, xs, k, y, ldy, alpha, E.self)  // the line is in cache for the rows after the first
            }
        }
    }

    /// `y[r][i] += alpha * dot(line, x[r])` for the rows `rows` of `x` (`k` apart), one at a time.
    @inline(__always)
    static func singleRows<S: MatrixScalar, E: MatrixScalar>(_ wv: UnsafeRawPointer, line i: Int, rows: Range<Int>, _ xs: UnsafePointer<S>, _ k: Int,
                                                             _ y: UnsafeMutablePointer<S>, _ ldy: Int, _ alpha: S, _: E.Type) {
        for r in rows {
            let sum: S = dot(wv, UnsafeRawPointer(xs + r &* k), k, E.self)
            y[r &* ldy &+ i] += alpha * sum
        }
    }

    /// The dot products of a row of W with four rows of `x`: each row's is
    /// ``dot(_:_:_:_:)``'s, operation for operation (the same four chains, summed
    /// in the same order), so a row's result never depends on the rows beside it.
    @inline(__always)
    static func dots<S: MatrixScalar, E: MatrixScalar>(_ wv: UnsafeRawPointer, _ x0: UnsafeRawPointer, _ x1: UnsafeRawPointer,
                                                       _ x2: UnsafeRawPointer, _ x3: UnsafeRawPointer, _ k: Int, _: E.Type) -> (S, S, S, S) {
        let lanes = S.lanes, vectorEnd = k / (4 &* lanes) * (4 &* lanes)
        var a0 = S.Vector(), a1 = S.Vector(), a2 = S.Vector(), a3 = S.Vector()       // row 0's chains
        var b0 = S.Vector(), b1 = S.Vector(), b2 = S.Vector(), b3 = S.Vector()       // row 1's
        var c0 = S.Vector(), c1 = S.Vector(), c2 = S.Vector(), c3 = S.Vector()       // row 2's
        var d0 = S.Vector(), d1 = S.Vector(), d2 = S.Vector(), d3 = S.Vector()       // row 3's
        var p = 0
        while p < vectorEnd {
            let ahead = p &* MemoryLayout<E>.stride &+ prefetchAhead
            swiftattention_prefetch_outer(wv + ahead)
            swiftattention_prefetch_outer(wv + (ahead &+ 64))
            let p1 = p &+ lanes, p2 = p &+ 2 &* lanes, p3 = p &+ 3 &* lanes
            let w0 = S.loadVector(wv, p, from: E.self), w1 = S.loadVector(wv, p1, from: E.self)
            let w2 = S.loadVector(wv, p2, from: E.self), w3 = S.loadVector(wv, p3, from: E.self)
            a0 = S.multiplyAdd(w0, S.loadVector(x0, p, from: S.self), a0); a1 = S.multiplyAdd(w1, S.loadVector(x0, p1, from: S.self), a1)
            a2 = S.multiplyAdd(w2, S.loadVector(x0, p2, from: S.self), a2); a3 = S.multiplyAdd(w3, S.loadVector(x0, p3, from: S.self), a3)
            b0 = S.multiplyAdd(w0, S.loadVector(x1, p, from: S.self), b0); b1 = S.multiplyAdd(w1, S.loadVector(x1, p1, from: S.self), b1)
            b2 = S.multiplyAdd(w2, S.loadVector(x1, p2, from: S.self), b2); b3 = S.multiplyAdd(w3, S.loadVector(x1, p3, from: S.self), b3)
            c0 = S.multiplyAdd(w0, S.loadVector(x2, p, from: S.self), c0); c1 = S.multiplyAdd(w1, S.loadVector(x2, p1, from: S.self), c1)
            c2 = S.multiplyAdd(w2, S.loadVector(x2, p2, from: S.self), c2); c3 = S.multiplyAdd(w3, S.loadVector(x2, p3, from: S.self), c3)
            d0 = S.multiplyAdd(w0, S.loadVector(x3, p, from: S.self), d0); d1 = S.multiplyAdd(w1, S.loadVector(x3, p1, from: S.self), d1)
            d2 = S.multiplyAdd(w2, S.loadVector(x3, p2, from: S.self), d2); d3 = S.multiplyAdd(w3, S.loadVector(x3, p3, from: S.self), d3)
            p &+= 4 &* lanes
        }
        return (tail(wv, x0, from: p, to: k, ((a0 + a1) + (a2 + a3)).sum(), E.self), tail(wv, x1, from: p, to: k, ((b0 + b1) + (b2 + b3)).sum(), E.self),
                tail(wv, x2, from: p, to: k, ((c0 + c1) + (c2 + c3)).sum(), E.self), tail(wv, x3, from: p, to: k, ((d0 + d1) + (d2 + d3)).sum(), E.self))
    }

    /// `sum` plus the products of elements `from..<to` of a row of W and of `x`, one at a time.
    @inline(__always)
    static func tail<S: MatrixScalar, E: MatrixScalar>(_ wv: UnsafeRawPointer, _ xv: UnsafeRawPointer, from: Int, to k: Int, _ sum: S, _: E.Type) -> S {
        var sum = sum
        for p in from..<k {
            sum = Relaxed.multiplyAdd(S(wv.load(fromByteOffset: p &* MemoryLayout<E>.stride, as: E.self)),
                                      xv.load(fromByteOffset: p &* MemoryLayout<S>.stride, as: S.self), sum)
        }
        return sum
    }

    /// The dot product of `k` elements of `E` at `w` (a row of W) with `k` of `S` at `x`.
    @inline(__always)
    static func dot<S: MatrixScalar, E: MatrixScalar>(_ wv: UnsafeRawPointer, _ xv: UnsafeRawPointer, _ k: Int, _: E.Type) -> S {
        // Four accumulators: enough independent FMAs in flight that W streams at memory speed.
        let lanes = S.lanes, vectorEnd = k / (4 &* lanes) * (4 &* lanes)
        var s0 = S.Vector(), s1 = S.Vector(), s2 = S.Vector(), s3 = S.Vector()
        var p = 0
        while p < vectorEnd {
            let ahead = p &* MemoryLayout<E>.stride &+ prefetchAhead                  // this pass reads 128 bytes of W
            swiftattention_prefetch(wv + ahead)
            swiftattention_prefetch(wv + (ahead &+ 64))
            s0 = S.multiplyAdd(S.loadVector(wv, p, from: E.self), S.loadVector(xv, p, from: S.self), s0)
            s1 = S.multiplyAdd(S.loadVector(wv, p &+ lanes, from: E.self), S.loadVector(xv, p &+ lanes, from: S.self), s1)
            s2 = S.multiplyAdd(S.loadVector(wv, p &+ 2 &* lanes, from: E.self), S.loadVector(xv, p &+ 2 &* lanes, from: S.self), s2)
            s3 = S.multiplyAdd(S.loadVector(wv, p &+ 3 &* lanes, from: E.self), S.loadVector(xv, p &+ 3 &* lanes, from: S.self), s3)
            p &+= 4 &* lanes
        }
        return tail(wv, xv, from: p, to: k, ((s0 + s1) + (s2 + s3)).sum(), E.self)
    }
}

extension SwiftGEMV {
    /// ``rowDots(_:_:_:_:_:_:_:_:_:_:)`` for `Float` weights and `Double` x and y:
    /// each vector holds eight `Double`s, widened from one 32-byte load of W
    /// (one AVX-512 register, or two AVX ones). Four-`Double` vectors, from
    /// 16-byte loads, need twice the instructions per byte of W and stream it
    /// slower (measured: docs/PERFORMANCE.md).
    /// `x` is contiguous.
    private static func widenedRowDots(_ W: UnsafeRawPointer, _ m: Int, _ k: Int, _ ldw: Int,
                                       _ x: UnsafeRawPointer, _ count: Int, _ y: UnsafeMutableRawPointer, _ ldy: Int, _ alpha: Double) {
        typealias V = SIMD8<Double>
        let out = y.assumingMemoryBound(to: Double.self)
        let vectorEnd = k / 32 * 32
        for i in 0..<m {
            let w = W + i &* ldw &* 4
            for r in 0..<count {                                                       // the line is in cache for the rows after the first
                let xr = x + r &* k &* 8
                @inline(__always) func fma(_ p: Int, _ acc: V) -> V {
                    let a = w.loadUnaligned(fromByteOffset: p &* 4, as: SIMD8<Float>.self)
                    let b = xr.loadUnaligned(fromByteOffset: p &* 8, as: V.self)
                    var r = acc
                    for l in 0..<8 { r[l] = Relaxed.multiplyAdd(Double(a[l]), b[l], acc[l]) }
                    return r
                }
                var s0 = V(), s1 = V(), s2 = V(), s3 = V()
                var p = 0
                while p < vectorEnd {
                    swiftattention_prefetch(w + (p &* 4 &+ prefetchAhead))              // this pass reads 128 bytes of W
                    swiftattention_prefetch(w + (p &* 4 &+ prefetchAhead &+ 64))
                    s0 = fma(p, s0); s1 = fma(p &+ 8, s1); s2 = fma(p &+ 16, s2); s3 = fma(p &+ 24, s3)
                    p &+= 32
                }
                var sum = ((s0 + s1) + (s2 + s3)).sum()
                while p < k {
                    sum = Relaxed.multiplyAdd(Double(w.load(fromByteOffset: p &* 4, as: Float.self)), xr.load(fromByteOffset: p &* 8, as: Double.self), sum)
                    p &+= 1
                }
                out[r &* ldy &+ i] += alpha * sum
            }
        }
    }
}

#if SWIFTATTENTION_AVX512
extension SwiftGEMV {
    /// Above this many bytes in four rows of x, ``rowDots(_:_:_:_:_:_:_:_:_:_:)``
    /// takes W's lines in pairs (``pairedLineDots(_:_:_:_:_:_:_:_:_:)``).
    static let pairedAbove = 32 << 10

    /// ``rowDots(_:_:_:_:_:_:_:_:_:_:)`` for two lines of W at a time (the first
    /// `m / 2 * 2`; it returns how many) and four rows of x at a time, in 64-byte
    /// vectors (`TileVector`), each holding two of ``dot(_:_:_:_:)``'s chains
    /// side by side (elements `p ..< p + 2 · lanes` are chain c's then chain
    /// c + 1's): every row's sums are the one-row product's, operation for
    /// operation, while each vector of x is loaded once for two lines. Where four
    /// rows of x pass the first-level cache (x then comes from the second level),
    /// that halves the loads that limit the four-row loop (measured:
    /// docs/PERFORMANCE.md). W holds `S`s; x is contiguous.
    static func pairedLineDots<S: MatrixScalar>(_ W: UnsafeRawPointer, _ m: Int, _ k: Int, _ ldw: Int, _ xs: UnsafePointer<S>, _ count: Int,
                                                _ y: UnsafeMutablePointer<S>, _ ldy: Int, _ alpha: S) -> Int {
        typealias T = S.TileVector
        precondition(MemoryLayout<T>.size == 2 &* MemoryLayout<S.Vector>.size, "pairedLineDots: a TileVector holds two Vectors")
        let lanes = S.lanes, size = MemoryLayout<S>.stride, vectorEnd = k / (4 &* lanes) * (4 &* lanes)
        @inline(__always) func load(_ p: UnsafeRawPointer, _ i: Int) -> T { p.loadUnaligned(fromByteOffset: i &* size, as: T.self) }
        /// A row's dot product from its two pair vectors (chains 0 and 1, 2 and 3), summed as `dot` sums its four.
        @inline(__always) func sum(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, _ c01: T, _ c23: T) -> S {
            let (s0, s1) = unsafeBitCast(c01, to: (S.Vector, S.Vector).self), (s2, s3) = unsafeBitCast(c23, to: (S.Vector, S.Vector).self)
            return tail(w, x, from: vectorEnd, to: k, ((s0 + s1) + (s2 + s3)).sum(), S.self)
        }
        var i = 0
        while i &+ 2 <= m {
            let w = W + i &* ldw &* size, v = W + (i &+ 1) &* ldw &* size
            var r = 0
            while r &+ 4 <= count {
                let x0 = UnsafeRawPointer(xs + r &* k), x1 = UnsafeRawPointer(xs + (r &+ 1) &* k)
                let x2 = UnsafeRawPointer(xs + (r &+ 2) &* k), x3 = UnsafeRawPointer(xs + (r &+ 3) &* k)
                var a01 = T(), a23 = T(), b01 = T(), b23 = T(), c01 = T(), c23 = T(), d01 = T(), d23 = T()   // line i's rows
                var e01 = T(), e23 = T(), f01 = T(), f23 = T(), g01 = T(), g23 = T(), h01 = T(), h23 = T()   // line i + 1's
                var p = 0
                while p < vectorEnd {
                    let ahead = p &* size &+ prefetchAhead
                    swiftattention_prefetch_outer(w + ahead); swiftattention_prefetch_outer(w + (ahead &+ 64))
                    swiftattention_prefetch_outer(v + ahead); swiftattention_prefetch_outer(v + (ahead &+ 64))
                    let q = p &+ 2 &* lanes
                    let w01 = load(w, p), w23 = load(w, q), v01 = load(v, p), v23 = load(v, q)
                    var lo = load(x0, p), hi = load(x0, q)
                    a01 = S.multiplyAdd(w01, lo, a01); a23 = S.multiplyAdd(w23, hi, a23); e01 = S.multiplyAdd(v01, lo, e01); e23 = S.multiplyAdd(v23, hi, e23)
                    lo = load(x1, p); hi = load(x1, q)
                    b01 = S.multiplyAdd(w01, lo, b01); b23 = S.multiplyAdd(w23, hi, b23); f01 = S.multiplyAdd(v01, lo, f01); f23 = S.multiplyAdd(v23, hi, f23)
                    lo = load(x2, p); hi = load(x2, q)
                    c01 = S.multiplyAdd(w01, lo, c01); c23 = S.multiplyAdd(w23, hi, c23); g01 = S.multiplyAdd(v01, lo, g01); g23 = S.multiplyAdd(v23, hi, g23)
                    lo = load(x3, p); hi = load(x3, q)
                    d01 = S.multiplyAdd(w01, lo, d01); d23 = S.multiplyAdd(w23, hi, d23); h01 = S.multiplyAdd(v01, lo, h01); h23 = S.multiplyAdd(v23, hi, h23)
                    p &+= 4 &* lanes
                }
                y[r &* ldy &+ i] += alpha * sum(w, x0, a01, a23); y[r &* ldy &+ i &+ 1] += alpha * sum(v, x0, e01, e23)
                y[(r &+ 1) &* ldy &+ i] += alpha * sum(w, x1, b01, b23); y[(r &+ 1) &* ldy &+ i &+ 1] += alpha * sum(v, x1, f01, f23)
                y[(r &+ 2) &* ldy &+ i] += alpha * sum(w, x2, c01, c23); y[(r &+ 2) &* ldy &+ i &+ 1] += alpha * sum(v, x2, g01, g23)
                y[(r &+ 3) &* ldy &+ i] += alpha * sum(w, x3, d01, d23); y[(r &+ 3) &* ldy &+ i &+ 1] += alpha * sum(v, x3, h01, h23)
                r &+= 4
            }
            singleRows(w, line: i, rows: r..<count, xs, k, y, ldy, alpha, S.self)            // the rows past the fours, while the lines are in cache
            singleRows(v, line: i &+ 1, rows: r..<count, xs, k, y, ldy, alpha, S.self)
            i &+= 2
        }
        return i
    }
}
#endif

extension SwiftGEMV.Part {
    /// The C function that runs part `t` of the job the context points to, for
    /// the scalar pairs the kernels are specialised for (`nil` for others).
    static var task: ParallelTask? {
        if S.self == Double.self && E.self == Double.self { return SwiftGEMV.Part<Double, Double>.run }
        if S.self == Double.self && E.self == Float.self { return SwiftGEMV.Part<Double, Float>.run }
        if S.self == Float.self && E.self == Float.self { return SwiftGEMV.Part<Float, Float>.run }
        return nil
    }
}

extension SwiftGEMV.Part where S == Double, E == Double {
    static let run: ParallelTask = { part, t in part!.assumingMemoryBound(to: Self.self).pointee.run(t) }
}

extension SwiftGEMV.Part where S == Double, E == Float {
    static let run: ParallelTask = { part, t in part!.assumingMemoryBound(to: Self.self).pointee.run(t) }
}

extension SwiftGEMV.Part where S == Float, E == Float {
    static let run: ParallelTask = { part, t in part!.assumingMemoryBound(to: Self.self).pointee.run(t) }
}
