import LinearAlgebra

/// Layer normalisation over each row: `g · (x − mean) / √(variance + eps) + b`.
/// JSON: `{"g": […], "b": […], "eps": 1e-5}` (`eps` optional).
public struct LayerNorm: Operation, Equatable {
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

    public func callAsFunction(_ x: Matrix, backend: Backend) -> Matrix {
        precondition(x.cols == g.cols, "LayerNorm: input \(x.shapeDescription) does not fit gain \(g.shapeDescription)")
        let centered = x.subtractingColumn(x.rowMean())                 // [n, d]
        let scale = x.rowVariance().map { 1 / ($0 + eps).squareRoot() }  // [n, 1]
        return centered.broadcastingColumn(scale, "LayerNorm", *)        // [n, d]
            .multiplyingRows(by: g).addingRow(b)                         // [n, d]
    }

    private enum CodingKeys: String, CodingKey { case g, b, eps }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let g = try c.decode([Double].self, forKey: .g)
        self.init(g: Matrix(row: g), b: try c.decodeRowVector(.b, count: g.count),
                  eps: try c.decodeIfPresent(Double.self, forKey: .eps) ?? 1e-5)
        guard eps >= 0, eps.isFinite else {
            throw ModelError.invalidValue(field: fieldPath(c.codingPath, CodingKeys.eps), reason: "eps must be finite and ≥ 0, found \(eps)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeRowVector(g, forKey: .g)
        try c.encodeRowVector(b, forKey: .b)
        try c.encode(eps, forKey: .eps)
    }
}
