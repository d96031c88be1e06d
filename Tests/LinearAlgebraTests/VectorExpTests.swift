import Foundation
import LinearAlgebra
import Testing

@Suite("vectorExp against Foundation.exp")
struct VectorExpTests {
    @Test func matchesFoundationExp() {
        var values: [Double] = [0, -0.0, 1, -1, 0.5, 1e-300, -1e-300, 700, 709.5, -700, -708.5, -744, 0.34657359, -0.34657359]
        var g = SeededGenerator(seed: 9)
        for _ in 0..<20_000 { values.append(-745 + 1455 * g.nextUnit()) }
        for _ in 0..<20_000 { values.append(-20 + 40 * g.nextUnit()) }
        var out = values
        out.withUnsafeMutableBufferPointer { vectorExp($0.baseAddress!, count: $0.count) }
        var worst = 0.0
        for (x, e) in zip(values, out) {
            let want = Foundation.exp(x)
            // Subnormal results keep fewer digits: compare those in absolute terms.
            worst = max(worst, want < 0x1p-1022 ? abs(e - want) / 0x1p-1022 : abs(e - want) / want)
        }
        #expect(worst < 2e-15, "worst relative error \(worst)")
    }

    @Test func edges() {
        var x: [Double] = [-1e10, -746, 710, 1e300, .infinity, -.infinity, .nan, 3]
        x.withUnsafeMutableBufferPointer { vectorExp($0.baseAddress!, count: $0.count) }
        #expect(x[0] == 0 && x[1] == 0 && x[5] == 0)
        #expect(x[2] == .infinity && x[3] == .infinity && x[4] == .infinity)
        #expect(x[6].isNaN)
        #expect(abs(x[7] - Foundation.exp(3)) <= 2e-15 * Foundation.exp(3))
    }

    @Test func floatMatchesFoundationExp() {
        var values: [Float] = [0, -0.0, 1, -1, 0.5, 1e-30, -1e-30, 88, 88.72, -87, -87.4, -100, -103.9, 0.34657359, -0.34657359]
        var g = SeededGenerator(seed: 10)
        for _ in 0..<20_000 { values.append(Float(-104 + 192.7 * g.nextUnit())) }
        for _ in 0..<20_000 { values.append(Float(-20 + 40 * g.nextUnit())) }
        var out = values
        out.withUnsafeMutableBufferPointer { vectorExp($0.baseAddress!, count: $0.count) }   // count not a multiple of 8: a tail too
        var worst: Float = 0
        for (x, e) in zip(values, out) {
            let want = Foundation.exp(x)
            let unit = max(want.ulp, Float.leastNonzeroMagnitude)
            worst = max(worst, abs(e - want) / unit)
        }
        #expect(worst <= 2, "worst error \(worst) units in the last place")
    }

    @Test func floatEdges() {
        var x: [Float] = [-1e10, -104.5, 88.73, 1e30, .infinity, -.infinity, .nan, 3, -103.5]
        x.withUnsafeMutableBufferPointer { vectorExp($0.baseAddress!, count: $0.count) }
        #expect(x[0] == 0 && x[1] == 0 && x[5] == 0)
        #expect(x[2] == .infinity && x[3] == .infinity && x[4] == .infinity)
        #expect(x[6].isNaN)
        #expect(abs(x[7] - Foundation.exp(Float(3))) <= 2 * Foundation.exp(Float(3)).ulp)
        #expect(x[8] > 0 && x[8] < 1e-44)   // subnormal, not flushed to zero
    }
}
