import LinearAlgebra

/// The row-wise softmax, numerically stable: each row's maximum is
/// subtracted before exponentiating, so large logits never overflow.
/// It has no weights; JSON: `{}`.
public struct Softmax: OperationModel, Equatable {
    /// A softmax (no configuration).
    public init() {}

    public func callAsFunction<S: MatrixScalar>(_ x: DenseMatrix<S>, backend: Backend) -> DenseMatrix<S> {
        var y = x                                                        // [n, d]
        y.elements.withUnsafeMutableBufferPointer { e in
            for r in 0..<x.rows { Softmax.apply(e.baseAddress! + r * x.cols, count: x.cols) }
        }
        return y                                                         // [n, d], rows sum to 1
    }

    /// The softmax of one row of `count` numbers, in place.
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    package static func apply<S: MatrixScalar>(_ row: UnsafeMutablePointer<S>, count: Int) {
        var m = -S.infinity
        for j in 0..<count { m = max(m, row[j]) }
        for j in 0..<count { row[j] -= m }                               // every entry ≤ 0, the largest 0
        vectorExp(row, count: count)
        var sum = 0.0
        for j in 0..<count { sum += Double(row[j]) }                     // ≥ 1, summed in Double
        let inverse = S(1 / sum)
        for j in 0..<count { row[j] *= inverse }
    }
}
