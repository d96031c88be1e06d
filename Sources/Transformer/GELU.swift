import Foundation
import LinearAlgebra

/// The Gaussian error linear unit, in GPT-2's tanh approximation:
/// `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))`, elementwise.
/// It has no weights; JSON: `{}`.
public struct GELU: Operation, Equatable {
    /// A GELU (no configuration).
    public init() {}

    public func callAsFunction(_ x: Matrix, backend: Backend) -> Matrix {
        let c = (2 / Double.pi).squareRoot()
        return x.map { v in 0.5 * v * (1 + Foundation.tanh(c * (v + 0.044715 * v * v * v))) }   // [n, d] -> [n, d]
    }
}
