// Reshaping operations: transpose, column slices, concatenation, stacking.

extension DenseMatrix {
    /// The transpose: `[rows, cols] -> [cols, rows]` (a copy; kernels take
    /// transpose flags instead, see ``multiply(_:transposeA:_:transposeB:alpha:beta:into:backend:)``).
    public func transposed() -> DenseMatrix {
        var out = [Scalar](repeating: 0, count: rows * cols)
        elements.withUnsafeBufferPointer { e in
            for r in 0..<rows { for c in 0..<cols { out[c * rows + r] = e[r * cols + c] } }
        }
        return DenseMatrix(rows: cols, cols: rows, elements: out)
    }

    /// The columns in `range`: `[rows, cols] -> [rows, range.count]`.
    package func columns(_ range: Range<Int>) -> DenseMatrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= cols,
                     "columns: range \(range) out of shape \(shapeDescription)")
        var out = [Scalar]()
        out.reserveCapacity(rows * range.count)
        for r in 0..<rows { out.append(contentsOf: elements[r * cols + range.lowerBound ..< r * cols + range.upperBound]) }
        return DenseMatrix(rows: rows, cols: range.count, elements: out)
    }

    /// The rows in `range`: `[rows, cols] -> [range.count, cols]`.
    public func slicingRows(_ range: Range<Int>) -> DenseMatrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows,
                     "slicingRows: range \(range) out of shape \(shapeDescription)")
        return DenseMatrix(rows: range.count, cols: cols, elements: Array(elements[range.lowerBound * cols ..< range.upperBound * cols]))
    }

    /// Splits the columns into `parts` equal pieces: `[rows, p*w] -> p × [rows, w]`.
    package func splitColumns(into parts: Int) -> [DenseMatrix] {
        precondition(parts > 0 && cols % parts == 0,
                     "splitColumns: \(shapeDescription) does not split into \(parts) equal parts")
        let w = cols / parts
        return (0..<parts).map { columns($0 * w ..< ($0 + 1) * w) }
    }

    /// Concatenates matrices side by side: `[r, a], [r, b] -> [r, a + b]`.
    package static func concatenatingColumns(_ parts: [DenseMatrix]) -> DenseMatrix {
        guard let first = parts.first else { return DenseMatrix.zeros(rows: 0, cols: 0) }
        for p in parts {
            precondition(p.rows == first.rows,
                         "concatenatingColumns: \(p.shapeDescription) vs \(first.shapeDescription): row counts differ")
        }
        let total = parts.reduce(0) { $0 + $1.cols }
        var out = [Scalar]()
        out.reserveCapacity(first.rows * total)
        for r in 0..<first.rows {
            for p in parts { out.append(contentsOf: p.elements[r * p.cols ..< (r + 1) * p.cols]) }
        }
        return DenseMatrix(rows: first.rows, cols: total, elements: out)
    }

    /// Stacks matrices top to bottom: `[a, c], [b, c] -> [a + b, c]`.
    package static func stackingRows(_ parts: [DenseMatrix]) -> DenseMatrix {
        guard let first = parts.first else { return DenseMatrix.zeros(rows: 0, cols: 0) }
        for p in parts {
            precondition(p.cols == first.cols,
                         "stackingRows: \(p.shapeDescription) vs \(first.shapeDescription): column counts differ")
        }
        return DenseMatrix(rows: parts.reduce(0) { $0 + $1.rows }, cols: first.cols,
                      elements: Array(parts.map(\.elements).joined()))
    }
}
