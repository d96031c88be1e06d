import Foundation
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

    public func callAsFunction(_ x: Matrix, backend: Backend) -> Matrix {
        var y = x                                                        // [n, d]
        y.elements.withUnsafeMutableBufferPointer { GELU.apply($0.baseAddress!, count: $0.count) }
        return y                                                         // [n, d]
    }

    /// GELU of one number.
    @inline(__always)
    public static func value(_ v: Double) -> Double {
        v / (1 + Foundation.exp(-2 * (2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
    }

    /// GELU in place on `count` numbers: four at a time with a vectorised `exp`,
    /// split across threads for long inputs.
    package static func apply(_ x: UnsafeMutablePointer<Double>, count: Int) {
        let c = -2 * (2 / Double.pi).squareRoot()
        parallelRanges(count, minimum: 1 << 14) { range in
            let raw = UnsafeMutableRawPointer(x)
            var i = range.lowerBound
            while i + 4 <= range.upperBound {
                let v = raw.loadUnaligned(fromByteOffset: i * 8, as: SIMD4<Double>.self)
                let e = vectorExp(c * (v + 0.044715 * v * v * v))
                raw.storeBytes(of: v / (1 + e), toByteOffset: i * 8, as: SIMD4<Double>.self)
                i += 4
            }
            while i < range.upperBound { x[i] = value(x[i]); i += 1 }
        }
    }
}
