import LinearAlgebra

/// An affine map `x · w + b`, with `w` stored `[in, out]` as GPT-2's Conv1D
/// stores it. JSON: `{"w": [[…]], "b": […]}`.
public struct Linear: Operation, Equatable {
    /// The weights, `[in, out]`.
    public var w: Matrix
    /// The bias, a `[1, out]` row vector.
    public var b: Matrix

    /// A linear map from its weights `[in, out]` and bias `[1, out]`.
    public init(w: Matrix, b: Matrix) {
        precondition(b.rows == 1 && b.cols == w.cols,
                     "Linear: bias \(b.shapeDescription) does not fit weights \(w.shapeDescription)")
        self.w = w
        self.b = b
    }

    /// The number of input features.
    public var inputSize: Int { w.rows }
    /// The number of output features.
    public var outputSize: Int { w.cols }

    public func callAsFunction(_ x: Matrix, backend: Backend) -> Matrix {
        precondition(x.cols == w.rows, "Linear: input \(x.shapeDescription) does not fit weights \(w.shapeDescription)")
        var y = Matrix(rows: x.rows, cols: w.cols,                      // [n, out], each row = b
                       elements: Array((0..<x.rows).map { _ in b.elements }.joined()))
        Matrix.multiply(x, w, beta: 1, into: &y, backend: backend)      // [n, in] · [in, out] + b -> [n, out]
        return y
    }

    private enum CodingKeys: String, CodingKey { case w, b }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let w = try c.decodeMatrix(.w)
        self.init(w: w, b: try c.decodeRowVector(.b, count: w.cols))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(w, forKey: .w)
        try c.encodeRowVector(b, forKey: .b)
    }
}
