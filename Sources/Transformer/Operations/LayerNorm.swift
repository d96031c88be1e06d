import LinearAlgebra

/// Layer normalisation over each row: `g · (x − mean) / √(variance + eps) + b`.
/// JSON: `{"g": […], "b": […], "eps": 1e-5}` (`eps` optional).
public struct LayerNorm: OperationModel, Equatable {
    /// The gain, a `[1, d]` row vector.
    public var g: Matrix
    /// The bias, a `[1, d]` row vector.
    public var b: Matrix
    /// Added to the variance before the square root. Default `1e-5`, as GPT-2.
    public var eps: Double

    /// A layer norm from its gain and bias (both `[1, d]`).
    public init(g: Matrix, b: Matrix, eps: Double = 1e-5) {
        precondition(g.rows == 1 && b.rows == 1 && g.cols == b.cols,
                     "LayerNorm: gain \(g.shapeDescription) and bias \(b.shapeDescription) must be equal row vectors")
        self.g = g
        self.b = b
        self.eps = eps
    }

    /// The identity-initialised layer norm of width `d` (gain 1, bias 0).
    public init(width d: Int, eps: Double = 1e-5) {
        self.init(g: Matrix(rows: 1, cols: d, repeating: 1), b: .zeros(rows: 1, cols: d), eps: eps)
    }

    /// The width `d` it normalises.
    public var width: Int { g.cols }

    public func callAsFunction(_ x: Matrix, backend: Backend) -> Matrix {
        precondition(x.cols == width, "LayerNorm: input \(x.shapeDescription) does not fit gain \(g.shapeDescription)")
        return Matrix(rows: x.rows, cols: width) { y in x.withElements { apply($0, rows: x.rows, into: y) } }   // [n, d]
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

    private enum CodingKeys: String, CodingKey { case g, b, eps }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let g = try c.decode([Double].self, forKey: .g)
        self.init(g: Matrix(row: g), b: try c.decodeRowVector(.b, count: g.count),
                  eps: try c.decodeIfPresent(Double.self, forKey: .eps) ?? 1e-5)
        try GPTConfig.checkEpsilon(eps, field: fieldPath(c.codingPath, CodingKeys.eps))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(g.elements, forKey: .g)
        try c.encode(b.elements, forKey: .b)
        try c.encode(eps, forKey: .eps)
    }
}

extension Optional where Wrapped == LayerNorm {
    /// The layer norm of `n` rows of width `d`, or a copy of them when there is none.
    func apply<S: MatrixScalar>(_ x: UnsafePointer<S>, rows n: Int, width d: Int, into y: UnsafeMutablePointer<S>) {
        if let norm = self { norm.apply(x, rows: n, into: y) } else { y.update(from: x, count: n * d) }
    }
}
