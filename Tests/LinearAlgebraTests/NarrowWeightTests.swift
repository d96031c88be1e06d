@testable import LinearAlgebra
import TestSupport
import Testing

/// bfloat16 and int8 weights: how they round, and that every product with them
/// equals the same product with the `Float`s they stand for.
@Suite("WeightMatrix: bfloat16 and int8")
struct NarrowWeightTests {
    /// Every int8 element is its block's scale times an integer in -127…127,
    /// no more than half a scale from the original; the scale is the block's
    /// largest magnitude over 127, per block of 32 along a stored line, the
    /// last block of a line short when the line is (here 70 = 32 + 32 + 6).
    @Test func int8RoundsWithinHalfAScale() {
        let m = floatValued(rows: 5, cols: 70, seed: 3)
        for w in [WeightMatrix(m, precision: .int8), WeightMatrix(m, precision: .float32).transposingFloats().stored(as: .int8)] {
            #expect(w.precision == .int8 && w.byteCount == 5 * 70 + 4 * (w.floatsTransposed ? 70 * 1 : 5 * 3))
            let back = w.matrix
            for line in 0..<w.lineCount {
                let element = { (i: Int) in w.floatsTransposed ? (i, line) : (line, i) }
                for start in stride(from: 0, to: w.lineLength, by: 32) {
                    let block = start..<min(start + 32, w.lineLength)
                    let scale = block.map { abs(m[element($0).0, element($0).1]) }.max()! / 127
                    for i in block {
                        let (r, c) = element(i)
                        let steps = back[r, c] / scale
                        #expect(abs(back[r, c] - m[r, c]) <= scale / 2 * 1.0001 + 1e-12, "[\(r), \(c)]")
                        #expect(abs(steps - steps.rounded()) < 1e-3 && abs(steps) <= 127.001)
                    }
                }
            }
        }
        // An all-zero block keeps scale 0 and decodes to zeros.
        #expect(WeightMatrix(Matrix.zeros(rows: 2, cols: 40), precision: .int8).matrix == Matrix.zeros(rows: 2, cols: 40))
    }

    /// bfloat16 keeps a bfloat16 exactly and rounds anything else to nearest, ties to even.
    @Test func bfloat16RoundsToNearestEven() {
        let exact = Matrix([[1, -2.5, 0.15625, 3 * 0x1p-100]])
        #expect(WeightMatrix(exact, precision: .bfloat16).matrix == exact)
        // 1 + 2⁻⁸ lies halfway between 1 and 1 + 2⁻⁷: the even one is 1; 1 + 3·2⁻⁸ rounds up to 1 + 2⁻⁶.
        let ties = Matrix([[1 + 0x1p-8, 1 + 3 * 0x1p-8, 1 + 0x1p-8 + 0x1p-20]])
        #expect(WeightMatrix(ties, precision: .bfloat16).matrix == Matrix([[1, 1 + 0x1p-6, 1 + 0x1p-7]]))
        #expect(WeightMatrix(exact, precision: .bfloat16).byteCount == 8)
    }

    /// A product with narrow weights equals the product with the `Float`s they
    /// stand for: one row (the narrow GEMV) and several (widened panels), both
    /// directions of a product, both layouts, both backends, one and two threads.
    @Test(arguments: [WeightMatrix.Precision.bfloat16, .int8])
    func productsEqualTheirFloats(precision: WeightMatrix.Precision) throws {
        let m = floatValued(rows: 96, cols: 200, seed: 4)                              // 96 × 200: ragged int8 blocks one way
        let saved = threadCount
        defer { try? setThreadCount(saved) }
        for transposedLayout in [false, true] {
            var narrow = WeightMatrix(m, precision: .float32)
            if transposedLayout { narrow = narrow.transposingFloats() }
            narrow = narrow.stored(as: precision)
            let floats = narrow.stored(as: .float32)
            #expect(floats.floatsTransposed == transposedLayout && floats.stored(as: precision) == narrow)
            for transposed in [false, true] {
                let k = transposed ? 200 : 96, n = transposed ? 96 : 200
                for rows in [1, 3, 130] {
                    let x = FloatMatrix.random(rows: rows, cols: k, seed: UInt64(rows), distribution: .normal(mean: 0, standardDeviation: 1))
                    var results: [[Float]] = []
                    for (backend, threads) in [(Backend.swift, 1), (.swift, 2), (.blas, 2)] {
                        try setThreadCount(threads)
                        for weights in [narrow, floats] {
                            var y = [Float](repeating: 7, count: rows * n)
                            x.elements.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { weights.multiply(xp.baseAddress!, rows: rows, transposed: transposed, into: $0.baseAddress!, beta: 1, backend: backend) } }
                            results.append(y)
                        }
                    }
                    let reference = results[1]
                    for (i, y) in results.enumerated() {
                        let worst = zip(y, reference).map { abs($0 - $1) / max(1, abs($1)) }.max()!
                        #expect(worst < 2e-5, "\(precision) layout \(transposedLayout) transposed \(transposed) rows \(rows) result \(i): \(worst)")
                    }
                    #expect(results[0] == results[2] || rows > 1, "one row: the thread count changes nothing")
                }
            }
        }
    }

    /// Rows for an embedding lookup, NaN detection, Double products and Equatable.
    @Test(arguments: [WeightMatrix.Precision.bfloat16, .int8])
    func lookupsAndChecks(precision: WeightMatrix.Precision) throws {
        let m = floatValued(rows: 6, cols: 100, seed: 5)
        let narrow = WeightMatrix(m, precision: precision), wide = narrow.matrix
        for layout in [narrow, narrow.transposingFloats()] {
            var out = [Double](repeating: 1, count: 100)
            out.withUnsafeMutableBufferPointer { layout.addRow(4, to: $0.baseAddress!) }
            let expected = (layout.floatsTransposed ? layout.matrix : wide)[row: 4].map { $0 + 1 }
            #expect(zip(out, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(precision) transposed \(layout.floatsTransposed)")
        }
        // A Double product widens the narrow weights: the same as with the Double matrix.
        let x = Matrix.random(rows: 2, cols: 6, seed: 6)
        var y = [Double](repeating: 0, count: 200)
        x.elements.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { narrow.multiply(xp.baseAddress!, rows: 2, into: $0.baseAddress!) } }
        expectClose(Matrix(rows: 2, cols: 100, elements: y), x.matmul(wide), relative: 1e-12)
        var bad = m
        bad[3, 70] = .nan
        let position = WeightMatrix(bad, precision: precision).nonFinite
        #expect(position?.row == 3 && position.map { precision == .int8 ? $0.col == 64 : $0.col == 70 } == true)
        #expect(narrow == WeightMatrix(m, precision: precision) && narrow != WeightMatrix(m, precision: .float32))
        #expect(narrow.roundedToFloat() == narrow)
    }
}
