import CInt8

// Weights narrower than `Float`: bfloat16 (2 bytes) and 8-bit integers with a
// scale per block (about 1.1 bytes). Both are kept in the layout the matrix's
// `Float`s would have (`floatsTransposed`), as lines of `lineLength` elements:
// the lines are what a decoded token's product takes dot products with, so an
// int8 block of 32 runs along the input dimension, as llama.cpp's Q8_0 does.

extension WeightMatrix {
    /// Elements per int8 block: each block of a line shares one `Float` scale
    /// (`CInt8`'s block, which its quantizer and kernels use).
    package static let blockSize = Int(SWIFTATTENTION_INT8_BLOCK)

    /// The elements in a stored line (the distance between lines).
    package var lineLength: Int { floatsTransposed ? rows : cols }

    /// The number of stored lines.
    var lineCount: Int { floatsTransposed ? cols : rows }

    /// Scales per line of an int8 matrix (the last block of a line may be short).
    var blocksPerLine: Int { WeightMatrix.blockCount(lineLength: lineLength) }

    /// The int8 blocks, and so the scales, of a line of `length` elements.
    static func blockCount(lineLength length: Int) -> Int { (length + blockSize - 1) / blockSize }

    /// A narrow matrix (`precision` `.bfloat16` or `.int8`) whose lines
    /// (`floatsTransposed`: columns, else rows) `fill` writes as `Float`s, a
    /// chunk of whole lines at a time (about 256 K elements), each narrowed
    /// as it arrives: the matrix is never held as `Float`s whole. `fill(lines,
    /// buffer)` writes lines `lines` into `buffer` (`lines.count × lineLength`).
    package init(rows: Int, cols: Int, floatsTransposed: Bool, narrow precision: Precision,
                 reading fill: (Range<Int>, UnsafeMutableBufferPointer<Float>) throws -> Void) throws {
        precondition(precision.isNarrow, "WeightMatrix: \(precision) is not a narrow precision")
        let (lines, length) = floatsTransposed ? (cols, rows) : (rows, cols)
        let perLine = WeightMatrix.blockCount(lineLength: length)
        let chunk = max(1, min(lines, (1 << 18) / max(length, 1)))
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: chunk * length)
        defer { buffer.deallocate() }
        /// Calls `narrow(lines, floats)` on each chunk once `fill` has written it.
        func chunks(_ narrow: (Range<Int>, UnsafePointer<Float>) -> Void) throws {
            for first in stride(from: 0, to: lines, by: chunk) {
                let range = first ..< min(first + chunk, lines)
                try fill(range, UnsafeMutableBufferPointer(rebasing: buffer[0 ..< range.count * length]))
                narrow(range, buffer.baseAddress!)
            }
        }
        let storage: Storage
        if precision == .bfloat16 {
            storage = .bfloat16(try WeightBuffer(count: rows * cols) { out in
                try chunks { range, floats in
                    let base = range.lowerBound * length
                    parallelRanges(range.count * length, minimum: 1 << 16) { r in
                        for i in r { out[base + i] = BFloat16.bits(floats[i]) }
                    }
                }
            })
        } else {
            var scales: WeightBuffer<Float>!
            let quants = try WeightBuffer<Int8>(count: rows * cols) { q in
                scales = try WeightBuffer(count: lines * perLine) { s in
                    try chunks { range, floats in
                        WeightMatrix.quantize(floats, lines: range.count, length: length,
                                              into: q.baseAddress! + range.lowerBound * length, scales: s.baseAddress! + range.lowerBound * perLine)
                    }
                }
            }
            storage = .int8(quants, scales: scales)
        }
        self.init(rows: rows, cols: cols, storage: storage)
        self.floatsTransposed = floatsTransposed
    }

    /// Quantizes `lines` lines of `length` `Float`s per block of ``blockSize``
    /// along each line into `q` and `scales` (`⌈length / 32⌉` per line), as
    /// `swiftattention_int8_quantize` does the activations they meet: the
    /// scale is the block's largest magnitude over 127, and each element its
    /// nearest multiple of the scale (so no element moves by more than about
    /// half a scale; an all-zero block has scale 0, and a block holding a NaN
    /// or an infinity has that as its scale).
    static func quantize(_ floats: UnsafePointer<Float>, lines: Int, length: Int,
                         into q: UnsafeMutablePointer<Int8>, scales s: UnsafeMutablePointer<Float>) {
        let perLine = blockCount(lineLength: length)
        parallelRanges(lines, minimum: 16) { range in
            for line in range {
                swiftattention_int8_quantize(floats + line * length, Int64(length), q + line * length, s + line * perLine)
            }
        }
    }

    /// Writes elements `from..<from + count` of stored line `line`, widened to
    /// `S` (exact from `Float` and bfloat16; an int8 element is its integer
    /// times its block's scale, rounded to `Float`), to `out`. For storages
    /// that keep `Float`s or narrower.
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    func widenLine<S: MatrixScalar>(_ line: Int, from: Int, count: Int, into out: UnsafeMutablePointer<S>) {
        let start = line * lineLength + from
        switch storage {
        case let .float(values), let .both(_, values):
            values.withUnsafeBufferPointer { widen($0.baseAddress! + start, count: count, into: out) }
        case let .bfloat16(values):
            values.withUnsafeBufferPointer { v in
                for i in 0..<count { out[i] = S(BFloat16.float(v[start &+ i])) }
            }
        case let .int8(quants, scales):
            quants.withUnsafeBufferPointer { q in
                scales.withUnsafeBufferPointer { s in
                    let size = WeightMatrix.blockSize, perLine = blocksPerLine
                    var i = 0
                    while i < count {                                                   // one block's span at a time
                        let position = from + i, scale = s[line * perLine + position / size]
                        let span = min(count - i, size - position % size)
                        for j in i..<i + span { out[j] = S(Float(q[start &+ j]) * scale) }
                        i += span
                    }
                }
            }
        case .double:
            preconditionFailure("WeightMatrix: widenLine reads Float or narrower elements")
        }
    }

    /// The elements as `Float`s in the stored layout: exact for `Float`,
    /// bfloat16 and int8 (each its integer times its scale), rounded from `Double`.
    func layoutFloats() -> WeightBuffer<Float> {
        switch storage {
        case let .float(values), let .both(_, values): return values
        case let .double(values):
            let floats = WeightBuffer(values.lazy.map { Float($0) })                 // row-major
            return floatsTransposed ? transposedFloats(floats, rows, cols) : floats
        case .bfloat16, .int8:
            let (lines, length) = (lineCount, lineLength)
            return WeightBuffer(count: rows * cols) { out in
                parallelRanges(lines, minimum: 16) { range in
                    for line in range { widenLine(line, from: 0, count: length, into: out.baseAddress! + line * length) }
                }
            }
        }
    }

    /// The same elements in a narrow storage, kept in this layout.
    func narrowed(to precision: Precision) -> WeightMatrix {
        let floats = layoutFloats(), length = lineLength
        return floats.withUnsafeBufferPointer { f in
            try! WeightMatrix(rows: rows, cols: cols, floatsTransposed: floatsTransposed, narrow: precision) { lines, out in
                _ = out.initialize(from: UnsafeBufferPointer(rebasing: f[lines.lowerBound * length ..< lines.upperBound * length]))
            }
        }
    }

    /// The rows up to which a `Float` product with these narrow weights runs
    /// ``NarrowGEMV`` line by line: any number for int8 through the VNNI
    /// kernel (which multiplies 8-bit integers faster than the GEMM multiplies
    /// the widened `Float`s), else ``rowwiseLimit``.
    package var lineByLineLimit: Int {
        if case .int8 = storage, NarrowGEMV.int8Kernel == .vnni { return .max }
        return WeightMatrix.rowwiseLimit
    }

    /// A product with narrow weights: up to ``lineByLineLimit`` rows of
    /// `Float`s whose outputs are dot products with the stored lines run
    /// ``NarrowGEMV``; anything else widens panels of the weights into `S` for
    /// the backend's GEMM.
    func multiplyNarrow<S: MatrixScalar>(_ x: UnsafePointer<S>, rows m: Int, transposed: Bool,
                                         into y: UnsafeMutablePointer<S>, beta: S, backend: Backend) {
        let threads = KernelThreads.current
        if m <= lineByLineLimit && S.self == Float.self && transposed != floatsTransposed {
            let (xf, yf): (UnsafePointer<Float>, UnsafeMutablePointer<Float>) = (Kernels.raw(x), Kernels.rawMutable(y))
            switch storage {
            case let .bfloat16(values):
                values.withUnsafeBufferPointer { v in
                    NarrowGEMV.run(.bfloat16(v.baseAddress!), lines: lineCount, length: lineLength, x: xf, rows: m, y: yf, beta: Float(beta), threads: threads)
                }
            case let .int8(quants, scales):
                quants.withUnsafeBufferPointer { q in
                    scales.withUnsafeBufferPointer { s in
                        NarrowGEMV.run(.int8(q.baseAddress!, s.baseAddress!), lines: lineCount, length: lineLength,
                                       x: xf, rows: m, y: yf, beta: Float(beta), threads: threads)
                    }
                }
            default: preconditionFailure("WeightMatrix: multiplyNarrow takes narrow storages")
            }
        } else {
            widenedGEMM(x, m: m, transposed: transposed, y, beta: beta, backend: backend, threads: threads)
        }
    }
}
