@testable import LinearAlgebra
import CInt8
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
    /// Where int8 weights meet a few rows line by line, each row of `x` is
    /// quantized as the weights are (`int8Rounded`), so there the reference
    /// is the `Float` weights times the quantized rows.
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
                    let lineByLine = rows <= narrow.lineByLineLimit && transposed != transposedLayout
                    let referenceX = precision == .int8 && lineByLine ? int8Rounded(x) : x
                    var results: [[Float]] = []
                    for (backend, threads) in [(Backend.swift, 1), (.swift, 2), (.blas, 2)] {
                        try setThreadCount(threads)
                        for (weights, input) in [(narrow, x), (floats, referenceX)] {
                            var y = [Float](repeating: 7, count: rows * n)
                            input.elements.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { weights.multiply(xp.baseAddress!, rows: rows, transposed: transposed, into: $0.baseAddress!, beta: 1, backend: backend) } }
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

    /// Both int8 kernels (AVX-512 VNNI where this CPU has it, and Swift SIMD)
    /// on ragged shapes: each gives a row the same bits alone as beside 1 to
    /// 6 others and on 1 or 2 threads, within float rounding of the quantized
    /// reference and of each other.
    @Test func int8KernelsAgree() throws {
        let kernels: [NarrowGEMV.Int8Kernel] = NarrowGEMV.Int8Kernel.best == .vnni ? [.vnni, .swift] : [.swift]
        for (lines, length) in [(5, 33), (40, 70), (300, 256), (96, 2100)] {
            let w = floatValued(rows: lines, cols: length, seed: UInt64(length))
            let int8 = WeightMatrix(w, precision: .int8)
            let x = FloatMatrix.random(rows: 7, cols: length, seed: 9, distribution: .normal(mean: 0, standardDeviation: 1))
            // In Double: each dot product, and the sum of its terms' magnitudes (what Float rounding scales with).
            let wide = int8.matrix, rounded = Matrix(int8Rounded(x))
            let reference = rounded.matmul(wide.transposed()), magnitude = rounded.map(abs).matmul(wide.map(abs).transposed())   // [7, lines]
            /// The worst error of `y` against the reference, as a share of the terms' magnitudes.
            func worst(_ y: [Float]) -> Double {
                zip(y.indices, y).map { i, v in abs(Double(v) - reference.elements[i]) / max(magnitude.elements[i], 1e-30) }.max()!
            }
            var byKernel: [[Float]] = []
            for kernel in kernels {
                let together = int8Product(int8, x, rows: 7, kernel: kernel, threads: 2)
                for r in 0..<7 {
                    let alone = int8Product(int8, x.slicingRows(r ..< r + 1), rows: 1, kernel: kernel, threads: 1)
                    #expect(alone == Array(together[r * lines ..< (r + 1) * lines]), "\(kernel) [\(lines), \(length)] row \(r)")
                }
                #expect(worst(together) < 1e-6, "\(kernel) [\(lines), \(length)]")
                byKernel.append(together)
            }
            if byKernel.count == 2 {
                let apart = zip(byKernel[0], byKernel[1]).enumerated().map { i, p in abs(Double(p.0 - p.1)) / magnitude.elements[i] }.max()!
                #expect(apart < 2e-6, "[\(lines), \(length)]")
            }
        }
    }

    /// A row of activations prepared for the int8 products comes out the same,
    /// byte for byte, from the vector code (where the CPU has AVX-512) and from
    /// plain C: ragged lengths, ties (halves once scaled), all-zero blocks and
    /// blocks holding a NaN or an infinity.
    @Test func int8PreparedRowsAgree() {
        var generator = SeededGenerator(seed: 12)
        for (trial, length) in [1, 3, 5, 17, 31, 32, 33, 64, 70, 100, 576, 768, 3077].enumerated() {
            for variant in 0..<4 {
                var x = (0..<length).map { _ in Float(Double(generator.next() % 2001) / 8 - 125) }   // many halves: ties
                switch variant {
                case 1: x[Int(generator.next() % UInt64(length))] = 127                           // scale 1: x itself rounded
                case 2: x[Int(generator.next() % UInt64(length))] = [Float.nan, .infinity, -.infinity][trial % 3]
                case 3: for i in 0..<min(length, 40) { x[i] = 0 }
                default: break
                }
                let bytes = Int(swiftattention_int8_prepared_bytes(Int64(length)))
                var vector = [UInt8](repeating: 0xAA, count: bytes), plain = [UInt8](repeating: 0x55, count: bytes)
                swiftattention_int8_prepare(x, Int64(length), &vector)
                swiftattention_int8_prepare_plain(x, Int64(length), &plain)
                #expect(vector == plain, "length \(length), variant \(variant)")
            }
        }
    }

    /// `y = x · int8ᵀ` for `rows` rows of `x`, through `kernel` on `threads` threads.
    private func int8Product(_ w: WeightMatrix, _ x: FloatMatrix, rows: Int, kernel: NarrowGEMV.Int8Kernel, threads: Int) -> [Float] {
        guard case let .int8(q, s) = w.storage else { preconditionFailure() }
        var y = [Float](repeating: 0, count: rows * w.rows)
        q.withUnsafeBufferPointer { qp in
            s.withUnsafeBufferPointer { sp in
                x.elements.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in
                        NarrowGEMV.run(.int8(qp.baseAddress!, sp.baseAddress!), lines: w.rows, length: w.cols, x: xp.baseAddress!, rows: rows,
                                       y: yp.baseAddress!, beta: 0, threads: threads, kernel: kernel)
                    }
                }
            }
        }
        return y
    }

    /// Each row of `x` as int8 products see it: per block of 32 along the row,
    /// the integer nearest to `x · 127 / largest` (ties to even) times `largest / 127`.
    private func int8Rounded(_ x: FloatMatrix) -> FloatMatrix {
        var out = x
        for r in 0..<x.rows {
            for start in stride(from: 0, to: x.cols, by: 32) {
                let block = start ..< min(start + 32, x.cols)
                let largest = block.map { abs(x[r, $0]) }.max()!
                let inverse: Float = largest > 0 ? 127 / largest : 0
                for c in block { out[r, c] = (x[r, c] * inverse).rounded(.toNearestOrEven) * (largest / 127) }
            }
        }
        return out
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
