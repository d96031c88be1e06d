import LinearAlgebra
import TestSupport
import Testing

/// A random matrix whose elements are all exactly `Float`s, as an F32 checkpoint's are.
func floatValued(rows: Int, cols: Int, seed: UInt64) -> Matrix {
    Matrix.random(rows: rows, cols: cols, seed: seed, distribution: .normal(mean: 0, standardDeviation: 1)).map { Double(Float($0)) }
}

@Suite("WeightMatrix: Double, lossless Float, or both")
struct WeightMatrixTests {
    @Test func storageFollowsExactness() {
        let exact = floatValued(rows: 3, cols: 5, seed: 1)
        #expect(WeightMatrix(exact).precision == .double)
        #expect(WeightMatrix(compacting: exact).precision == .float32)
        #expect(WeightMatrix(exact, precision: .both).precision == .both)
        #expect(WeightMatrix(compacting: exact).byteCount == 15 * 4)
        #expect(WeightMatrix(exact, precision: .both).byteCount == 15 * 12)
        #expect(WeightMatrix(compacting: exact).matrix == exact)
        // 0.1 is not a Float, nor is a value beyond Float's range: such matrices stay Double.
        for inexact in [0.1, 1e300, 1e-310] {
            var m = exact
            m[1, 2] = inexact
            #expect(WeightMatrix(compacting: m).precision == .double, "\(inexact)")
            #expect(WeightMatrix(m, precision: .both).precision == .double, "\(inexact)")
            #expect(WeightMatrix(compacting: m).matrix == m)
        }
    }

    @Test func addRow() {
        let m = floatValued(rows: 4, cols: 7, seed: 2)
        for precision in WeightMatrix.Precision.allCases {
            var out = [Double](repeating: 1, count: 7)
            out.withUnsafeMutableBufferPointer { WeightMatrix(m, precision: precision).addRow(2, to: $0.baseAddress!) }
            #expect(out == m[row: 2].map { $0 + 1 }, "\(precision)")
        }
    }

    /// Every storage, backend, orientation and row count against `Matrix.multiply`:
    /// one row (GEMV), a few rows (GEMM) and a matrix big enough to take several panels.
    @Test(arguments: Backend.allCases, WeightMatrix.Precision.allCases)
    func productsMatchDouble(backend: Backend, precision: WeightMatrix.Precision) {
        for (rows, cols) in [(1, 1), (37, 50), (300, 1000), (1000, 300)] {
            let w = floatValued(rows: rows, cols: cols, seed: UInt64(rows * cols))
            let weights = WeightMatrix(w, precision: precision)
            for transposed in [false, true] {
                for m in [1, 3, 70, 130] {   // 130: past widenFromRows, the widened panels on blas
                    let x = Matrix.random(rows: m, cols: transposed ? cols : rows, seed: 9)
                    let start = Matrix.random(rows: m, cols: transposed ? rows : cols, seed: 10)
                    for beta in [0.0, 1.0] {
                        var want = start
                        Matrix.multiply(x, w, transposeB: transposed, beta: beta, into: &want, backend: .blas)
                        var got = start
                        x.elements.withUnsafeBufferPointer { xp in
                            got.elements.withUnsafeMutableBufferPointer { yp in
                                weights.multiply(xp.baseAddress!, rows: m, transposed: transposed, into: yp.baseAddress!,
                                                 beta: beta, backend: backend)
                            }
                        }
                        expectClose(got, want, relative: 1e-12,
                                    "\(precision) \(backend) [\(m), …] · [\(rows), \(cols)]\(transposed ? "ᵀ" : "") beta \(beta)")
                    }
                }
            }
        }
    }
}
