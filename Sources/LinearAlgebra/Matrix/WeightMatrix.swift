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
        /// 8 bytes per element.
        case double
        /// 4 bytes per element, each exactly the `Double` it stands for.
        case float32
        /// 12 bytes per element: `Double` for matrix–matrix products, `Float`
        /// for matrix–vector products.
        case both
    }

    enum Storage: Sendable, Equatable {
        case double([Double])
        case float([Float])
        case both([Double], [Float])
    }

    /// The number of rows.
    public let rows: Int
    /// The number of columns.
    public let cols: Int
    let storage: Storage

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
            self.init(rows: matrix.rows, cols: matrix.cols, floats: floats)
        } else {
            self.init(matrix)
        }
    }

    /// `matrix` in `precision`: `.double` shares it; `.float32` and `.both` add
    /// or use a `Float` copy only when that is lossless, else share it as `Double`.
    public init(_ matrix: Matrix, precision: Precision) {
        switch precision {
        case .double: self.init(matrix)
        case .float32: self.init(compacting: matrix)
        case .both:
            if let floats = WeightMatrix.exactFloats(matrix.elements) {
                self.init(rows: matrix.rows, cols: matrix.cols, storage: .both(matrix.elements, floats))
            } else {
                self.init(matrix)
            }
        }
    }

    private init(rows: Int, cols: Int, storage: Storage) {
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }

    /// A matrix of `Float` elements in row-major order, kept in `precision`:
    /// every `Float` is exactly a `Double`, so `.double` and `.both` widen them
    /// without any check.
    ///
    /// - Precondition: `floats.count == rows * cols`.
    public init(rows: Int, cols: Int, floats: [Float], precision: Precision = .float32) {
        precondition(rows >= 0 && cols >= 0 && floats.count == rows * cols,
                     "WeightMatrix: \(floats.count) elements do not fill shape [\(rows), \(cols)]")
        switch precision {
        case .float32: self.init(rows: rows, cols: cols, storage: .float(floats))
        case .double: self.init(rows: rows, cols: cols, storage: .double(floats.map(Double.init)))
        case .both: self.init(rows: rows, cols: cols, storage: .both(floats.map(Double.init), floats))
        }
    }

    /// The same elements kept in `precision` (`.float32` and `.both` keep a
    /// `Float` copy only where that is lossless, as ``init(_:precision:)`` does).
    public func stored(as precision: Precision) -> WeightMatrix {
        if precision == self.precision { return self }
        switch storage {
        case let .double(values): return WeightMatrix(Matrix(rows: rows, cols: cols, elements: values), precision: precision)
        case let .float(floats), let .both(_, floats): return WeightMatrix(rows: rows, cols: cols, floats: floats, precision: precision)
        }
    }

    /// The elements as `Float`s, or `nil` when one of them is not exactly a `Float`.
    static func exactFloats(_ values: [Double]) -> [Float]? {
        var floats = [Float](repeating: 0, count: values.count)
        for (i, v) in values.enumerated() {
            let f = Float(v)
            guard Double(f) == v else { return nil }
            floats[i] = f
        }
        return floats
    }

    /// How the elements are stored.
    public var precision: Precision {
        switch storage {
        case .double: return .double
        case .float: return .float32
        case .both: return .both
        }
    }

    /// The bytes the elements occupy.
    public var byteCount: Int {
        switch precision {
        case .double: return rows * cols * 8
        case .float32: return rows * cols * 4
        case .both: return rows * cols * 12
        }
    }

    /// The shape as `[rows, cols]`, for messages.
    public var shapeDescription: String { "[\(rows), \(cols)]" }

    /// The elements widened to a `Double` matrix (a copy when stored as `Float`).
    public var matrix: Matrix {
        switch storage {
        case let .double(values), let .both(values, _): return Matrix(rows: rows, cols: cols, elements: values)
        case let .float(values): return Matrix(rows: rows, cols: cols, elements: values.map(Double.init))
        }
    }

    /// The same weights as `Float`s only, for a model computing in `Float`:
    /// a `Double` copy is dropped, and `Double` elements that are not exactly
    /// `Float`s are rounded to nearest.
    public func roundedToFloat() -> WeightMatrix {
        switch storage {
        case .float: return self
        case let .both(_, floats): return WeightMatrix(rows: rows, cols: cols, storage: .float(floats))
        case let .double(values): return WeightMatrix(rows: rows, cols: cols, storage: .float(values.map { Float($0) }))
        }
    }

    /// Adds row `r`, converted to `S`, to `out[0..<cols]`.
    package func addRow<S: MatrixScalar>(_ r: Int, to out: UnsafeMutablePointer<S>) {
        precondition(r >= 0 && r < rows, "WeightMatrix: row \(r) out of shape \(shapeDescription)")
        switch storage {
        case let .double(values), let .both(values, _): for j in 0..<cols { out[j] += S(values[r * cols + j]) }
        case let .float(values): for j in 0..<cols { out[j] += S(values[r * cols + j]) }
        }
    }

    /// ``multiply(_:rows:transposed:into:beta:backend:)`` with `Float` activations:
    /// `Float` weights go straight to
    /// `cblas_sgemm`/`sgemv` or the pure-Swift `Float` kernels. Weights held only
    /// as `Double` (not exactly `Float`s) are multiplied in `Double` and the
    /// result rounded; ``roundedToFloat()`` avoids that.
    private func multiplyFloat(_ x: UnsafePointer<Float>, rows m: Int, transposed: Bool,
                               into y: UnsafeMutablePointer<Float>, beta: Float, backend: Backend) {
        let k = transposed ? cols : rows, n = transposed ? rows : cols
        switch storage {
        case let .float(values), let .both(_, values):
            values.withUnsafeBufferPointer { w in
                Kernels.multiply(x, lda: k, transposeA: false, w.baseAddress!, ldb: cols, transposeB: transposed,
                                 y, ldc: n, m: m, n: n, k: k, beta: beta, backend: backend)   // [m, k] · op(W) -> [m, n]
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
        }
    }

    /// `y = x · W + beta · y` (`[m, rows] · [rows, cols] -> [m, cols]`), or with
    /// `transposed`, `y = x · Wᵀ + beta · y` (`[m, cols] · [cols, rows] -> [m, rows]`).
    /// Rows of `x` and `y` are contiguous. One-row products are matrix–vector
    /// products. `Float` weights use the pure-Swift GEMV on either backend (no
    /// BLAS multiplies `Float` weights into `Double`s); for GEMMs without a
    /// `Double` copy, the pure-Swift GEMM widens them as it packs them, or, on
    /// ``Backend/blas`` from ``widenFromRows`` rows on, they are widened a panel at
    /// a time for OpenBLAS. With both copies, GEMVs read the `Float`s and GEMMs
    /// the `Double`s.
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
                Kernels.multiply(x, lda: k, transposeA: false, w.baseAddress!, ldb: cols, transposeB: transposed,
                                 y, ldc: n, m: m, n: n, k: k, beta: beta, backend: backend, threads: threads)
            }
        }
        func floats(_ values: [Float]) {
            values.withUnsafeBufferPointer { w in
                if m == 1 {
                    SwiftGEMV.run(w: w.baseAddress!, rows: rows, cols: cols, ldw: cols, transposed: transposed,
                                  x: x, incX: 1, y: y, alpha: 1, beta: beta, threads: threads)
                } else if backend == .swift || m < WeightMatrix.widenFromRows {
                    SwiftGEMM.run(x, lda: k, transposeA: false, w.baseAddress!, ldb: cols, transposeB: transposed,
                                  y, ldc: n, m: m, n: n, k: k, alpha: 1, beta: beta, threads: threads)   // widened as packed
                } else {
                    widenedGEMM(w.baseAddress!, x, m: m, transposed: transposed, y, beta: beta, backend: backend, threads: threads)
                }
            }
        }
        switch storage {
        case let .double(values): doubles(values)
        case let .float(values): floats(values)
        case let .both(d, f): if m == 1 { floats(f) } else { doubles(d) }
        }
    }

    /// From this many rows of `x` on, a product with `Float` weights on ``Backend/blas``
    /// widens panels of the weights for OpenBLAS; below it, the pure-Swift GEMM
    /// (which widens each element as it packs it) is faster: GPT-2 prefill of 16
    /// and 64 tokens ran 10–20 % faster that way, 256 tokens 10 % slower (`bench --filter model`).
    static let widenFromRows = 128

    /// Elements widened per panel (8 MB as `Double`): big enough that OpenBLAS
    /// runs each panel's GEMM at speed on all its threads. (2 MB panels made a
    /// 64- and 256-token GPT-2 prefill 15–25 % slower, `bench --filter model`.)
    static let panelElements = 1 << 20

    /// The GEMM of ``multiply(_:rows:transposed:into:beta:backend:)`` for `Float`
    /// weights: one column panel of W at a time (a row panel when transposed) is
    /// widened into a `Double` buffer on all threads, then multiplied on all threads
    /// by the backend's GEMM.
    private func widenedGEMM(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Double>, m: Int, transposed: Bool,
                             _ y: UnsafeMutablePointer<Double>, beta: Double, backend: Backend, threads: Int) {
        let k = transposed ? cols : rows, n = transposed ? rows : cols
        let width = max(1, min(n, WeightMatrix.panelElements / max(k, 1)))            // output columns per panel
        let panel = UnsafeMutablePointer<Double>.allocate(capacity: width * k)
        defer { panel.deallocate() }
        var j0 = 0
        while j0 < n {
            let pw = min(width, n - j0)
            if transposed {
                parallelRanges(pw * cols, minimum: 1 << 14) { r in                      // W[j0..<j0+pw, :] -> [pw, k]
                    widen(w + j0 * cols + r.lowerBound, count: r.count, into: panel + r.lowerBound)
                }
            } else {
                parallelRanges(k, minimum: 64) { rs in                                  // W[:, j0..<j0+pw] -> [k, pw]
                    for r in rs { widen(w + r * cols + j0, count: pw, into: panel + r * pw) }
                }
            }
            Kernels.gemm(x, lda: k, transposeA: false, panel, ldb: transposed ? k : pw, transposeB: transposed,
                         y + j0, ldc: n, m: m, n: pw, k: k, alpha: 1, beta: beta, backend: backend,
                         threads: threads)                                              // y[:, j0..<j0+pw]
            j0 += pw
        }
    }
}

/// `out[i] = Double(p[i])` for `i < count`.
private func widen(_ p: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Double>) {
    var i = 0
    while i + Double.lanes <= count {
        Double.storeVector(Double.loadVector(UnsafeRawPointer(p), i, from: Float.self), UnsafeMutableRawPointer(out), i)
        i += Double.lanes
    }
    while i < count { out[i] = Double(p[i]); i += 1 }
}
