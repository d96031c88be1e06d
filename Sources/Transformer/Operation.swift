import LinearAlgebra

/// A step of a transformer: a typed model whose stored properties are its
/// weights and configuration (never its input), callable on an input `x`.
///
/// (Foundation also has an `Operation`; where both are imported, write
/// `Transformer.Operation`.) Conforming types implement ``callAsFunction(_:backend:)``; calling with
/// just `x` runs on ``LinearAlgebra/Backend/default``.
///
/// ```swift
/// let norm = LayerNorm(g: .init(row: [1, 1]), b: .init(row: [0, 0]))
/// let y = norm(x)                       // on Backend.default
/// let z = norm(x, backend: .swift)      // pure Swift
/// ```
public protocol Operation: Codable, Sendable {
    /// Applies the operation to `x` using `backend` for the matrix products.
    func callAsFunction(_ x: Matrix, backend: Backend) -> Matrix
    /// Applies the operation to `x` on the process-wide default backend.
    func callAsFunction(_ x: Matrix) -> Matrix
}

extension Operation {
    /// Applies the operation to `x` on ``LinearAlgebra/Backend/default``.
    public func callAsFunction(_ x: Matrix) -> Matrix { self(x, backend: .default) }
}
