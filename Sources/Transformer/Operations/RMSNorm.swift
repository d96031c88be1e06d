import LinearAlgebra

/// Root-mean-square normalisation over each row, as in Llama:
/// `g · x / √(mean(x²) + eps)` (no centring, no bias).
/// JSON: `{"g": […], "eps": 1e-6}` (`eps` optional); in checkpoints `weight`.
public struct RMSNorm: OperationModel, ParameterModule, Equatable {
    /// The gain, a `[1, d]` row vector.
    public private(set) var g: Matrix
    /// Added to the mean square before the square root, in (0, 1]. Default `1e-6`, as Llama.
    public private(set) var eps: Double

    /// An RMS norm from its gain (`[1, d]`).
    ///
    /// - Throws: ``ModelError`` when `eps` is outside (0, 1] or the gain is empty.
    public init(g: Matrix, eps: Double = 1e-6) throws {
        self.g = g
        self.eps = eps
        try validate()
    }

    /// The identity-initialised RMS norm of width `d` (gain 1).
    public init(width d: Int, eps: Double = 1e-6) throws {
        try self.init(g: Matrix(rows: 1, cols: max(d, 0), repeating: 1), eps: eps)
    }

    package static var blank: RMSNorm { try! RMSNorm(width: 1) }

    package mutating func visit<V: ParameterVisitor>(_ v: inout V) throws {
        try v.vector(ParameterKey("g", checkpoint: "weight"), &g, .embd)
        try v.setting("eps", &eps, bound: \.layerNormEpsilon, fallback: 1e-6)
        try v.require(eps > 0 && eps <= 1, "eps", "must be in (0, 1], found \(eps)")
    }

    /// The width `d` it normalises.
    public var width: Int { g.cols }

    public func callAsFunction<S: MatrixScalar>(_ x: DenseMatrix<S>, backend: Backend) -> DenseMatrix<S> {
        precondition(x.cols == width, "RMSNorm: input \(x.shapeDescription) does not fit gain \(g.shapeDescription)")
        return DenseMatrix(rows: x.rows, cols: width) { y in x.withElements { apply($0, rows: x.rows, into: y) } }   // [n, d]
    }

    /// `y = g · x / √(mean(x²) + eps)` for `n` rows of width `d` on row-major
    /// buffers; the mean square is kept in `Double` either way, four lanes at a
    /// time. Rows are split across threads when there are many.
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    package func apply<S: MatrixScalar>(_ x: UnsafePointer<S>, rows n: Int, into y: UnsafeMutablePointer<S>) {
        let d = width, vectorEnd = d / 4 * 4
        g.withElements { g in
            let gv = UnsafeRawPointer(g)
            parallelRanges(n, minimum: max(1, (1 << 15) / max(d, 1))) { rows in
                for i in rows {
                    let row = x + i * d, out = y + i * d
                    var squares = SIMD4<Double>(), j = 0
                    while j < vectorEnd { let v = S.load4(row, j); squares += v * v; j += 4 }
                    var sum = squares.sum()
                    while j < d { sum += Double(row[j]) * Double(row[j]); j += 1 }
                    let inverse = 1 / (sum / Double(d) + eps).squareRoot()
                    j = 0
                    while j < vectorEnd {
                        S.store4(gv.loadUnaligned(fromByteOffset: j * 8, as: SIMD4<Double>.self) * (S.load4(row, j) * inverse), out, j)
                        j += 4
                    }
                    while j < d { out[j] = S(g[j] * (Double(row[j]) * inverse)); j += 1 }
                }
            }
        }
    }
}
