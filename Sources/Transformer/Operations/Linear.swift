import LinearAlgebra

/// An affine map `x · w + b`, with `w` stored `[in, out]` as GPT-2's Conv1D
/// stores it. JSON: `{"w": [[…]], "b": […]}`.
///
/// The weights are a ``LinearAlgebra/WeightMatrix``: `Double`, lossless
/// `Float`, or both (see ``GPT/storingWeights(_:)``); the products always
/// accumulate in `Double`.
public struct Linear: OperationModel, Equatable {
    /// The weights, `[in, out]`. Their `Float` elements are kept transposed,
    /// whoever sets them: a decoded token's `x · w` then streams `w` fastest.
    public var w: WeightMatrix { didSet { w = w.transposingFloats() } }
    /// The bias, a `[1, out]` row vector.
    public var b: Matrix

    /// A linear map from its weights `[in, out]` and bias `[1, out]`.
    public init(w: WeightMatrix, b: Matrix) {
        precondition(b.rows == 1 && b.cols == w.cols,
                     "Linear: bias \(b.shapeDescription) does not fit weights \(w.shapeDescription)")
        self.w = w.transposingFloats()
        self.b = b
    }

    /// A linear map from `Double` weights `[in, out]` and bias `[1, out]`.
    public init(w: Matrix, b: Matrix) {
        self.init(w: WeightMatrix(w), b: b)
    }

    /// The number of input features.
    public var inputSize: Int { w.rows }
    /// The number of output features.
    public var outputSize: Int { w.cols }

    public func callAsFunction(_ x: Matrix, backend: Backend) -> Matrix {
        precondition(x.cols == inputSize, "Linear: input \(x.shapeDescription) does not fit weights \(w.shapeDescription)")
        return Matrix(rows: x.rows, cols: outputSize) { y in
            x.withElements { apply($0, rows: x.rows, into: y, backend: backend) }   // [n, in] -> [n, out]
        }
    }

    /// `y[n, out] = x[n, in] · w + b` on row-major buffers.
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    package func apply<S: MatrixScalar>(_ x: UnsafePointer<S>, rows n: Int, into y: UnsafeMutablePointer<S>, backend: Backend) {
        let out = outputSize
        guard n > 0 else { return }
        b.withElements { bias in for j in 0..<out { y[j] = S(bias[j]) } }            // row 0 = b
        for i in 1..<n { (y + i &* out).update(from: y, count: out) }              // every row = b
        w.multiply(x, rows: n, into: y, beta: 1, backend: backend)                 // [n, in] · [in, out] + b -> [n, out]
    }

    private enum CodingKeys: String, CodingKey { case w, b }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let w = try c.decode(Matrix.self, forKey: .w)
        self.init(w: w, b: try c.decodeRowVector(.b, count: w.cols))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(w.matrix, forKey: .w)
        try c.encode(b.elements, forKey: .b)
    }
}
