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
}
