import LinearAlgebra
import TestSupport
import Testing

/// A plain triple loop: the slow, obviously correct reference for both backends.
func naiveProduct(_ a: Matrix, _ ta: Bool, _ b: Matrix, _ tb: Bool) -> Matrix {
    let opA = ta ? a.transposed() : a, opB = tb ? b.transposed() : b
    var c = Matrix.zeros(rows: opA.rows, cols: opB.cols)
    for i in 0..<opA.rows {
        for j in 0..<opB.cols {
            var s = 0.0
            for p in 0..<opA.cols { s += opA[i, p] * opB[p, j] }
            c[i, j] = s
        }
    }
    return c
}

/// (m, k, n) shapes: tiny, vectors, odd, and past every blocking size.
let productShapes: [(Int, Int, Int)] = [
    (1, 1, 1), (1, 7, 1), (1, 9, 13), (9, 13, 1), (5, 1, 4), (7, 13, 5), (13, 7, 5),
    (4, 8, 8), (17, 33, 9), (64, 64, 64), (300, 200, 170), (97, 300, 2050),
]

@Suite("GEMM and GEMV on both backends")
struct GEMMTests {
    @Test("products agree with the naive loop and between backends", arguments: productShapes)
    func products(shape: (Int, Int, Int)) {
        let (m, k, n) = shape
        var seed: UInt64 = UInt64(m * 1_000_003 + k * 1009 + n)
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            seed += 1
            let a = ta ? Matrix.random(rows: k, cols: m, seed: seed) : Matrix.random(rows: m, cols: k, seed: seed)
            let b = tb ? Matrix.random(rows: n, cols: k, seed: seed + 99) : Matrix.random(rows: k, cols: n, seed: seed + 99)
            let c0 = Matrix.random(rows: m, cols: n, seed: seed + 7)
            var results: [Matrix] = []
            for backend in Backend.allCases {
                var c = c0
                Matrix.multiply(a, transposeA: ta, b, transposeB: tb, alpha: 0.5, beta: -2, into: &c, backend: backend)
                results.append(c)
            }
            expectClose(results[1], results[0], relative: 1e-12, "swift vs blas \(shape) ta=\(ta) tb=\(tb)")
            if m * n * k <= 200_000 {
                let expected = naiveProduct(a, ta, b, tb) * 0.5 + c0 * -2
                expectClose(results[0], expected, relative: 1e-12, "blas vs naive \(shape) ta=\(ta) tb=\(tb)")
            }
        }
    }

    @Test("beta = 0 ignores NaNs already in the output; alpha scales", arguments: Backend.allCases)
    func betaZero(backend: Backend) {
        let a = Matrix.random(rows: 5, cols: 3, seed: 1), b = Matrix.random(rows: 3, cols: 4, seed: 2)
        var c = Matrix(rows: 5, cols: 4, repeating: .nan)
        Matrix.multiply(a, b, alpha: 3, into: &c, backend: backend)
        expectClose(c, naiveProduct(a, false, b, false) * 3)
        var v = Matrix(rows: 1, cols: 4, repeating: .nan)
        Matrix.multiply(a.slicingRows(0..<1), b, into: &v, backend: backend)
        expectClose(v, naiveProduct(a.slicingRows(0..<1), false, b, false))
    }

    @Test("the output buffer is reused, not reallocated", arguments: Backend.allCases)
    func reusesOutput(backend: Backend) {
        let a = Matrix.random(rows: 40, cols: 30, seed: 3), b = Matrix.random(rows: 30, cols: 20, seed: 4)
        var c = Matrix.zeros(rows: 40, cols: 20)
        let before = c.elements.withUnsafeBufferPointer { $0.baseAddress }
        for _ in 0..<3 { Matrix.multiply(a, b, into: &c, backend: backend) }
        let after = c.elements.withUnsafeBufferPointer { $0.baseAddress }
        #expect(before == after)
    }

    @Test("thread counts 1 and 2 give the same products")
    func threads() throws {
        let saved = LinearAlgebra.threadCount
        defer { try? LinearAlgebra.setThreadCount(saved) }
        let a = Matrix.random(rows: 130, cols: 150, seed: 5), b = Matrix.random(rows: 150, cols: 170, seed: 6)
        let x = Matrix.random(rows: 1, cols: 150, seed: 7)
        var out: [Matrix] = []
        for t in [1, 2] {
            try LinearAlgebra.setThreadCount(t)
            #expect(LinearAlgebra.threadCount == t)
            for backend in Backend.allCases {
                out.append(a.matmul(b, backend: backend))
                out.append(x.matmul(b, backend: backend))
            }
        }
        for i in stride(from: 2, to: out.count, by: 2) {
            expectClose(out[i], out[0])
            expectClose(out[i + 1], out[1])
        }
        #expect(throws: LinearAlgebraError.self) { try LinearAlgebra.setThreadCount(0) }
    }
}
