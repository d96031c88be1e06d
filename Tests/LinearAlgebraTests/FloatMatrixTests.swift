@testable import LinearAlgebra
import RealModule
import TestSupport
import Testing

/// `Float` matrices run the same generic code as `Double` ones, on
/// `cblas_sgemm`/`sgemv` and LAPACK's `s` routines or the pure-Swift kernels
/// with 16-lane tiles. References: the `Double` products of the same
/// (exactly widened) inputs, and NumPy's fixture.
@Suite("Float matrices on both backends")
struct FloatMatrixTests {
    /// A `Float` random matrix and its exact `Double` twin.
    func pair(rows: Int, cols: Int, seed: UInt64) -> (FloatMatrix, Matrix) {
        let f = FloatMatrix.random(rows: rows, cols: cols, seed: seed)
        return (f, Matrix(f))
    }

    @Test("products agree with Double and between backends",
          arguments: [(1, 1, 1), (1, 9, 37), (37, 13, 1), (7, 13, 5), (17, 33, 9), (64, 64, 64), (97, 300, 130)])
    func products(shape: (Int, Int, Int)) {
        let (m, k, n) = shape
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let (a, a64) = ta ? pair(rows: k, cols: m, seed: 1) : pair(rows: m, cols: k, seed: 1)
            let (b, b64) = tb ? pair(rows: n, cols: k, seed: 2) : pair(rows: k, cols: n, seed: 2)
            let (c0, c064) = pair(rows: m, cols: n, seed: 3)
            var expected = c064
            Matrix.multiply(a64, transposeA: ta, b64, transposeB: tb, alpha: 0.5, beta: -2, into: &expected, backend: .blas)
            var results: [FloatMatrix] = []
            for backend in Backend.allCases {
                var c = c0
                FloatMatrix.multiply(a, transposeA: ta, b, transposeB: tb, alpha: 0.5, beta: -2, into: &c, backend: backend)
                expectClose(c, expected, relative: 1e-5, "\(backend) vs Double \(shape) ta=\(ta) tb=\(tb)")
                results.append(c)
            }
            expectClose(results[1], Matrix(results[0]), relative: 1e-5, "swift vs blas \(shape) ta=\(ta) tb=\(tb)")
        }
    }

    @Test("both register tiles, 16 lanes wide", arguments: SwiftGEMM.Tile.allCases)
    func tiles(tile: SwiftGEMM.Tile) {
        for (m, k, n) in [(1, 1, 1), (3, 5, 17), (7, 13, 5), (97, 300, 130), (130, 257, 33)] {
            let (a, a64) = pair(rows: m, cols: k, seed: 4)
            let (b, b64) = pair(rows: n, cols: k, seed: 5)
            var actual = FloatMatrix.zeros(rows: m, cols: n)
            a.elements.withUnsafeBufferPointer { pa in
                b.elements.withUnsafeBufferPointer { pb in
                    actual.elements.withUnsafeMutableBufferPointer { pc in
                        SwiftGEMM.run(pa.baseAddress!, lda: k, transposeA: false, pb.baseAddress!, ldb: k, transposeB: true,
                                      pc.baseAddress!, ldc: n, m: m, n: n, k: k, alpha: 1, beta: 0, threads: 2, tile: tile)
                    }
                }
            }
            expectClose(actual, a64.matmul(b64, transposeOther: true), relative: 1e-5, "tile \(tile) [\(m), \(k), \(n)]")
        }
    }

    @Test("NumPy's products, in Float", arguments: Backend.allCases)
    func numpy(backend: Backend) throws {
        let f: LinalgFixture = try loadFixture("linalg.json")
        let a = FloatMatrix(Matrix(f.gemm.a)), b = FloatMatrix(Matrix(f.gemm.b))
        // The fixture's inputs are Doubles: rounding them to Float moves the product by ~1e-7 relative.
        expectClose(a.matmul(b, backend: backend), Matrix(f.gemm.ab), relative: 1e-5, "a·b")
        let x = FloatMatrix(Matrix(f.gemv.x)), w = FloatMatrix(Matrix(f.gemv.b))
        expectClose(x.matmul(w, backend: backend), Matrix(f.gemv.xb), relative: 1e-5, "x·W")
        expectClose(FloatMatrix(Matrix(f.rows.x)).rowSum(), Matrix(f.rows.sum), relative: 1e-5, "row sums")
    }

    @Test("solve, inverse, determinant in Float agree with Double and between backends", arguments: [1, 3, 10, 64])
    func lapack(n: Int) throws {
        let (a, a64) = pair(rows: n, cols: n, seed: UInt64(n))
        let shift = FloatMatrix.identity(n) * Float(n)
        let af = a + shift, ad = a64 + Matrix(shift)
        let (b, b64) = pair(rows: n, cols: 2, seed: 9)
        var solutions: [FloatMatrix] = []
        for backend in Backend.allCases {
            let x = try solve(af, b, backend: backend)
            expectClose(x, try solve(ad, b64), relative: 1e-4, "solve (\(backend))")
            expectClose(af.matmul(try af.inverse(backend: backend), backend: backend), .identity(n), relative: 1e-5,
                        "A·A⁻¹ (\(backend))")
            if n <= 10 {   // det of the 64 × 64 matrix is ~1e115, past Float's range
                let det = Double(try af.determinant(backend: backend)), det64 = try ad.determinant()
                #expect(det.isApproximatelyEqual(to: det64, relativeTolerance: 1e-4), "det \(det) vs \(det64) (\(backend))")
            }
            solutions.append(x)
        }
        expectClose(solutions[1], Matrix(solutions[0]), relative: 1e-5)
    }

    @Test("near-singular in Float precision throws", arguments: Backend.allCases)
    func singular(backend: Backend) {
        // Exactly singular in real arithmetic; in Float its condition number is far past 1 / Float.ulpOfOne.
        let a = FloatMatrix([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
        #expect(throws: LinearAlgebraError.self) { try a.inverse(backend: backend) }
        #expect(throws: LinearAlgebraError.self) { try FloatMatrix([[1, 2], [2, 4]]).inverse(backend: backend) }
    }
}
