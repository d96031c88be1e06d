import LinearAlgebra

/// The Gaussian error linear unit, in GPT-2's tanh approximation:
/// `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))`, elementwise.
/// It has no weights; JSON: `{}`.
///
/// `0.5·v·(1 + tanh(u))` equals `v / (1 + e^(−2u))`, which needs one `exp`
/// instead of a slower `tanh`; the two differ by rounding only.
public struct GELU: OperationModel, Equatable {
    /// A GELU (no configuration).
    public init() {}

    public func callAsFunction<S: MatrixScalar>(_ x: DenseMatrix<S>, backend: Backend) -> DenseMatrix<S> {
        var y = x                                                        // [n, d]
        y.elements.withUnsafeMutableBufferPointer { GELU.apply($0.baseAddress!, count: $0.count) }
        return y                                                         // [n, d]
    }

    /// GELU in place on `count` numbers, a vector at a time in their own
    /// precision (with ``MatrixScalar/exp(_:)``), split across threads for long inputs.
    /// A range's last few numbers go through the same vector code, padded, so
    /// every number's GELU is the same wherever the ranges split (the result
    /// does not depend on the thread count).
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    package static func apply<S: MatrixScalar>(_ x: UnsafeMutablePointer<S>, count: Int) {
        let c = S.Vector(repeating: S(-2 * (2 / Double.pi).squareRoot())), cubic = S.Vector(repeating: 0.044715)
        @inline(__always) func gelu(_ v: S.Vector) -> S.Vector { v / (1 + S.exp(c * (v + cubic * v * v * v))) }
        let raw = UnsafeMutableRawPointer(x), lanes = S.lanes
        parallelRanges(count, minimum: 1 << 14) { range in
            var i = range.lowerBound
            while i + lanes <= range.upperBound {
                S.storeVector(gelu(S.loadVector(raw, i, from: S.self)), raw, i)
                i += lanes
            }
            guard i < range.upperBound else { return }
            var tail = S.Vector()
            for j in i..<range.upperBound { tail[j - i] = x[j] }
            let y = gelu(tail)
            for j in i..<range.upperBound { x[j] = y[j - i] }
        }
    }
}
