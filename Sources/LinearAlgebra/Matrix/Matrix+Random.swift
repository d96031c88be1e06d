import Foundation

/// A distribution for ``DenseMatrix/random(rows:cols:seed:distribution:)``.
public enum RandomDistribution: Sendable, Equatable {
    /// Normal (Gaussian) with the given mean and standard deviation (Box–Muller).
    case normal(mean: Double = 0, standardDeviation: Double = 1)
    /// Uniform on the half-open interval `[low, high)`.
    case uniform(low: Double = 0, high: Double = 1)
}

/// SplitMix64: a tiny, fast generator whose whole stream follows from the seed,
/// on every platform and Swift version (unlike `SystemRandomNumberGenerator`).
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose stream is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in `[0, 1)` with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }
}

extension DenseMatrix {
    /// A matrix of random elements, the same for the same seed on every run
    /// and machine. The default distribution is the standard normal.
    public static func random(rows: Int, cols: Int, seed: UInt64,
                              distribution: RandomDistribution = .normal()) -> DenseMatrix {
        var g = SeededGenerator(seed: seed)
        var out = [Scalar](repeating: 0, count: rows * cols)
        switch distribution {
        case let .uniform(low, high):
            for i in out.indices { out[i] = Scalar(low + (high - low) * g.nextUnit()) }   // drawn in Double, then rounded
        case let .normal(mean, sd):
            var i = 0
            while i < out.count {
                // Box–Muller: two independent normals from two uniforms in (0, 1].
                let u1 = 1 - g.nextUnit(), u2 = g.nextUnit()
                let r = (-2 * Foundation.log(u1)).squareRoot()
                out[i] = Scalar(mean + sd * r * Foundation.cos(2 * .pi * u2))
                if i + 1 < out.count { out[i + 1] = Scalar(mean + sd * r * Foundation.sin(2 * .pi * u2)) }
                i += 2
            }
        }
        return DenseMatrix(rows: rows, cols: cols, elements: out)
    }
}
