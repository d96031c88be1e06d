import CInt8
import CPrefetch
import Foundation
import RealModule

/// The products of weights narrower than `Float` with a few rows of `Float`s
/// (a token being decoded, or a short prompt; with int8 through VNNI, any
/// number: see ``WeightMatrix/lineByLineLimit``): `y[r, i] = dot(line i, x[r]) +
/// beta · y[r, i]`, where a line is a stored row of bfloat16s or of int8s with
/// one scale per block of 32. bfloat16 elements are widened in registers as
/// they are read (a shift). For int8 lines each row of `x` is first quantized
/// the same way (8-bit integers, a scale per block of 32, as llama.cpp does
/// for Q8_0), so a block's dot product is an exact integer sum, times the
/// two blocks' scales: with AVX-512 VNNI (`vpdpbusd`, in `CInt8`) where the
/// CPU has it, else in Swift SIMD (see ``Int8Kernel``). Either way the
/// product streams only the narrow bytes; with several rows, each weight
/// serves four rows of `x` at once, through the arithmetic the row would meet
/// alone (a row's result never depends on the rows beside it). Lines are split
/// across threads in contiguous runs, so results never depend on the thread
/// count either.
package enum NarrowGEMV {
    /// How products with int8 weights run.
    package enum Int8Kernel: String, Sendable {
        /// `vpdpbusd` on 64 weights at a time (`CInt8`): where the CPU has AVX-512 F, BW, VL and VNNI.
        case vnni = "AVX-512 VNNI"
        /// Swift SIMD: each quantized weight and activation converted to `Float`, a block's
        /// products summed (exactly: they are integers under 2^24) and scaled once.
        case swift = "Swift SIMD"

        /// VNNI where the CPU has it, unless `SWIFTATTENTION_INT8_KERNEL=swift` is set.
        package static let best: Int8Kernel =
            ProcessInfo.processInfo.environment["SWIFTATTENTION_INT8_KERNEL"] != "swift" && swiftattention_int8_vnni_available() ? .vnni : .swift
    }

    /// The kernel int8 products run (``Int8Kernel/best``; `bench` sets it to time both).
    nonisolated(unsafe) package static var int8Kernel = Int8Kernel.best

    /// The lines' elements.
    enum Lines {
        /// bfloat16 bits, `lines × length`.
        case bfloat16(UnsafePointer<UInt16>)
        /// int8 elements, `lines × length`, and their scales, `lines × ⌈length / 32⌉`.
        case int8(UnsafePointer<Int8>, UnsafePointer<Float>)

        var isInt8: Bool { if case .int8 = self { true } else { false } }
    }

    /// Below this many elements, one thread does the whole product.
    static let parallelThreshold = 1 << 16

    /// `y[r, i] = dot(line i, x[r]) + beta · y[r, i]` for `rows` rows of `x`
    /// (`[rows, length]`) and of `y` (`[rows, lines]`), both row-major; int8
    /// products through `kernel`.
    static func run(_ weights: Lines, lines: Int, length: Int, x: UnsafePointer<Float>, rows: Int = 1,
                    y: UnsafeMutablePointer<Float>, beta: Float, threads: Int, kernel: Int8Kernel = int8Kernel) {
        let parts = lines * length < parallelThreshold ? 1 : max(1, min(threads, lines / 8))
        // int8: each row of x quantized once for every line (a few kilobytes a row; a long prompt's rows on all threads).
        let rowBytes = weights.isInt8 ? Int(swiftattention_int8_prepared_bytes(Int64(length))) : length * 4
        let prepared = weights.isInt8 ? UnsafeMutableRawPointer.allocate(byteCount: rows * rowBytes, alignment: 64) : nil
        defer { prepared?.deallocate() }
        if let prepared {
            parallelRanges(rows, minimum: 32) { range in
                for r in range { swiftattention_int8_prepare(x + r * length, Int64(length), prepared + r * rowBytes) }
            }
        }
        var job = Job(weights: weights, lines: lines, length: length, x: prepared.map(UnsafeRawPointer.init) ?? UnsafeRawPointer(x),
                      rowBytes: rowBytes, rows: rows, y: y, beta: beta, parts: parts, kernel: kernel)
        withUnsafeMutablePointer(to: &job) { parallelFor(parts, context: $0, Job.task) }
    }

    /// One product, shared by the threads; part `t` takes lines
    /// `t * lines / parts ..< (t + 1) * lines / parts`. For int8 lines `x`
    /// holds the rows as `swiftattention_int8_prepare` wrote them; rows are
    /// `rowBytes` apart.
    struct Job {
        let weights: Lines, lines: Int, length: Int
        let x: UnsafeRawPointer, rowBytes: Int, rows: Int, y: UnsafeMutablePointer<Float>, beta: Float, parts: Int, kernel: Int8Kernel

        static let task: ParallelTask = { job, t in job!.assumingMemoryBound(to: Job.self).pointee.run(t) }

        func run(_ t: Int) {
            let range = t * lines / parts ..< (t + 1) * lines / parts
            let perLine = WeightMatrix.blockCount(lineLength: length)
            if case let .int8(q, s) = weights, kernel == .vnni {
                swiftattention_int8_vnni_dots(q, s, Int64(lines), Int64(length), Int64(range.lowerBound), Int64(range.upperBound),
                                              x, Int64(rows), y, beta)
                return
            }
            let scaleOffset = Int(swiftattention_int8_prepared_scales(Int64(length)))
            /// Row `r` of x: its `Float`s, or its quantized integers and their scales.
            @inline(__always) func row(_ r: Int) -> UnsafeRawPointer { x + r &* rowBytes }
            @inline(__always) func rowScales(_ r: Int) -> UnsafePointer<Float> { (row(r) + scaleOffset).assumingMemoryBound(to: Float.self) }
            if rows == 1 {
                switch weights {
                case let .bfloat16(w):
                    for i in range { finish(0, i, bfloat16Dot(UnsafeRawPointer(w + i &* length), x, length)) }
                case let .int8(q, s):
                    for i in range { finish(0, i, int8Dot(UnsafeRawPointer(q + i &* length), s + i &* perLine, x, rowScales(0), length)) }
                }
                return
            }
            for i in range {
                for r0 in stride(from: 0, to: rows, by: 4) {                           // four rows of x per pass over the line
                    let count = min(4, rows - r0)
                    // Rows past the end repeat the last one; their sums are dropped.
                    let r1 = min(r0 &+ 1, rows &- 1), r2 = min(r0 &+ 2, rows &- 1), r3 = min(r0 &+ 3, rows &- 1)
                    let dots: SIMD4<Float>
                    switch weights {
                    case let .bfloat16(w): dots = bfloat16Dots(UnsafeRawPointer(w + i &* length), row(r0), row(r1), row(r2), row(r3), length)
                    case let .int8(q, s):
                        dots = int8Dots(UnsafeRawPointer(q + i &* length), s + i &* perLine, (row(r0), row(r1), row(r2), row(r3)),
                                        (rowScales(r0), rowScales(r1), rowScales(r2), rowScales(r3)), length)
                    }
                    for c in 0..<count { finish(r0 + c, i, dots[c]) }
                }
            }
        }

        @inline(__always)
        private func finish(_ r: Int, _ i: Int, _ dot: Float) {
            let out = y + (r &* lines &+ i)
            out.pointee = beta == 0 ? dot : Relaxed.multiplyAdd(beta, out.pointee, dot)
        }
    }

    /// One AVX register of `Float`s. 64-byte vectors, and lane loops over
    /// them, are split by the compiler into a scramble of 16-byte pieces and
    /// scalar conversions (int8 decoded at 65–69 tokens/s on GPT-2 124M against
    /// float32's 60); eight lanes built element by element compile to one
    /// `vpmovsxbd` and one `vcvtdq2ps` per eight weights.
    typealias V = SIMD8<Float>

    /// How far ahead of its reads, in bytes, a dot product asks for a line's
    /// cache lines (as ``SwiftGEMV/prefetchAhead``).
    static let prefetchAhead = 2048

    @inline(__always)
    static func loadX(_ x: UnsafeRawPointer, _ j: Int) -> V { x.loadUnaligned(fromByteOffset: j &* 4, as: V.self) }

    /// Eight int8s from element `j` of `q`, as `Float`s.
    @inline(__always)
    static func loadInt8(_ q: UnsafeRawPointer, _ j: Int) -> V {
        let b = q.loadUnaligned(fromByteOffset: j, as: SIMD8<Int8>.self)
        return V(Float(b[0]), Float(b[1]), Float(b[2]), Float(b[3]), Float(b[4]), Float(b[5]), Float(b[6]), Float(b[7]))
    }

    /// Eight bfloat16s from element `j` of `w`, as `Float`s (exact).
    @inline(__always)
    static func loadBFloat16(_ w: UnsafeRawPointer, _ j: Int) -> V {
        let h = w.loadUnaligned(fromByteOffset: j &* 2, as: SIMD8<UInt16>.self)
        let bits = SIMD8<UInt32>(UInt32(h[0]), UInt32(h[1]), UInt32(h[2]), UInt32(h[3]),
                                 UInt32(h[4]), UInt32(h[5]), UInt32(h[6]), UInt32(h[7])) &<< 16
        return unsafeBitCast(bits, to: V.self)
    }

    /// The dot product of a line of `k` int8s (scales `s`, one per block of 32)
    /// with a quantized row (`k` int8s `x`, scales `xs`): per block, the
    /// products (exact integers in `Float`) summed in two chains, scaled by
    /// both scales once. Not inlined: inside the loop over lines the vectoriser
    /// scrambles it as it does wide vectors.
    @inline(never)
    static func int8Dot(_ q: UnsafeRawPointer, _ s: UnsafePointer<Float>, _ x: UnsafeRawPointer, _ xs: UnsafePointer<Float>, _ k: Int) -> Float {
        // Written out statement by statement: the same arithmetic through a nested
        // helper function compiled (with whole-module optimisation) to scalar conversions.
        let full = k / 32
        var a0 = V(), a1 = V()
        var b = 0
        while b < full {                                                               // a block, two chains
            let j = b &* 32, scale = V(repeating: s[b] * xs[b])
            swiftattention_prefetch(q + (j &+ prefetchAhead))
            var h0 = loadInt8(q, j) * loadInt8(x, j)
            h0 = Float.multiplyAdd(loadInt8(q, j &+ 8), loadInt8(x, j &+ 8), h0)
            var h1 = loadInt8(q, j &+ 16) * loadInt8(x, j &+ 16)
            h1 = Float.multiplyAdd(loadInt8(q, j &+ 24), loadInt8(x, j &+ 24), h1)
            a0 = Float.multiplyAdd(h0, scale, a0)
            a1 = Float.multiplyAdd(h1, scale, a1)
            b &+= 1
        }
        var sum = (a0 + a1).sum()
        if full &* 32 < k { sum = int8Tail(q, s[full] * xs[full], x, from: full &* 32, to: k, sum) }   // a short last block
        return sum
    }

    /// `sum` plus a short last block's dot product with a quantized row (elements `from..<to`), times `scale`.
    @inline(__always)
    static func int8Tail(_ q: UnsafeRawPointer, _ scale: Float, _ x: UnsafeRawPointer, from: Int, to k: Int, _ sum: Float) -> Float {
        var tail: Float = 0
        for j in from..<k { tail += Float(q.load(fromByteOffset: j, as: Int8.self)) * Float(x.load(fromByteOffset: j, as: Int8.self)) }
        return Relaxed.multiplyAdd(tail, scale, sum)
    }

    /// The dot product of a line of `k` bfloat16s with `x` (not inlined, as ``int8Dot(_:_:_:_:)``).
    @inline(never)
    static func bfloat16Dot(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, _ k: Int) -> Float {
        let vectorEnd = k / 32 * 32
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()
        var j = 0
        while j < vectorEnd {                                                          // 64 bytes of the line per pass
            swiftattention_prefetch(w + (j &* 2 &+ prefetchAhead))
            a0 = Float.multiplyAdd(loadBFloat16(w, j), loadX(x, j), a0)
            a1 = Float.multiplyAdd(loadBFloat16(w, j &+ 8), loadX(x, j &+ 8), a1)
            a2 = Float.multiplyAdd(loadBFloat16(w, j &+ 16), loadX(x, j &+ 16), a2)
            a3 = Float.multiplyAdd(loadBFloat16(w, j &+ 24), loadX(x, j &+ 24), a3)
            j &+= 32
        }
        return bfloat16Tail(w, x, from: j, to: k, ((a0 + a1) + (a2 + a3)).sum())
    }

    /// `sum` plus the products of elements `from..<to`, one at a time.
    @inline(__always)
    static func bfloat16Tail(_ w: UnsafeRawPointer, _ x: UnsafeRawPointer, from: Int, to k: Int, _ sum: Float) -> Float {
        var sum = sum
        for j in from..<k {
            sum = Relaxed.multiplyAdd(BFloat16.float(w.load(fromByteOffset: j &* 2, as: UInt16.self)), x.load(fromByteOffset: j &* 4, as: Float.self), sum)
        }
        return sum
    }

    /// The dot products of a line of `k` int8s (scales `s`) with four quantized
    /// rows (`x`, their scales `xs`): each row's is ``int8Dot(_:_:_:_:_:)``'s,
    /// operation for operation (the same chains, in the same order), so a
    /// row's result never depends on the rows beside it.
    @inline(never)
    static func int8Dots(_ q: UnsafeRawPointer, _ s: UnsafePointer<Float>,
                         _ x: (UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer),
                         _ xs: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>), _ k: Int) -> SIMD4<Float> {
        let full = k / 32
        let (x0, x1, x2, x3) = x
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()                                     // first halves of blocks, rows 0…3
        var c0 = V(), c1 = V(), c2 = V(), c3 = V()                                     // second halves
        var b = 0
        while b < full {                                                               // a block: 32 weights, widened once
            let j = b &* 32
            let s0 = V(repeating: s[b] * xs.0[b]), s1 = V(repeating: s[b] * xs.1[b])
            let s2 = V(repeating: s[b] * xs.2[b]), s3 = V(repeating: s[b] * xs.3[b])
            let w0 = loadInt8(q, j), w1 = loadInt8(q, j &+ 8), w2 = loadInt8(q, j &+ 16), w3 = loadInt8(q, j &+ 24)
            var h0 = w0 * loadInt8(x0, j), h1 = w0 * loadInt8(x1, j), h2 = w0 * loadInt8(x2, j), h3 = w0 * loadInt8(x3, j)
            h0 = Float.multiplyAdd(w1, loadInt8(x0, j &+ 8), h0); h1 = Float.multiplyAdd(w1, loadInt8(x1, j &+ 8), h1)
            h2 = Float.multiplyAdd(w1, loadInt8(x2, j &+ 8), h2); h3 = Float.multiplyAdd(w1, loadInt8(x3, j &+ 8), h3)
            var g0 = w2 * loadInt8(x0, j &+ 16), g1 = w2 * loadInt8(x1, j &+ 16), g2 = w2 * loadInt8(x2, j &+ 16), g3 = w2 * loadInt8(x3, j &+ 16)
            g0 = Float.multiplyAdd(w3, loadInt8(x0, j &+ 24), g0); g1 = Float.multiplyAdd(w3, loadInt8(x1, j &+ 24), g1)
            g2 = Float.multiplyAdd(w3, loadInt8(x2, j &+ 24), g2); g3 = Float.multiplyAdd(w3, loadInt8(x3, j &+ 24), g3)
            a0 = Float.multiplyAdd(h0, s0, a0); a1 = Float.multiplyAdd(h1, s1, a1)
            a2 = Float.multiplyAdd(h2, s2, a2); a3 = Float.multiplyAdd(h3, s3, a3)
            c0 = Float.multiplyAdd(g0, s0, c0); c1 = Float.multiplyAdd(g1, s1, c1)
            c2 = Float.multiplyAdd(g2, s2, c2); c3 = Float.multiplyAdd(g3, s3, c3)
            b &+= 1
        }
        var sums = SIMD4<Float>((a0 + c0).sum(), (a1 + c1).sum(), (a2 + c2).sum(), (a3 + c3).sum())
        if full &* 32 < k {                                                            // a short last block, as int8Dot's
            let j = full &* 32
            sums = SIMD4(int8Tail(q, s[full] * xs.0[full], x0, from: j, to: k, sums[0]), int8Tail(q, s[full] * xs.1[full], x1, from: j, to: k, sums[1]),
                         int8Tail(q, s[full] * xs.2[full], x2, from: j, to: k, sums[2]), int8Tail(q, s[full] * xs.3[full], x3, from: j, to: k, sums[3]))
        }
        return sums
    }

    /// The dot products of a line of `k` bfloat16s with four rows of `x`: each
    /// row's is ``bfloat16Dot(_:_:_:)``'s, operation for operation.
    @inline(never)
    static func bfloat16Dots(_ w: UnsafeRawPointer, _ x0: UnsafeRawPointer, _ x1: UnsafeRawPointer,
                             _ x2: UnsafeRawPointer, _ x3: UnsafeRawPointer, _ k: Int) -> SIMD4<Float> {
        let vectorEnd = k / 32 * 32
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()                                     // row 0's four chains
        var b0 = V(), b1 = V(), b2 = V(), b3 = V()                                     // row 1's
        var c0 = V(), c1 = V(), c2 = V(), c3 = V()                                     // row 2's
        var d0 = V(), d1 = V(), d2 = V(), d3 = V()                                     // row 3's
        var j = 0
        while j < vectorEnd {                                                          // 32 weights, widened once
            let v0 = loadBFloat16(w, j), v1 = loadBFloat16(w, j &+ 8), v2 = loadBFloat16(w, j &+ 16), v3 = loadBFloat16(w, j &+ 24)
            a0 = Float.multiplyAdd(v0, loadX(x0, j), a0); b0 = Float.multiplyAdd(v0, loadX(x1, j), b0)
            c0 = Float.multiplyAdd(v0, loadX(x2, j), c0); d0 = Float.multiplyAdd(v0, loadX(x3, j), d0)
            a1 = Float.multiplyAdd(v1, loadX(x0, j &+ 8), a1); b1 = Float.multiplyAdd(v1, loadX(x1, j &+ 8), b1)
            c1 = Float.multiplyAdd(v1, loadX(x2, j &+ 8), c1); d1 = Float.multiplyAdd(v1, loadX(x3, j &+ 8), d1)
            a2 = Float.multiplyAdd(v2, loadX(x0, j &+ 16), a2); b2 = Float.multiplyAdd(v2, loadX(x1, j &+ 16), b2)
            c2 = Float.multiplyAdd(v2, loadX(x2, j &+ 16), c2); d2 = Float.multiplyAdd(v2, loadX(x3, j &+ 16), d2)
            a3 = Float.multiplyAdd(v3, loadX(x0, j &+ 24), a3); b3 = Float.multiplyAdd(v3, loadX(x1, j &+ 24), b3)
            c3 = Float.multiplyAdd(v3, loadX(x2, j &+ 24), c3); d3 = Float.multiplyAdd(v3, loadX(x3, j &+ 24), d3)
            j &+= 32
        }
        return SIMD4(bfloat16Tail(w, x0, from: j, to: k, ((a0 + a1) + (a2 + a3)).sum()), bfloat16Tail(w, x1, from: j, to: k, ((b0 + b1) + (b2 + b3)).sum()),
                     bfloat16Tail(w, x2, from: j, to: k, ((c0 + c1) + (c2 + c3)).sum()), bfloat16Tail(w, x3, from: j, to: k, ((d0 + d1) + (d2 + d3)).sum()))
    }
}
