/// A read-only, row-major matrix of model weights, stored as `Float` when
/// every element is exactly a `Float` and as `Double` otherwise.
///
/// GPT-2 checkpoints are F32: widening them to `Double` doubles the bytes a
/// matrix–vector product must stream from memory without adding any
/// information. A `WeightMatrix` keeps such weights at 4 bytes each and widens
/// them as they are read, so every product still multiplies and accumulates
/// the same `Double` values — results differ from the all-`Double` path only by
/// summation order (about 1e-15 relative).
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
    }

    enum Storage: Sendable, Equatable {
        case double([Double])
        case float([Float])
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

    /// A matrix of `Float` elements in row-major order.
    ///
    /// - Precondition: `floats.count == rows * cols`.
    public init(rows: Int, cols: Int, floats: [Float]) {
        precondition(rows >= 0 && cols >= 0 && floats.count == rows * cols,
                     "WeightMatrix: \(floats.count) elements do not fill shape [\(rows), \(cols)]")
        self.rows = rows
        self.cols = cols
        storage = .float(floats)
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
        if case .float = storage { return .float32 }
        return .double
    }

    /// The bytes the elements occupy.
    public var byteCount: Int { rows * cols * (precision == .float32 ? 4 : 8) }

    /// The shape as `[rows, cols]`, for messages.
    public var shapeDescription: String { "[\(rows), \(cols)]" }

    /// The elements widened to a `Double` matrix (a copy when stored as `Float`).
    public var matrix: Matrix {
        switch storage {
        case let .double(values): return Matrix(rows: rows, cols: cols, elements: values)
        case let .float(values): return Matrix(rows: rows, cols: cols, elements: values.map(Double.init))
        }
    }

    /// Adds row `r`, widened, to `out[0..<cols]`.
    public func addRow(_ r: Int, to out: UnsafeMutablePointer<Double>) {
        precondition(r >= 0 && r < rows, "WeightMatrix: row \(r) out of shape \(shapeDescription)")
        switch storage {
        case let .double(values): for j in 0..<cols { out[j] += values[r * cols + j] }
        case let .float(values): for j in 0..<cols { out[j] += Double(values[r * cols + j]) }
        }
    }

    /// `y = x · W + beta · y` (`[m, rows] · [rows, cols] -> [m, cols]`), or with
    /// `transposed`, `y = x · Wᵀ + beta · y` (`[m, cols] · [cols, rows] -> [m, rows]`).
    /// Rows of `x` and `y` are contiguous. One-row products are matrix–vector
    /// products; `Float` weights use the pure-Swift GEMV on either backend (no
    /// BLAS multiplies `Float` weights into `Double`s) and, for GEMMs, are
    /// widened a few MB at a time into a buffer the backend's GEMM then reads.
    public func multiply(_ x: UnsafePointer<Double>, rows m: Int, transposed: Bool = false,
                         into y: UnsafeMutablePointer<Double>, beta: Double = 0, backend: Backend = .default) {
        let k = transposed ? cols : rows, n = transposed ? rows : cols
        switch storage {
        case let .double(values):
            values.withUnsafeBufferPointer { w in
                Kernels.multiply(x, lda: k, transposeA: false, w.baseAddress!, ldb: cols, transposeB: transposed,
                                 y, ldc: n, m: m, n: n, k: k, beta: beta, backend: backend)
            }
        case let .float(values):
            values.withUnsafeBufferPointer { w in
                if m == 1 {
                    SwiftGEMV.run(w: w.baseAddress!, rows: rows, cols: cols, ldw: cols, transposed: transposed,
                                  x: x, incX: 1, y: y, alpha: 1, beta: beta, threads: KernelThreads.current)
                } else {
                    widenedGEMM(w.baseAddress!, x, m: m, transposed: transposed, y, beta: beta, backend: backend)
                }
            }
        }
    }

    /// Elements widened per panel (4 MB): big enough for the GEMM to run at
    /// speed, small enough to stay in the last-level cache until it is read.
    static let panelElements = 1 << 19

    /// The GEMM of ``multiply(_:rows:transposed:into:beta:backend:)`` for `Float`
    /// weights: column panels of W (row panels when transposed) are widened
    /// into a `Double` buffer, each followed by the backend's GEMM on it.
    private func widenedGEMM(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Double>, m: Int, transposed: Bool,
                             _ y: UnsafeMutablePointer<Double>, beta: Double, backend: Backend) {
        let k = transposed ? cols : rows, n = transposed ? rows : cols
        let width = min(n, max(8, WeightMatrix.panelElements / max(k, 1) / 8 * 8))   // output columns per panel
        withUnsafeTemporaryAllocation(of: Double.self, capacity: width * k) { buffer in
            let panel = buffer.baseAddress!
            var j0 = 0
            while j0 < n {
                let pw = min(width, n - j0)
                if transposed {
                    widen(w + j0 * cols, count: pw * cols, into: panel)             // W[j0..<j0+pw, :] -> [pw, k]
                } else {
                    parallelRanges(k, minimum: 64) { range in                      // W[:, j0..<j0+pw] -> [k, pw]
                        for r in range { widen(w + r * cols + j0, count: pw, into: panel + r * pw) }
                    }
                }
                Kernels.gemm(x, lda: k, transposeA: false, panel, ldb: transposed ? k : pw, transposeB: transposed,
                             y + j0, ldc: n, m: m, n: pw, k: k, alpha: 1, beta: beta, backend: backend)
                j0 += pw                                                            // y[:, j0..<j0+pw] done
            }
        }
    }
}

/// `out[i] = Double(p[i])` for `i < count`, split across threads when long.
private func widen(_ p: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<Double>) {
    parallelRanges(count, minimum: 1 << 16) { range in
        var i = range.lowerBound
        while i + 4 <= range.upperBound {
            UnsafeMutableRawPointer(out).storeBytes(of: Float.load4(UnsafeRawPointer(p), i), toByteOffset: i * 8, as: SIMD4<Double>.self)
            i += 4
        }
        while i < range.upperBound { out[i] = Double(p[i]); i += 1 }
    }
}
