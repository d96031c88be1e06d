import Foundation
import LinearAlgebra
import RealModule
import TestSupport
import Testing

/// The NumPy reference written by `scripts/make_linalg_fixtures.py`.
struct LinalgFixture: Decodable {
    struct GEMM: Decodable { let a, b, c, ab, general: [[Double]]; let alpha, beta: Double }
    struct GEMV: Decodable { let x, b, xb, bt_x: [[Double]] }
    struct LAPACK: Decodable { let a, inverse, b, solution: [[Double]]; let determinant: Double }
    struct Rows: Decodable {
        let x, max, sum, mean, `var`, exp, tanh: [[Double]]
        let argmax: [Int]
    }
    let gemm: GEMM, gemv: GEMV, lapack: LAPACK, rows: Rows
}

@Suite("Results against NumPy")
struct FixtureTests {
    let f: LinalgFixture
    init() throws { f = try loadFixture("linalg.json") }

    @Test(arguments: Backend.allCases)
    func products(backend: Backend) {
        let a = Matrix(f.gemm.a), b = Matrix(f.gemm.b)
        expectClose(a.matmul(b, backend: backend), Matrix(f.gemm.ab), "a·b")
        var c = Matrix(f.gemm.c)
        Matrix.multiply(a, b, alpha: f.gemm.alpha, beta: f.gemm.beta, into: &c, backend: backend)
        expectClose(c, Matrix(f.gemm.general), "alpha·a·b + beta·c")
        let x = Matrix(f.gemv.x), w = Matrix(f.gemv.b)
        expectClose(x.matmul(w, backend: backend), Matrix(f.gemv.xb), "x·W")
        // Wᵀ·xᵀ through the transpose flags: [5, 13]·[13, 1].
        var y = Matrix.zeros(rows: 5, cols: 1)
        Matrix.multiply(w, transposeA: true, x, transposeB: true, into: &y, backend: backend)
        expectClose(y, Matrix(f.gemv.bt_x), "Wᵀ·xᵀ")
    }

    @Test(arguments: Backend.allCases)
    func lapack(backend: Backend) throws {
        let a = Matrix(f.lapack.a)
        expectClose(try a.inverse(backend: backend), Matrix(f.lapack.inverse), relative: 1e-10, "inverse")
        expectClose(try solve(a, Matrix(f.lapack.b), backend: backend), Matrix(f.lapack.solution), relative: 1e-10, "solve")
        let det = try a.determinant(backend: backend)
        #expect(det.isApproximatelyEqual(to: f.lapack.determinant, relativeTolerance: 1e-10))
    }

    @Test func rowwise() {
        let x = Matrix(f.rows.x)
        expectClose(x.rowMax(), Matrix(f.rows.max), "max")
        expectClose(x.rowSum(), Matrix(f.rows.sum), "sum")
        expectClose(x.rowMean(), Matrix(f.rows.mean), "mean")
        expectClose(x.rowVariance(), Matrix(f.rows.var), "variance")
        expectClose(x.exp(), Matrix(f.rows.exp), "exp")
        expectClose(x.tanh(), Matrix(f.rows.tanh), "tanh")
        #expect(x.rowArgmax() == f.rows.argmax)
    }
}
