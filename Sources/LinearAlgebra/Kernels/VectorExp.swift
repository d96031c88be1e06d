/// `e^x` for four doubles at once, to within a few units in the last place of
/// `Foundation.exp` (a relative error below 1e-15), for the transformer's
/// softmax and GELU loops where `exp` dominates the non-matrix time.
///
/// Range reduction `x = k·ln 2 + r` with `|r| ≤ ln 2 / 2`, a degree-12 Taylor
/// polynomial for `e^r`, and `2^k` applied as two halves built from their bits
/// (so subnormal results and results near the top of the range are right).
/// Below −745.2 the result is 0, above 709.79 `+∞`; NaN stays NaN.
@inlinable @inline(__always)
package func vectorExp(_ x: SIMD4<Double>) -> SIMD4<Double> {
    let log2e = 1.4426950408889634, ln2Hi = 0.693147180369123816490, ln2Lo = 1.90821492927058770002e-10
    let nan = x .!= x
    // Masks, not `clamped(lowerBound:upperBound:)`, which is not inlined.
    var clamped = x.replacing(with: 0, where: nan)
    clamped.replace(with: -745.2, where: clamped .< -745.2)
    clamped.replace(with: 709.79, where: clamped .> 709.79)
    // Adding 1.5·2⁵² rounds to an integer and leaves it in the low bits, with no
    // scalar rounding or conversion calls (SIMD's `rounded` is not vectorised).
    let shifter = 0x1.8p52
    let t = clamped * log2e + shifter
    let k = t - shifter
    let r = (clamped - k * ln2Hi) - k * ln2Lo
    // e^r = Σ rⁿ/n!, n ≤ 12, by Horner's rule.
    var p = SIMD4<Double>(repeating: 1.0 / 479001600)
    p = p * r + 1.0 / 39916800
    p = p * r + 1.0 / 3628800
    p = p * r + 1.0 / 362880
    p = p * r + 1.0 / 40320
    p = p * r + 1.0 / 5040
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let n = unsafeBitCast(t, to: SIMD4<Int64>.self) &- Int64(bitPattern: shifter.bitPattern)
    let half = n &>> 1
    let low = unsafeBitCast((half &+ 1023) &<< 52, to: SIMD4<Double>.self)
    let high = unsafeBitCast((n &- half &+ 1023) &<< 52, to: SIMD4<Double>.self)
    var result = (p * high) * low
    result.replace(with: 0, where: x .< -745.2)
    result.replace(with: .infinity, where: x .> 709.79)
    result.replace(with: .nan, where: nan)
    return result
}

/// `e^x` for eight floats at once, to within two units in the last place of
/// `Foundation.exp` on `Float` (`Float`'s own precision, for the `float32`
/// model; ``vectorExp(_:)-(SIMD4<Double>)`` serves `Double`).
///
/// The same method as the `Double` version, sized for `Float`: `|r| ≤ ln 2 / 2`,
/// a degree-7 Taylor polynomial (its truncation error, `r⁸/8!`, is below
/// 6e-9), and `2^k` as two halves. Below −104 the result is 0, above
/// 88.7228 `+∞`; NaN stays NaN.
///
/// Written out for each scalar, like ``MatrixScalar/multiplyAdd(_:_:_:)``: one
/// function generic over the SIMD type compiles its lane comparisons to a loop
/// per lane (docs/PERFORMANCE.md has what that cost).
@inlinable @inline(__always)
package func vectorExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let log2e: Float = 1.44269504, ln2Hi: Float = 0.693145751953125, ln2Lo: Float = 1.42860677e-6
    let nan = x .!= x
    var clamped = x.replacing(with: 0, where: nan)
    clamped.replace(with: -104, where: clamped .< -104)
    clamped.replace(with: 88.75, where: clamped .> 88.75)
    let shifter: Float = 0x1.8p23                                        // rounds to an integer in the low bits
    let t = clamped * log2e + shifter
    let k = t - shifter
    let r = (clamped - k * ln2Hi) - k * ln2Lo                             // ln2Hi · k is exact for |k| ≤ 512
    var p = SIMD8<Float>(repeating: 1.0 / 5040)                           // e^r = Σ rⁿ/n!, n ≤ 7
    p = p * r + 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let n = unsafeBitCast(t, to: SIMD8<Int32>.self) &- Int32(bitPattern: shifter.bitPattern)
    let half = n &>> 1
    let low = unsafeBitCast((half &+ 127) &<< 23, to: SIMD8<Float>.self)
    let high = unsafeBitCast((n &- half &+ 127) &<< 23, to: SIMD8<Float>.self)
    var result = (p * high) * low
    result.replace(with: 0, where: x .< -104)
    result.replace(with: .infinity, where: x .> 88.7228394)
    result.replace(with: .nan, where: nan)
    return result
}

extension MatrixScalar {
    /// `e^v` lane by lane, in `Self`'s own precision (see the two `vectorExp`s).
    @inlinable @inline(__always)
    package static func exp(_ v: Vector) -> Vector {
        if Self.self == Double.self {
            return unsafeBitCast(vectorExp(unsafeBitCast(v, to: SIMD4<Double>.self)), to: Vector.self)
        }
        return unsafeBitCast(vectorExp(unsafeBitCast(v, to: SIMD8<Float>.self)), to: Vector.self)
    }
}

/// `x[i] = e^(x[i])` for `count` elements, a ``MatrixScalar/Vector`` at a time
/// (see ``MatrixScalar/exp(_:)``).
@_specialize(where S == Double)
@_specialize(where S == Float)
package func vectorExp<S: MatrixScalar>(_ x: UnsafeMutablePointer<S>, count: Int) {
    let raw = UnsafeMutableRawPointer(x), lanes = S.lanes
    var i = 0
    while i + lanes <= count {
        S.storeVector(S.exp(S.loadVector(raw, i, from: S.self)), raw, i)
        i += lanes
    }
    if i < count {
        var tail = S.Vector()
        for j in i..<count { tail[j - i] = x[j] }
        let e = S.exp(tail)
        for j in i..<count { x[j] = e[j - i] }
    }
}
