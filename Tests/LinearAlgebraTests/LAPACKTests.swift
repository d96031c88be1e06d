import LinearAlgebra
import RealModule
import TestSupport
import Testing

@Suite("LAPACK: solve, inverse, determinant")
struct LAPACKTests {
    @Test("known values by hand", arguments: Backend.allCases)
    func known(backend: Backend) throws {
        // det [[2, 1], [5, 3]] = 1, inverse [[3, -1], [-5, 2]].
        let a = Matrix([[2, 1], [5, 3]])
        #expect(try a.determinant(backend: backend).isApproximatelyEqual(to: 1, relativeTolerance: 1e-14))
        expectClose(try a.inverse(backend: backend), Matrix([[3, -1], [-5, 2]]), relative: 1e-14)
        // A row swap flips the sign: det [[0, 1], [1, 0]] = -1.
        #expect(try Matrix([[0, 1], [1, 0]]).determinant(backend: backend) == -1)
        // 2x + y = 3, 5x + 3y = 8  ->  x = 1, y = 1.
        expectClose(try solve(a, Matrix([[3], [8]]), backend: backend), Matrix([[1], [1]]), relative: 1e-14)
    }

    @Test("A · inverse(A) ≈ I, small residual, backends agree", arguments: [1, 3, 10, 64, 150])
    func random(n: Int) throws {
        let a = Matrix.random(rows: n, cols: n, seed: UInt64(n)) + Matrix.identity(n) * Double(n)
        let b = Matrix.random(rows: n, cols: 3, seed: 77)
        var inverses: [Matrix] = [], solutions: [Matrix] = [], dets: [Double] = []
        for backend in Backend.allCases {
            let inv = try a.inverse(backend: backend)
            expectClose(a.matmul(inv, backend: backend), .identity(n), relative: 1e-10, "A·A⁻¹ (\(backend))")
            let x = try solve(a, b, backend: backend)
            expectClose(a.matmul(x, backend: backend), b, relative: 1e-10, "residual (\(backend))")
            inverses.append(inv); solutions.append(x); dets.append(try a.determinant(backend: backend))
        }
        expectClose(inverses[1], inverses[0], relative: 1e-10)
        expectClose(solutions[1], solutions[0], relative: 1e-10)
        #expect(dets[1].isApproximatelyEqual(to: dets[0], relativeTolerance: 1e-10))
    }

    @Test("singular and non-square inputs throw", arguments: Backend.allCases)
    func errors(backend: Backend) throws {
        let singular = Matrix([[1, 2], [2, 4]])
        #expect(throws: LinearAlgebraError.self) { try singular.inverse(backend: backend) }
        #expect(throws: LinearAlgebraError.self) { try solve(singular, Matrix([[1], [2]]), backend: backend) }
        #expect(try singular.determinant(backend: backend) == 0)
        let wide = Matrix.zeros(rows: 2, cols: 3)
        #expect(throws: LinearAlgebraError.notSquare(rows: 2, cols: 3)) { try wide.inverse(backend: backend) }
        #expect(throws: LinearAlgebraError.notSquare(rows: 2, cols: 3)) { try wide.determinant(backend: backend) }
        #expect(throws: LinearAlgebraError.shapeMismatch(matrix: "[2, 2]", rightHandSide: "[3, 1]")) {
            try solve(Matrix.identity(2), Matrix.zeros(rows: 3, cols: 1), backend: backend)
        }
        do {
            _ = try Matrix.zeros(rows: 3, cols: 3).inverse(backend: backend)
            Issue.record("zero matrix inverted")
        } catch let error as LinearAlgebraError {
            #expect(error.description.contains("singular"))
        }
    }

    /// The Hilbert matrix H[i, j] = 1 / (i + j + 1): famously ill-conditioned (κ₁ ≈ 1e10 at n = 8, 1e19 at n = 14).
    static func hilbert(_ n: Int) -> Matrix {
        Matrix(rows: n, cols: n, elements: (0..<n * n).map { 1 / Double($0 / n + $0 % n + 1) })
    }

    @Test("numerically singular matrices throw instead of returning huge numbers", arguments: Backend.allCases)
    func numericallySingular(backend: Backend) throws {
        let m = Matrix([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
        #expect(try m.reciprocalCondition(backend: backend) < 1e-15)
        for bad in [m, LAPACKTests.hilbert(14)] {
            do {
                let x = try bad.inverse(backend: backend)
                Issue.record("inverted a numerically singular matrix: \(x)")
            } catch let error as LinearAlgebraError {
                if case .illConditioned = error {} else if case .singular = error {} else { Issue.record("\(error)") }
            }
            #expect(throws: LinearAlgebraError.self) { try solve(bad, Matrix.zeros(rows: bad.rows, cols: 1) + 1, backend: backend) }
        }
        // Ill-conditioned but not singular to working precision: solved, with a small residual.
        let h = LAPACKTests.hilbert(8), b = Matrix(rows: 8, cols: 1, repeating: 1)
        let x = try solve(h, b, backend: backend)
        expectClose(h.matmul(x), b, relative: 1e-6)
    }

    @Test("condition estimates: both backends near the true value")
    func conditionEstimates() throws {
        for (n, seed) in [(5, 1), (20, 2), (60, 3)] as [(Int, UInt64)] {
            let a = Matrix.random(rows: n, cols: n, seed: seed)
            let inverse = try a.inverse(backend: .blas)
            func norm1(_ m: Matrix) -> Double {
                (0..<m.cols).map { c in (0..<m.rows).reduce(0) { $0 + Swift.abs(m[$1, c]) } }.max()!
            }
            let exact = 1 / (norm1(a) * norm1(inverse))
            for backend in Backend.allCases {
                let estimate = try a.reciprocalCondition(backend: backend)
                // An estimate of ‖A⁻¹‖₁ never exceeds it, and is rarely far below.
                #expect(estimate >= exact * (1 - 1e-9) && estimate <= 10 * exact, "n \(n) \(backend): \(estimate) vs \(exact)")
            }
        }
        #expect(try Matrix.identity(4).reciprocalCondition() == 1)
        #expect(try Matrix([[1, 2], [2, 4]]).reciprocalCondition() == 0)
    }

    @Test("NaN or infinite elements throw", arguments: Backend.allCases)
    func notFinite(backend: Backend) {
        for bad in [Double.nan, .infinity] {
            let m = Matrix([[1, 2], [3, bad]])
            #expect(throws: LinearAlgebraError.notFinite) { try m.inverse(backend: backend) }
            #expect(throws: LinearAlgebraError.notFinite) { try m.determinant(backend: backend) }
            #expect(throws: LinearAlgebraError.notFinite) { try solve(Matrix.identity(2), Matrix([[1], [bad]]), backend: backend) }
        }
    }
}
