import LinearAlgebra

/// Layer normalisation over each row: `g · (x − mean) / √(variance + eps) + b`.
/// JSON: `{"g": […], "b": […], "eps": 1e-5}` (`eps` optional).
public struct LayerNorm: OperationModel, ParameterModule, Equatable {
    /// The gain, a `[1, d]` row vector.
    public private(set) var g: Matrix
    /// The bias, a `[1, d]` row vector.
    public private(set) var b: Matrix
    /// Added to the variance before the square root, in (0, 1]. Default `1e-5`, as GPT-2.
    public private(set) var eps: Double

    /// A layer norm from its gain and bias (both `[1, d]`).
    ///
    /// - Throws: ``ModelError`` when they differ in shape or `eps` is outside (0, 1].
    public init(g: Matrix, b: Matrix, eps: Double = 1e-5) throws {
        self.g = g
        self.b = b
        self.eps = eps
        try validate()
    }

    /// The identity-initialised layer norm of width `d` (gain 1, bias 0).
    public init(width d: Int, eps: Double = 1e-5) throws {
        try self.init(g: Matrix(rows: 1, cols: max(d, 0), repeating: 1), b: .zeros(rows: 1, cols: max(d, 0)), eps: eps)
    }

    package static var blank: LayerNorm { try! LayerNorm(width: 1) }

    package mutating func visit<V: ParameterVisitor>(_ v: inout V) throws {
        try v.vector(ParameterKey("g", checkpoint: "weight"), &g, .embd)
        try v.vector(ParameterKey("b", checkpoint: "bias"), &b, .embd)
        try v.setting("eps", &eps, bound: \.layerNormEpsilon, fallback: 1e-5)
        try v.require(eps > 0 && eps <= 1, "eps", "must be in (0, 1], found \(eps)")
    }

    /// The width `d` it normalises.
    public var width: Int { g.cols }

    public func callAsFunction<S: MatrixScalar>(_ x: DenseMatrix<S>, backend: Backend) -> DenseMatrix<S> {
        precondition(x.cols == width, "LayerNorm: input \(x.shapeDescription) does not fit gain \(g.shapeDescription)")
        return DenseMatrix(rows: x.rows, cols: width) { y in x.withElements { apply($0, rows: x.rows, into: y) } }   // [n, d]
    }

    /// `y = g · (x − mean) / √(variance + eps) + b` for `n` rows of width `d`
    /// on row-major buffers: two passes per row for the statistics (the mean,
    /// then the variance), kept in `Double` either way, four lanes at a time.
    /// Rows are split across threads when there are many.
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    package func apply<S: MatrixScalar>(_ x: UnsafePointer<S>, rows n: Int, into y: UnsafeMutablePointer<S>) {
        let d = width, vectorEnd = d / 4 * 4
        g.withElements { g in
            b.withElements { b in
                let gv = UnsafeRawPointer(g), bv = UnsafeRawPointer(b)
                parallelRanges(n, minimum: max(1, (1 << 15) / max(d, 1))) { rows in
                    for i in rows {
                        let row = x + i * d, out = y + i * d
                        var sum = SIMD4<Double>(), j = 0
                        while j < vectorEnd { sum += S.load4(row, j); j += 4 }
                        var mean = sum.sum()
                        while j < d { mean += Double(row[j]); j += 1 }
                        mean /= Double(d)
                        var squares = SIMD4<Double>()
                        j = 0
                        while j < vectorEnd { let c = S.load4(row, j) - mean; squares += c * c; j += 4 }
                        var variance = squares.sum()
                        while j < d { let c = Double(row[j]) - mean; variance += c * c; j += 1 }
                        let inverse = 1 / (variance / Double(d) + eps).squareRoot()
                        j = 0
                        while j < vectorEnd {
                            let gain = gv.loadUnaligned(fromByteOffset: j * 8, as: SIMD4<Double>.self)
                            let bias = bv.loadUnaligned(fromByteOffset: j * 8, as: SIMD4<Double>.self)
                            S.store4(gain * ((S.load4(row, j) - mean) * inverse) + bias, out, j)
                            j += 4
                        }
                        while j < d { out[j] = S(g[j] * ((Double(row[j]) - mean) * inverse) + b[j]); j += 1 }
                    }
                }
            }
        }
    }
}
