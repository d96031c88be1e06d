@testable import LinearAlgebra
import TestSupport
import Testing

@Suite("Both pure-Swift register tiles")
struct TileTests {
    @Test(arguments: SwiftGEMM.Tile.allCases)
    func tileAgreesWithBLAS(tile: SwiftGEMM.Tile) {
        for (m, k, n) in [(1, 1, 1), (3, 5, 7), (7, 13, 5), (97, 300, 130), (130, 257, 9)] {
            for (ta, tb) in [(false, false), (true, true), (true, false)] {
                let a = ta ? Matrix.random(rows: k, cols: m, seed: 1) : Matrix.random(rows: m, cols: k, seed: 1)
                let b = tb ? Matrix.random(rows: n, cols: k, seed: 2) : Matrix.random(rows: k, cols: n, seed: 2)
                var expected = Matrix.random(rows: m, cols: n, seed: 3)
                var actual = expected
                Matrix.multiply(a, transposeA: ta, b, transposeB: tb, alpha: 1.5, beta: 0.5, into: &expected, backend: .blas)
                a.elements.withUnsafeBufferPointer { pa in
                    b.elements.withUnsafeBufferPointer { pb in
                        actual.elements.withUnsafeMutableBufferPointer { pc in
                            SwiftGEMM.run(pa.baseAddress!, lda: a.cols, transposeA: ta, pb.baseAddress!, ldb: b.cols, transposeB: tb,
                                          pc.baseAddress!, ldc: n, m: m, n: n, k: k, alpha: 1.5, beta: 0.5, threads: 2, tile: tile)
                        }
                    }
                }
                expectClose(actual, expected, relative: 1e-12, "tile \(tile) [\(m), \(k), \(n)] ta=\(ta) tb=\(tb)")
            }
        }
    }
}
