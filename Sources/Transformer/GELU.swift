import Foundation
import LinearAlgebra

/// The Gaussian error linear unit, in GPT-2's tanh approximation:
/// `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))`, elementwise.
/// It has no weights; JSON: `{}`.
public struct GELU: Operation, Equatable {
    /// A GELU (no configuration).
    public init() {}

    public func callAsFunction(_ x: Matrix, backend: Backend) -> Matrix {
        x.map(GELU.value)                                               // [n, d] -> [n, d]
    }

    /// GELU of one number. `0.5·v·(1 + tanh(u))` with `u = √(2/π)·(v + 0.044715·v³)`
    /// equals `v / (1 + e^(−2u))`, which needs one `exp` instead of a slower
    /// `tanh`; the two differ by rounding only.
    @inline(__always)
    public static func value(_ v: Double) -> Double {
        v / (1 + Foundation.exp(-2 * (2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
    }
}
