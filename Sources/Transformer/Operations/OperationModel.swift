import LinearAlgebra

/// A step of a transformer: a typed model whose stored properties are its
/// weights and configuration (never its input), callable on an input `x`.
///
/// Conforming types implement ``callAsFunction(_:backend:)`` once, generic over
/// the scalar: the same code runs on a `Matrix` (`Double`) or a
/// `FloatMatrix`. Calling with just `x` runs on
/// `Backend/default`. Each is `Codable` in picoGPT's JSON layout,
/// with defaults for optional fields.
///
/// ```swift
/// let norm = try LayerNorm(g: .init(row: [1, 1]), b: .init(row: [0, 0]))
/// let y = norm(x)                       // on Backend.default
/// let z = norm(x, backend: .swift)      // pure Swift
/// ```
public protocol OperationModel: Codable, Sendable {
    /// Applies the operation to `x` using `backend` for the matrix products.
    func callAsFunction<S: MatrixScalar>(_ x: DenseMatrix<S>, backend: Backend) -> DenseMatrix<S>
}

extension OperationModel {
    /// Applies the operation to `x` on `Backend/default`.
    public func callAsFunction<S: MatrixScalar>(_ x: DenseMatrix<S>) -> DenseMatrix<S> { self(x, backend: .default) }
}

extension DenseMatrix {
    /// A matrix of `rows × cols` filled by `fill`, which writes every element
    /// through a pointer (the readable forms of the operations call their
    /// buffer-level `apply` this way).
    init(rows: Int, cols: Int, filledBy fill: (UnsafeMutablePointer<Scalar>) -> Void) {
        self = .zeros(rows: rows, cols: cols)
        elements.withUnsafeMutableBufferPointer { fill($0.baseAddress!) }
    }

    /// Calls `body` with a pointer to the elements (row-major).
    func withElements<R>(_ body: (UnsafePointer<Scalar>) -> R) -> R {
        elements.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
