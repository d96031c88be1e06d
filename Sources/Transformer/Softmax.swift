import LinearAlgebra

/// The row-wise softmax, numerically stable: each row's maximum is
/// subtracted before exponentiating, so large logits never overflow.
/// It has no weights; JSON: `{}`.
public struct Softmax: Operation, Equatable {
    /// A softmax (no configuration).
    public init() {}

    public func callAsFunction(_ x: Matrix, backend: Backend) -> Matrix {
        let e = x.subtractingColumn(x.rowMax()).exp()   // [n, d], every row's max is e^0 = 1
        return e.dividingColumn(e.rowSum())             // [n, d], rows sum to 1
    }
}
