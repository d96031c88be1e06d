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
    /// on row-major buffers (two passes per row: the mean, then the variance).
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    package func apply<S: MatrixScalar>(_ x: UnsafePointer<S>, rows n: Int, into y: UnsafeMutablePointer<S>) {
        let d = width
        g.withElements { g in
            b.withElements { b in
                for i in 0..<n {
                    let row = x + i * d, out = y + i * d
                    var mean = 0.0
                    for j in 0..<d { mean += Double(row[j]) }                  // statistics in Double either way
                    mean /= Double(d)
                    var variance = 0.0
                    for j in 0..<d { variance += (Double(row[j]) - mean) * (Double(row[j]) - mean) }
                    let inverse = 1 / (variance / Double(d) + eps).squareRoot()
                    for j in 0..<d { out[j] = S(g[j] * ((Double(row[j]) - mean) * inverse) + b[j]) }
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
        try c.encodeRowVector(g, forKey: .g)
        try c.encodeRowVector(b, forKey: .b)
        try c.encode(eps, forKey: .eps)
    }
}

extension Optional where Wrapped == LayerNorm {
    /// The layer norm of `n` rows of width `d`, or a copy of them when there is none.
    func apply<S: MatrixScalar>(_ x: UnsafePointer<S>, rows n: Int, width d: Int, into y: UnsafeMutablePointer<S>) {
        if let norm = self { norm.apply(x, rows: n, into: y) } else { y.update(from: x, count: n * d) }
    }
}
