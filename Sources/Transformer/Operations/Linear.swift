import LinearAlgebra

/// An affine map `x · w + b`, or a linear one `x · w` without a bias (the
/// Llama family's projections), with `w` stored `[in, out]` as GPT-2's Conv1D
/// stores it. JSON: `{"w": [[…]], "b": […]}` (`b` optional); in checkpoints
/// `weight` and `bias` (a Llama-family checkpoint stores `weight` as `[out, in]`).
///
/// The weights are a `WeightMatrix`: `Double`, lossless
/// `Float`, or both (see ``GPT/storingWeights(_:)``); with `Double`
/// activations the products accumulate in `Double`.
public struct Linear: OperationModel, ParameterModule, Equatable {
    /// The weights, `[in, out]`. Their `Float` elements are kept transposed,
    /// whoever sets them: a decoded token's `x · w` then streams `w` fastest.
    public private(set) var w: WeightMatrix { didSet { w = w.transposingFloats() } }
    /// The bias, a `[1, out]` row vector, if any.
    public private(set) var b: Matrix?

    /// A linear map from its weights `[in, out]` and bias `[1, out]` (or none).
    ///
    /// - Throws: ``ModelError/shapeMismatch(field:expected:found:)`` when the bias does not fit.
    public init(w: WeightMatrix, b: Matrix?) throws {
        self.w = w.transposingFloats()
        self.b = b
        try validate()
    }

    /// A linear map from `Double` weights `[in, out]` and bias `[1, out]` (or none).
    public init(w: Matrix, b: Matrix?) throws {
        try self.init(w: WeightMatrix(w), b: b)
    }

    package static var blank: Linear { blank(bias: true) }
    /// The smallest map, with or without a bias.
    static func blank(bias: Bool) -> Linear { try! Linear(w: .zeros(rows: 1, cols: 1), b: bias ? .zeros(rows: 1, cols: 1) : nil) }

    package mutating func visit<V: ParameterVisitor>(_ v: inout V) throws {
        try v.weight(ParameterKey("w", checkpoint: "weight"), &w, .input, .output, embedding: false)
        try v.optional(ParameterKey("b", checkpoint: "bias"), &b, .output)
    }

    /// The number of input features.
    public var inputSize: Int { w.rows }
    /// The number of output features.
    public var outputSize: Int { w.cols }

    public func callAsFunction<S: MatrixScalar>(_ x: DenseMatrix<S>, backend: Backend) -> DenseMatrix<S> {
        precondition(x.cols == inputSize, "Linear: input \(x.shapeDescription) does not fit weights \(w.shapeDescription)")
        return DenseMatrix(rows: x.rows, cols: outputSize) { y in
            x.withElements { apply($0, rows: x.rows, into: y, backend: backend) }   // [n, in] -> [n, out]
        }
    }

    /// `y[n, out] = x[n, in] · w + b` (or `x · w`) on row-major buffers.
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    package func apply<S: MatrixScalar>(_ x: UnsafePointer<S>, rows n: Int, into y: UnsafeMutablePointer<S>, backend: Backend) {
        let out = outputSize
        guard n > 0 else { return }
        guard let b else { return w.multiply(x, rows: n, into: y, backend: backend) }   // [n, in] · [in, out] -> [n, out]
        b.withElements { bias in for j in 0..<out { y[j] = S(bias[j]) } }            // row 0 = b
        for i in 1..<n { (y + i &* out).update(from: y, count: out) }              // every row = b
        w.multiply(x, rows: n, into: y, beta: 1, backend: backend)                 // [n, in] · [in, out] + b -> [n, out]
    }
}
