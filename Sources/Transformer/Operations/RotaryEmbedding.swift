import Foundation
import LinearAlgebra

/// Rotary position embedding (RoPE), as the Llama family applies it to queries
/// and keys: a head's vector of width `hd` is split into halves, and the pair
/// `(x[i], x[i + hd/2])` at position `p` is rotated by the angle `p · f[i]`, where
/// `f[i] = θ^(−2i/hd)`, optionally rescaled as Llama 3 does (``GPTConfig/RopeScaling``).
/// It has no weights. JSON: `{"theta": 10000, "scaling": {…}}` (both optional;
/// inside a model they equal the config's `rope_theta` and `rope_scaling`).
public struct RotaryEmbedding: OperationModel, ParameterModule, Equatable {
    /// The base of the frequencies, above 1.
    public private(set) var theta: Double
    /// The Llama 3 rescaling of the frequencies, if any.
    public private(set) var scaling: GPTConfig.RopeScaling?

    /// A rotary embedding with base `theta`.
    ///
    /// - Throws: ``ModelError`` for a base that is not a finite number above 1.
    public init(theta: Double = 10_000, scaling: GPTConfig.RopeScaling? = nil) throws {
        self.theta = theta
        self.scaling = scaling
        try validate()
    }

    package static var blank: RotaryEmbedding { try! RotaryEmbedding() }

    package mutating func visit<V: ParameterVisitor>(_ v: inout V) throws {
        try v.setting("theta", &theta, bound: \.ropeTheta, fallback: 10_000)
        try v.setting("scaling", &scaling, bound: \.ropeScaling, fallback: nil)
        try v.require(theta.isFinite && theta > 1, "theta", "must be a finite number above 1, found \(theta)")
    }

    /// Rotates each row of `x` (`[n, hd]`, one head, `hd` even) as the position
    /// of its index: row `i` is at position `i`.
    public func callAsFunction<S: MatrixScalar>(_ x: DenseMatrix<S>, backend: Backend) -> DenseMatrix<S> {
        precondition(x.cols % 2 == 0, "RotaryEmbedding: a head's width must be even, found \(x.cols)")
        var y = x                                                                        // [n, hd]
        let angles = Workspace()
        y.elements.withUnsafeMutableBufferPointer {
            apply($0.baseAddress!, rows: x.rows, stride: x.cols, heads: 1, headSize: x.cols, start: 0, workspace: angles)
        }
        return y                                                                         // [n, hd]
    }

    /// The frequency of pair `i` of a head of width `hd`: `θ^(−2i/hd)`, rescaled
    /// for Llama 3 when ``scaling`` says so.
    func frequency(_ i: Int, headSize hd: Int) -> Double {
        let f = 1 / pow(theta, Double(2 * i) / Double(hd))
        guard let s = scaling else { return f }
        let wavelength = 2 * Double.pi / f, context = Double(s.originalContext)
        if wavelength < context / s.highFreqFactor { return f }                         // short: kept
        if wavelength > context / s.lowFreqFactor { return f / s.factor }               // long: stretched
        let smooth = (context / wavelength - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor)
        return (1 - smooth) * f / s.factor + smooth * f                                  // between: interpolated
    }

    /// Rotates `heads` heads of width `hd` in each of `n` rows of `x` (row `i`
    /// at `x + i · stride`, head `h` at `+ h · hd`), in place; row `i` is at
    /// position `start + i`. The angles are worked out once per row, in `Double`,
    /// in `ws`'s rotary buffer, and shared by the heads.
    package func apply<S: MatrixScalar>(_ x: UnsafeMutablePointer<S>, rows n: Int, stride: Int, heads: Int, headSize hd: Int,
                                        start: Int, workspace ws: Workspace) {
        let half = hd / 2
        let table = ws.buffer(.rotary, 3 * half + 1, of: Double.self)                  // [half] cosines, [half] sines, [half] frequencies
        for j in 0..<half { table[2 * half + j] = frequency(j, headSize: hd) }
        for i in 0..<n {
            let position = Double(start + i)
            for j in 0..<half {
                let angle = position * table[2 * half + j]
                (table[j], table[half + j]) = (cos(angle), sin(angle))
            }
            for h in 0..<heads {
                let v = x + i * stride + h * hd
                for j in 0..<half {
                    let (a, b) = (Double(v[j]), Double(v[half + j]))
                    v[j] = S(a * table[j] - b * table[half + j])
                    v[half + j] = S(b * table[j] + a * table[half + j])
                }
            }
        }
    }
}
