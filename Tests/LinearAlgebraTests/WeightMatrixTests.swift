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
        #expect(WeightMatrix(exact).precision == .float64)
        #expect(WeightMatrix(compacting: exact).precision == .float32)
        #expect(WeightMatrix(exact, precision: .both).precision == .both)
        #expect(WeightMatrix(compacting: exact).byteCount == 15 * 4)
        #expect(WeightMatrix(exact, precision: .both).byteCount == 15 * 12)
        #expect(WeightMatrix(compacting: exact).matrix == exact)
        // 0.1 is not a Float, nor is a value beyond Float's range: such matrices stay Double.
        for inexact in [0.1, 1e300, 1e-310] {
            var m = exact
            m[1, 2] = inexact
            #expect(WeightMatrix(compacting: m).precision == .float64, "\(inexact)")
            #expect(WeightMatrix(m, precision: .both).precision == .float64, "\(inexact)")
            #expect(WeightMatrix(compacting: m).matrix == m)
        }
    }

    /// Arrays whose pages are advised huge hold what they were given, small or large.
    @Test func hugePageArrays() {
        for count in [0, 5, 1 << 20] {
            let a: [Float] = hugePageArray(count: count) { for i in $0.indices { $0[i] = Float(i % 1000) } }
            #expect(a.count == count && a.indices.allSatisfy { a[$0] == Float($0 % 1000) }, "\(count)")
        }
    }

    /// Weight buffers hold what they were given, start a cache line (from 2 MiB
    /// on, a 2 MiB page), compare by their elements, and free what a throwing fill leaves.
    @Test func weightBuffers() throws {
        for count in [0, 5, 1 << 20] {
            let buffer = WeightBuffer<Float>(count: count) { for i in $0.indices { $0[i] = Float(i % 1000) } }
            #expect(buffer.count == count && buffer.indices.allSatisfy { buffer[$0] == Float($0 % 1000) }, "\(count)")
            let address = buffer.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }
            #expect(address % (count * 4 >= 1 << 21 ? 1 << 21 : 64) == 0, "\(count)")
            #expect(buffer == WeightBuffer(Array(buffer)))
            #expect(count == 0 || buffer != WeightBuffer(buffer.map { $0 + 1 }))
        }
        struct Stop: Error {}
        #expect(throws: Stop.self) { _ = try WeightBuffer<Double>(count: 10) { _ in throw Stop() } }
    }

    @Test func addRow() {
        let m = floatValued(rows: 4, cols: 7, seed: 2)
        for precision in wideStorages {
            let weights = WeightMatrix(m, precision: precision)
            for layout in [weights, weights.transposingFloats()] {
                var out = [Double](repeating: 1, count: 7)
                out.withUnsafeMutableBufferPointer { layout.addRow(2, to: $0.baseAddress!) }
                #expect(out == m[row: 2].map { $0 + 1 }, "\(precision) transposed \(layout.floatsTransposed)")
            }
        }
    }

    /// Every storage, backend, orientation and row count against `Matrix.multiply`:
    /// one row (GEMV), a few rows (GEMM) and matrices past the GEMV's and GEMM's
    /// parallel thresholds, neither side a multiple of a register tile.
    @Test(arguments: Backend.allCases, wideStorages)
    func productsMatchDouble(backend: Backend, precision: WeightMatrix.Precision) {
        for (rows, cols) in [(1, 1), (37, 50), (264, 520), (520, 264)] {
            let w = floatValued(rows: rows, cols: cols, seed: UInt64(rows * cols))
            let stored = WeightMatrix(w, precision: precision)
            for weights in [stored, stored.transposingFloats()] {
            for transposed in [false, true] {
                for m in [1, 3, 130] {   // 3: the GEMM below widenFromRows; 130: past it, the widened panels on blas
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
                                    "\(precision) \(backend) [\(m), …] · [\(rows), \(cols)]\(transposed ? "ᵀ" : "") beta \(beta), Floats transposed \(weights.floatsTransposed)")
                    }
                }
            }
            }
        }
    }

    /// Floats kept transposed are the same matrix: equal, the same elements
    /// and rows, and the layout survives a change of precision.
    @Test(arguments: wideStorages)
    func transposedFloatsAreTheSameMatrix(precision: WeightMatrix.Precision) {
        let w = floatValued(rows: 45, cols: 70, seed: 3)
        let plain = WeightMatrix(w, precision: precision), t = plain.transposingFloats()
        #expect(t.floatsTransposed && !plain.floatsTransposed)
        #expect(t == plain)
        #expect(t != WeightMatrix(w.map { $0 + 1 }, precision: precision).transposingFloats())
        #expect(t.matrix == w)
        for other in wideStorages {
            #expect(t.stored(as: other).matrix == w, "\(precision) -> \(other)")
            #expect(t.stored(as: other).floatsTransposed, "\(precision) -> \(other)")
            #expect(t.stored(as: other) == plain.stored(as: other), "\(precision) -> \(other)")
        }
        #expect(t.roundedToFloat().floatsTransposed && t.roundedToFloat().matrix == w)
        #expect(t.roundedToFloat() == plain.roundedToFloat())
    }

    /// Products with `Float` activations read transposed Floats as they read row-major ones.
    @Test(arguments: Backend.allCases)
    func floatProductsWithTransposedFloats(backend: Backend) {
        let w = floatValued(rows: 300, cols: 170, seed: 4)
        let plain = WeightMatrix(w, precision: .float32), t = plain.transposingFloats()
        for transposed in [false, true] {
            for m in [1, 3, 130] {
                let x = FloatMatrix(Matrix.random(rows: m, cols: transposed ? 170 : 300, seed: 5))
                func product(_ weights: WeightMatrix) -> FloatMatrix {
                    var y = FloatMatrix(rows: m, cols: transposed ? 300 : 170, repeating: 0)
                    x.elements.withUnsafeBufferPointer { xp in
                        y.elements.withUnsafeMutableBufferPointer { yp in
                            weights.multiply(xp.baseAddress!, rows: m, transposed: transposed, into: yp.baseAddress!, backend: backend)
                        }
                    }
                    return y
                }
                var want = Matrix.zeros(rows: m, cols: transposed ? 300 : 170)
                Matrix.multiply(Matrix(x), w, transposeB: transposed, into: &want, backend: .blas)
                expectClose(product(t), want, relative: 1e-5, "\(backend) m \(m) transposed \(transposed)")
                expectClose(product(plain), want, relative: 1e-5, "\(backend) m \(m) transposed \(transposed), row-major")
            }
        }
    }

    /// Up to `rowwiseLimit` rows, a product's every row is, bit for bit, the
    /// product of that row alone, for every storage, both scalars, both layouts,
    /// both directions and both backends, with the work split across threads:
    /// what a sequence decodes does not depend on the sequences decoded beside it.
    /// The second shape's lines (2,100 wide, an odd number of them) are long enough
    /// for the AVX-512 build's paired lines (`SwiftGEMV.pairedLineDots`).
    @Test(arguments: WeightMatrix.Precision.allCases, [(100, 700), (33, 2100)])
    func rowsComputeAsAlone(precision: WeightMatrix.Precision, shape: (rows: Int, cols: Int)) throws {
        let (m, n) = shape
        let w = floatValued(rows: m, cols: n, seed: 8)                                // ~70,000 elements: split across threads; ragged int8 blocks
        let saved = threadCount
        defer { try? setThreadCount(saved) }
        try setThreadCount(2)
        func product<S: MatrixScalar>(_ weights: WeightMatrix, _ x: DenseMatrix<S>, transposed: Bool, backend: Backend) -> [S] {
            var y = [S](repeating: 3, count: x.rows * (transposed ? m : n))
            x.elements.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { weights.multiply(xp.baseAddress!, rows: x.rows, transposed: transposed, into: $0.baseAddress!, beta: 0.5, backend: backend) }
            }
            return y
        }
        func check<S: MatrixScalar>(_ weights: WeightMatrix, _: S.Type, _ label: String) {
            // Narrow weights run along their stored lines (as every model's do); across them they are widened for a GEMM.
            for transposed in [false, true] where !precision.isNarrow || transposed != weights.floatsTransposed {
                let k = transposed ? n : m, width = transposed ? m : n
                let x = DenseMatrix<S>(Matrix.random(rows: WeightMatrix.rowwiseLimit, cols: k, seed: 9))
                for backend in Backend.allCases {
                    let together = product(weights, x, transposed: transposed, backend: backend)
                    for r in [0, 5, WeightMatrix.rowwiseLimit - 1] {
                        let alone = product(weights, x.slicingRows(r..<r + 1), transposed: transposed, backend: backend)
                        let same = Array(together[r * width ..< (r + 1) * width]) == alone
                        #expect(same, "\(label) \(S.self) transposed \(transposed) \(backend) row \(r)")
                    }
                    let five = product(weights, x.slicingRows(0..<5), transposed: transposed, backend: backend)
                    let same = five == Array(together[0 ..< 5 * width])
                    #expect(same, "\(label) \(S.self) transposed \(transposed) \(backend): 5 rows")
                }
            }
        }
        let plain = WeightMatrix(w, precision: precision)
        let layouts = precision == .float64 ? [plain] : [plain, plain.transposingFloats()]
        for (i, weights) in layouts.enumerated() {
            check(weights, Float.self, "\(precision) layout \(i)")
            if !precision.isNarrow { check(weights, Double.self, "\(precision) layout \(i)") }
        }
    }
}
