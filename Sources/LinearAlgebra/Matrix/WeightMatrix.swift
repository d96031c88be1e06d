/// A read-only, row-major matrix of model weights, stored as `Double`, as
/// `Float` when every element is exactly a `Float`, or both.
///
/// GPT-2 checkpoints are F32: widening them to `Double` doubles the bytes a
/// matrix–vector product must stream from memory without adding any
/// information. A `WeightMatrix` can keep such weights at 4 bytes each and
/// widen them as they are read, so every product still multiplies and
/// accumulates the same `Double` values — results differ from the all-`Double`
/// path only by summation order (about 1e-15 relative). Matrix–matrix products
/// (a prompt's prefill) run fastest on `Double` (BLAS reads it directly), so
/// ``Precision/both`` keeps the two: GEMVs read the `Float`s, GEMMs the `Double`s.
///
/// ```swift
/// let w = WeightMatrix(compacting: Matrix([[0.5, 1], [2, -0.25]]))
/// w.precision   // .float32: each element is exactly a Float
/// ```
public struct WeightMatrix: Sendable, Equatable {
    /// How the elements are stored.
    public enum Precision: String, Sendable, CaseIterable {
        /// 8 bytes per element (`Double`).
        case float64
        /// 4 bytes per element, each exactly the `Double` it stands for.
        case float32
        /// 12 bytes per element: `Double` for matrix–matrix products, `Float`
        /// for matrix–vector products.
        case both
        /// 2 bytes per element: bfloat16, the upper half of a `Float` (exact
        /// for a BF16 checkpoint; other elements round to nearest, ties to even).
        /// For models computing in `Float`.
        case bfloat16
        /// 1.125 bytes per element: 8-bit integers, with one `Float` scale per
        /// block of 32 along the input dimension (llama.cpp's Q8_0 layout, its
        /// scales kept as `Float`). For models computing in `Float`. Products
        /// quantize each row of activations the same way and multiply
        /// integers, as Q8_0 does: every product where the CPU has AVX-512
        /// VNNI; elsewhere those of up to 16 rows (in Swift SIMD), longer ones
        /// widening the weights and keeping the activations' `Float`s.
        case int8

        /// Whether the elements are narrower than `Float` (``bfloat16``, ``int8``).
        public var isNarrow: Bool { self == .bfloat16 || self == .int8 }
    }

    /// `Float`s and narrower live in a ``WeightBuffer`` (cache-line aligned, on
    /// huge pages) for the GEMVs that stream them; `Double`s are shared with a
    /// ``Matrix``. Narrow storages keep the layout the `Float`s would have
    /// (WeightMatrix+Narrow.swift).
    enum Storage: Sendable, Equatable {
        case double([Double])
        case float(WeightBuffer<Float>)
        case both([Double], WeightBuffer<Float>)
        case bfloat16(WeightBuffer<UInt16>)
        case int8(WeightBuffer<Int8>, scales: WeightBuffer<Float>)
    }

    /// The number of rows.
    public let rows: Int
    /// The number of columns.
    public let cols: Int
    let storage: Storage
    /// Whether the `Float` elements (now or after a change of ``precision``) are
    /// kept column-major, as Wᵀ `[cols, rows]`; see ``transposingFloats()``.
    package internal(set) var floatsTransposed = false

    /// `matrix`'s elements as they are, shared (no copy).
    public init(_ matrix: Matrix) {
        rows = matrix.rows
        cols = matrix.cols
        storage = .double(matrix.elements)
    }

    /// `matrix` stored as `Float` when that is lossless for every element,
    /// as `Double` (shared, no copy) otherwise.
    public init(compacting matrix: Matrix) {
        if let floats = WeightMatrix.exactFloats(matrix.elements) {
            self.init(rows: matrix.rows, cols: matrix.cols, storage: .float(floats))
        } else {
            self.init(matrix)
        }
    }

    /// `matrix` in `precision`: `.float64` shares it; `.float32` and `.both` add
    /// or use a `Float` copy only when that is lossless, else share it as `Double`;
    /// `.bfloat16` and `.int8` round it.
    public init(_ matrix: Matrix, precision: Precision) {
        switch precision {
        case .bfloat16, .int8: self = WeightMatrix(matrix).narrowed(to: precision)
        case .float64: self.init(matrix)
        case .float32: self.init(compacting: matrix)
        case .both:
            if let floats = WeightMatrix.exactFloats(matrix.elements) {
                self.init(rows: matrix.rows, cols: matrix.cols, storage: .both(matrix.elements, floats))
            } else {
                self.init(matrix)
            }
        }
    }

    init(rows: Int, cols: Int, storage: Storage) {
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }

    /// A matrix of `Float` elements in row-major order, kept in `precision`:
    /// every `Float` is exactly a `Double`, so `.float64` and `.both` widen them
    /// without any check.
    ///
    /// - Precondition: `floats.count == rows * cols`.
    public init(rows: Int, cols: Int, floats: [Float], precision: Precision = .float32) {
        self.init(rows: rows, cols: cols, floats: WeightBuffer(floats), floatsTransposed: false, precision: precision)
    }

    /// A matrix `[rows, cols]` from its `Float` elements, in row-major order or,
    /// with `floatsTransposed`, column-major (Wᵀ, row-major `[cols, rows]`), kept
    /// in `precision` with the `Float`s (or narrower elements) in that layout
    /// (see ``transposingFloats()``); a `Double` copy is row-major.
    ///
    /// - Precondition: `floats.count == rows * cols`.
    package init(rows: Int, cols: Int, floats: WeightBuffer<Float>, floatsTransposed: Bool, precision: Precision) {
        precondition(rows >= 0 && cols >= 0 && floats.count == rows * cols,
                     "WeightMatrix: \(floats.count) elements do not fill shape [\(rows), \(cols)]")
        func doubles() -> [Double] { rowMajorDoubles(floats, rows, cols, floatsTransposed: floatsTransposed) }
        switch precision {
        case .float32: self.init(rows: rows, cols: cols, storage: .float(floats))
        case .float64: self.init(rows: rows, cols: cols, storage: .double(doubles()))
        case .both: self.init(rows: rows, cols: cols, storage: .both(doubles(), floats))
        case .bfloat16, .int8: self.init(rows: rows, cols: cols, storage: .float(floats))
        }
        self.floatsTransposed = floatsTransposed
        if precision.isNarrow { self = narrowed(to: precision) }
    }

    /// The same elements kept in `precision` (`.float32` and `.both` keep a
    /// `Float` copy only where that is lossless, as ``init(_:precision:)`` does;
    /// `.bfloat16` and `.int8` round). From a narrow storage, the elements are
    /// the `Float`s it stands for.
    public func stored(as precision: Precision) -> WeightMatrix {
        if precision == self.precision { return self }
        if precision.isNarrow { return narrowed(to: precision) }
        switch storage {
        case .bfloat16, .int8:
            return WeightMatrix(rows: rows, cols: cols, floats: layoutFloats(), floatsTransposed: floatsTransposed, precision: precision)
        case let .double(values):
            let stored = WeightMatrix(Matrix(rows: rows, cols: cols, elements: values), precision: precision)
            return floatsTransposed ? stored.transposingFloats() : stored
        case let .float(floats), let .both(_, floats):                                 // the Floats keep their layout
            return WeightMatrix(rows: rows, cols: cols, floats: floats, floatsTransposed: floatsTransposed, precision: precision)
        }
    }

    /// The same matrix with its `Float` elements kept column-major (as Wᵀ, row-major
    /// `[cols, rows]`), now and after any change of ``precision``; for weights that
    /// are mostly multiplied one row at a time (`x · W`, a token being decoded).
    /// That product then reads W as `W · x` does, one contiguous row of Wᵀ per
    /// output, which streams faster than sweeping W's rows (`bench --filter sgemv`);
    /// GEMMs take Wᵀ as it is. Narrow elements are widened, transposed and
    /// narrowed again (int8 then rounds to the new blocks).
    package func transposingFloats() -> WeightMatrix {
        if floatsTransposed { return self }
        var copy: WeightMatrix
        switch storage {
        case .bfloat16, .int8:
            copy = WeightMatrix(rows: rows, cols: cols, storage: .float(transposedFloats(layoutFloats(), rows, cols)))
            copy.floatsTransposed = true
            return copy.narrowed(to: precision)
        case .double: copy = self
        case let .float(values): copy = WeightMatrix(rows: rows, cols: cols, storage: .float(transposedFloats(values, rows, cols)))
        case let .both(d, f): copy = WeightMatrix(rows: rows, cols: cols, storage: .both(d, transposedFloats(f, rows, cols)))
        }
        copy.floatsTransposed = true
        return copy
    }

    /// Same shape, same precision and the same elements, however they are laid out.
    public static func == (a: WeightMatrix, b: WeightMatrix) -> Bool {
        guard a.rows == b.rows, a.cols == b.cols else { return false }
        if a.floatsTransposed == b.floatsTransposed { return a.storage == b.storage }
        return a.precision == b.precision && a.transposingFloats().storage == b.transposingFloats().storage
    }

    /// The elements as `Float`s, or `nil` when one of them is not exactly a `Float`.
    static func exactFloats(_ values: [Double]) -> WeightBuffer<Float>? {
        struct Inexact: Error {}
        return try? WeightBuffer(count: values.count) { out in                         // stops at the first inexact one
            for (i, v) in values.enumerated() {
                out[i] = Float(v)
                guard Double(out[i]) == v else { throw Inexact() }
            }
        }
    }

    /// How the elements are stored.
    public var precision: Precision {
        switch storage {
        case .double: return .float64
        case .float: return .float32
        case .both: return .both
        case .bfloat16: return .bfloat16
        case .int8: return .int8
        }
    }

    /// The bytes the elements occupy (with an int8 matrix's scales).
    public var byteCount: Int {
        switch storage {
        case .double: return rows * cols * 8
        case .float: return rows * cols * 4
        case .both: return rows * cols * 12
        case .bfloat16: return rows * cols * 2
        case let .int8(_, scales): return rows * cols + scales.count * 4
        }
    }

    /// The shape as `[rows, cols]`, for messages.
    public var shapeDescription: String { "[\(rows), \(cols)]" }

    /// An element that is NaN or infinite, with its row and column, if there is one.
    package var nonFinite: (row: Int, col: Int, value: Double)? {
        switch storage {
        case let .double(values), let .both(values, _):
            return values.firstIndex { !$0.isFinite }.map { ($0 / cols, $0 % cols, values[$0]) }
        case let .float(values):
            return values.withUnsafeBufferPointer { v in
                v.firstIndex { !$0.isFinite }.map { position($0, Double(v[$0])) }
            }
        case let .bfloat16(values):
            return values.withUnsafeBufferPointer { v in
                v.firstIndex { !BFloat16.float($0).isFinite }.map { position($0, Double(BFloat16.float(v[$0]))) }
            }
        case let .int8(_, scales):                                                    // a block's first element
            return scales.firstIndex { !$0.isFinite }.map {
                position($0 / blocksPerLine * lineLength + $0 % blocksPerLine * WeightMatrix.blockSize, Double(scales[$0]))
            }
        }
    }

    /// The row and column of the element at `index` of the stored layout, with `value`.
    private func position(_ index: Int, _ value: Double) -> (row: Int, col: Int, value: Double) {
        floatsTransposed ? (index % rows, index / rows, value) : (index / cols, index % cols, value)
    }

    /// The elements widened to a `Double` matrix (a copy when stored as `Float`
    /// or narrower).
    public var matrix: Matrix {
        switch storage {
        case let .double(values), let .both(values, _): return Matrix(rows: rows, cols: cols, elements: values)
        case .float, .bfloat16, .int8:
            return Matrix(rows: rows, cols: cols, elements: rowMajorDoubles(layoutFloats(), rows, cols, floatsTransposed: floatsTransposed))
        }
    }

    /// The same weights as `Float`s only (or narrower), for a model computing in
    /// `Float`: a `Double` copy is dropped, and `Double` elements that are not
    /// exactly `Float`s are rounded to nearest; narrow elements stay as they are.
    public func roundedToFloat() -> WeightMatrix {
        switch storage {
        case .float, .bfloat16, .int8: return self
        case let .both(_, floats):                                                     // already in this layout
            var rounded = WeightMatrix(rows: rows, cols: cols, storage: .float(floats))
            rounded.floatsTransposed = floatsTransposed
            return rounded
        case let .double(values):                                                      // row-major, laid out as this one
            let rounded = WeightMatrix(rows: rows, cols: cols, storage: .float(WeightBuffer(values.lazy.map { Float($0) })))
            return floatsTransposed ? rounded.transposingFloats() : rounded
        }
    }

    /// Adds row `r`, converted to `S`, to `out[0..<cols]`.
    package func addRow<S: MatrixScalar>(_ r: Int, to out: UnsafeMutablePointer<S>) {
        precondition(r >= 0 && r < rows, "WeightMatrix: row \(r) out of shape \(shapeDescription)")
        switch storage {
        case let .double(values), let .both(values, _): for j in 0..<cols { out[j] += S(values[r * cols + j]) }
        case let .float(values):
            if floatsTransposed {
                for j in 0..<cols { out[j] += S(values[j * rows + r]) }
            } else {
                for j in 0..<cols { out[j] += S(values[r * cols + j]) }
            }
        case .bfloat16, .int8:
            withUnsafeTemporaryAllocation(of: S.self, capacity: 64) { chunk in           // on the stack: nothing allocated
                for j0 in stride(from: 0, to: cols, by: 64) {
                    let n = min(64, cols - j0), c = chunk.baseAddress!
                    if floatsTransposed {                                               // row r crosses the lines
                        for j in 0..<n { widenLine(j0 + j, from: r, count: 1, into: c + j) }
                    } else {
                        widenLine(r, from: j0, count: n, into: c)
                    }
                    for j in 0..<n { out[j0 + j] += c[j] }
                }
            }
        }
    }

    /// ``multiply(_:rows:transposed:into:beta:backend:)`` with `Float` activations:
    /// `Float` weights go straight to `cblas_sgemm` or the pure-Swift `Float`
    /// GEMM (up to ``rowwiseLimit`` rows: the pure-Swift GEMV, see ``fewRows``); narrow ones to
    /// ``multiplyNarrow(_:rows:transposed:into:beta:backend:)``. Weights held only
    /// as `Double` (not exactly `Float`s) are multiplied in `Double` and the
    /// result rounded; ``roundedToFloat()`` avoids that.
    private func multiplyFloat(_ x: UnsafePointer<Float>, rows m: Int, transposed: Bool,
                               into y: UnsafeMutablePointer<Float>, beta: Float, backend: Backend) {
        let k = transposed ? cols : rows, n = transposed ? rows : cols
        switch storage {
        case let .float(values), let .both(_, values):
            values.withUnsafeBufferPointer { w in
                if m <= WeightMatrix.rowwiseLimit {
                    fewRows(w.baseAddress!, x, count: m, transposed: transposed, y, beta: beta, threads: KernelThreads.current)
                } else {
                    Kernels.multiply(x, lda: k, transposeA: false, w.baseAddress!, ldb: lineLength, transposeB: transposed != floatsTransposed,
                                     y, ldc: n, m: m, n: n, k: k, beta: beta, backend: backend)   // [m, k] · op(W) -> [m, n]
                }
            }
        case .double:
            let wide = (0..<m * k).map { Double(x[$0]) }
            var out = (0..<m * n).map { Double(y[$0]) }
            wide.withUnsafeBufferPointer { xp in
                out.withUnsafeMutableBufferPointer { yp in
                    multiplyDouble(xp.baseAddress!, rows: m, transposed: transposed, into: yp.baseAddress!,
                                   beta: Double(beta), backend: backend)
                }
            }
            for i in 0..<m * n { y[i] = Float(out[i]) }
        case .bfloat16, .int8:
            multiplyNarrow(x, rows: m, transposed: transposed, into: y, beta: beta, backend: backend)
        }
    }

    /// `y = x · W + beta · y` (`[m, rows] · [rows, cols] -> [m, cols]`), or with
    /// `transposed`, `y = x · Wᵀ + beta · y` (`[m, cols] · [cols, rows] -> [m, rows]`).
    /// Rows of `x` and `y` are contiguous. Products of up to ``rowwiseLimit`` rows are
    /// matrix–vector products, on the pure-Swift GEMV whatever the backend (see ``fewRows``),
    /// and each row of `y` is then what that row of `x` alone would give; for GEMMs without a
    /// `Double` copy, the pure-Swift GEMM widens them as it packs them, or, on
    /// ``Backend/blas`` from ``widenFromRows`` rows on, they are widened a panel at
    /// a time for OpenBLAS. With both copies, GEMVs read the `Float`s and GEMMs
    /// the `Double`s. Narrow weights (bfloat16, int8) are widened a panel at a
    /// time, except in `Float` products of up to ``rowwiseLimit`` rows (``NarrowGEMV``).
    /// `S` is `Double` or `Float`; see ``multiplyFloat`` for the latter.
    @inline(__always)
    package func multiply<S: MatrixScalar>(_ x: UnsafePointer<S>, rows m: Int, transposed: Bool = false,
                                           into y: UnsafeMutablePointer<S>, beta: S = 0, backend: Backend = .default) {
        if S.self == Float.self {
            multiplyFloat(Kernels.raw(x), rows: m, transposed: transposed, into: Kernels.rawMutable(y), beta: Float(beta), backend: backend)
        } else {
            multiplyDouble(Kernels.raw(x), rows: m, transposed: transposed, into: Kernels.rawMutable(y), beta: Double(beta), backend: backend)
        }
    }

    private func multiplyDouble(_ x: UnsafePointer<Double>, rows m: Int, transposed: Bool,
                                into y: UnsafeMutablePointer<Double>, beta: Double, backend: Backend) {
        let k = transposed ? cols : rows, n = transposed ? rows : cols
        let threads = KernelThreads.current
        func doubles(_ values: [Double]) {
            values.withUnsafeBufferPointer { w in
                if m <= WeightMatrix.rowwiseLimit { return fewRows(w.baseAddress!, x, count: m, transposed: transposed, y, beta: beta, threads: threads) }
                Kernels.multiply(x, lda: k, transposeA: false, w.baseAddress!, ldb: cols, transposeB: transposed,
                                 y, ldc: n, m: m, n: n, k: k, beta: beta, backend: backend, threads: threads)
            }
        }
        func floats(_ values: WeightBuffer<Float>) {
            values.withUnsafeBufferPointer { w in
                if m <= WeightMatrix.rowwiseLimit {
                    fewRows(w.baseAddress!, x, count: m, transposed: transposed, y, beta: beta, threads: threads)
                } else if backend == .swift || m < WeightMatrix.widenFromRows {
                    SwiftGEMM.run(x, lda: k, transposeA: false, w.baseAddress!, ldb: lineLength, transposeB: transposed != floatsTransposed,
                                  y, ldc: n, m: m, n: n, k: k, alpha: 1, beta: beta, threads: threads)   // widened as packed
                } else {
                    widenedGEMM(x, m: m, transposed: transposed, y, beta: beta, backend: backend, threads: threads)
                }
            }
        }
        switch storage {
        case let .double(values): doubles(values)
        case let .float(values): floats(values)
        case let .both(d, f): if m <= WeightMatrix.rowwiseLimit { floats(f) } else { doubles(d) }
        case .bfloat16, .int8: multiplyNarrow(x, rows: m, transposed: transposed, into: y, beta: beta, backend: backend)
        }
    }

    /// Products of up to this many rows of `x` (tokens being decoded, of one
    /// sequence or of several decoded together, or a short prompt) run on the
    /// matrix–vector kernels, which read each part of W once for all the rows
    /// and give every row of the result, bit for bit, as that row alone would:
    /// what a sequence decodes never depends on what is decoded beside it
    /// (narrow weights: in products along their stored lines, as every model's
    /// are; across them they are widened for a GEMM). Longer products go to a GEMM.
    package static let rowwiseLimit = 16

    /// A product of `count` ≤ ``rowwiseLimit`` rows (`[count, k] · op(W) -> [count, n]`)
    /// on either backend: the pure-Swift GEMV, which streams W at the memory's speed
    /// (OpenBLAS 0.3.21's `dgemv` and `sgemv` are slower or level: compare the
    /// `raw` and `swift` rows of `bench --filter gemv,sgemv`).
    private func fewRows<S: MatrixScalar, E: MatrixScalar>(_ w: UnsafePointer<E>, _ x: UnsafePointer<S>, count: Int, transposed: Bool,
                                                           _ y: UnsafeMutablePointer<S>, beta: S, threads: Int) {
        // Transposed Floats hold Wᵀ `[cols, rows]`: x · W is Wᵀ's W · x form.
        let flip = E.self == Float.self && floatsTransposed
        SwiftGEMV.run(w: w, rows: flip ? cols : rows, cols: flip ? rows : cols, ldw: flip ? rows : cols,
                      transposed: transposed != flip, x: x, incX: 1, count: count, y: y, alpha: 1, beta: beta, threads: threads)
    }

    /// From this many rows of `x` on, a product with `Float` weights on ``Backend/blas``
    /// widens panels of the weights for OpenBLAS; below it, the pure-Swift GEMM
    /// (which widens each element as it packs it) is faster (`bench --filter model`,
    /// prefill rows of `f64-float32`).
    static let widenFromRows = 128

    /// Elements widened per panel (8 MB as `Double`): big enough that OpenBLAS
    /// runs each panel's GEMM at speed on all its threads (smaller panels made
    /// prefill slower: docs/PERFORMANCE.md).
    static let panelElements = 1 << 20

    /// The GEMM of ``multiply(_:rows:transposed:into:beta:backend:)`` for weights
    /// stored narrower than `S` (`Float` or narrower): one column panel of W at a
    /// time (a row panel when transposed) is widened into an `S` buffer on all
    /// threads, then multiplied on all threads by the backend's GEMM.
    func widenedGEMM<S: MatrixScalar>(_ x: UnsafePointer<S>, m: Int, transposed: Bool,
                                      _ y: UnsafeMutablePointer<S>, beta: S, backend: Backend, threads: Int) {
        let k = transposed ? cols : rows, n = transposed ? rows : cols
        let width = max(1, min(n, WeightMatrix.panelElements / max(k, 1)))            // output columns per panel
        let panel = ThreadScratch.buffer(width * k, of: S.self)                          // the calling thread's, reused
        // The stored lines B are op(W) = [k, n], or its transpose [n, k].
        let nByK = transposed != floatsTransposed
        var j0 = 0
        while j0 < n {
            let pw = min(width, n - j0)
            if nByK {
                parallelRanges(pw, minimum: 16) { lines in                              // B[j0..<j0+pw, :] -> [pw, k]
                    for l in lines { widenLine(j0 + l, from: 0, count: k, into: panel + l * k) }
                }
            } else {
                parallelRanges(k, minimum: 64) { rs in                                  // B[:, j0..<j0+pw] -> [k, pw]
                    for r in rs { widenLine(r, from: j0, count: pw, into: panel + r * pw) }
                }
            }
            Kernels.gemm(x, lda: k, transposeA: false, panel, ldb: nByK ? k : pw, transposeB: nByK,
                         y + j0, ldc: n, m: m, n: pw, k: k, alpha: 1, beta: beta, backend: backend,
                         threads: threads)                                              // y[:, j0..<j0+pw]
            j0 += pw
        }
    }
}

/// `values` (row-major `[rows, cols]`) transposed, row-major `[cols, rows]`.
func transposedFloats(_ values: WeightBuffer<Float>, _ rows: Int, _ cols: Int) -> WeightBuffer<Float> {
    WeightBuffer(count: values.count) { transpose(values, rows, cols, into: $0) }
}

/// The `[rows, cols]` matrix whose `Float`s are `values` (row-major, or with
/// `floatsTransposed` column-major), widened to `Double`s in row-major order.
private func rowMajorDoubles(_ values: WeightBuffer<Float>, _ rows: Int, _ cols: Int, floatsTransposed: Bool) -> [Double] {
    if floatsTransposed { return hugePageArray(count: values.count) { transpose(values, cols, rows, into: $0) } }
    return values.withUnsafeBufferPointer { $0.map(Double.init) }
}

/// Writes `values` (row-major `[rows, cols]`) transposed to `dst` (row-major `[cols, rows]`), as `E`s.
@_specialize(where E == Double)
@_specialize(where E == Float)
private func transpose<E: MatrixScalar>(_ values: WeightBuffer<Float>, _ rows: Int, _ cols: Int,
                                        into out: UnsafeMutableBufferPointer<E>) {
    guard !values.isEmpty else { return }
    values.withUnsafeBufferPointer { v in
        let (src, dst, tile) = (v.baseAddress!, out.baseAddress!, 32)                   // 32 × 32 tiles stay in cache
        parallelRanges((cols + tile - 1) / tile, minimum: 1) { tiles in                 // output rows, a band per thread
            for j0 in stride(from: tiles.lowerBound * tile, to: min(tiles.upperBound * tile, cols), by: tile) {
                for i0 in stride(from: 0, to: rows, by: tile) {
                    for j in j0..<min(j0 + tile, cols) {
                        for i in i0..<min(i0 + tile, rows) { dst[j &* rows &+ i] = E(src[i &* cols &+ j]) }
                    }
                }
            }
        }
    }
}

/// `out[i] = S(p[i])` for `i < count`.
@inline(__always)
func widen<S: MatrixScalar>(_ p: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<S>) {
    if S.self == Float.self { return UnsafeMutableRawPointer(out).copyMemory(from: p, byteCount: count * 4) }
    var i = 0
    while i + S.lanes <= count {
        S.storeVector(S.loadVector(UnsafeRawPointer(p), i, from: Float.self), UnsafeMutableRawPointer(out), i)
        i += S.lanes
    }
    while i < count { out[i] = S(p[i]); i += 1 }
}
