// Row-wise reductions: each returns a column vector `[rows, 1]` (or `[Int]`
// for argmax), so it broadcasts back with `subtractingColumn` and friends.

extension DenseMatrix {
    /// Reduces every row with `body(row) -> value` into a `[rows, 1]` column.
    package func reduceRows(_ body: (UnsafeBufferPointer<Scalar>) -> Scalar) -> DenseMatrix {
        var out = [Scalar](repeating: 0, count: rows)
        elements.withUnsafeBufferPointer { e in
            for r in 0..<rows {
                out[r] = body(UnsafeBufferPointer(rebasing: e[r * cols ..< (r + 1) * cols]))
            }
        }
        return DenseMatrix(rows: rows, cols: 1, elements: out)
    }

    /// The largest element of each row: `[rows, cols] -> [rows, 1]`. Requires `cols > 0`.
    package func rowMax() -> DenseMatrix {
        precondition(cols > 0, "rowMax: no columns in \(shapeDescription)")
        return reduceRows { $0.max()! }
    }

    /// The sum of each row: `[rows, cols] -> [rows, 1]`.
    package func rowSum() -> DenseMatrix { reduceRows { $0.reduce(0, +) } }

    /// The mean of each row: `[rows, cols] -> [rows, 1]`. Requires `cols > 0`.
    package func rowMean() -> DenseMatrix {
        precondition(cols > 0, "rowMean: no columns in \(shapeDescription)")
        return reduceRows { $0.reduce(0, +) / Scalar($0.count) }
    }

    /// The population variance of each row (divides by `cols`, as NumPy's
    /// `var` does): `[rows, cols] -> [rows, 1]`. Two-pass, for accuracy.
    package func rowVariance() -> DenseMatrix {
        precondition(cols > 0, "rowVariance: no columns in \(shapeDescription)")
        return reduceRows { row in
            let mean = row.reduce(0, +) / Scalar(row.count)
            return row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Scalar(row.count)
        }
    }

    /// The column index of each row's largest element, in ``Ranking``'s order (the first on ties).
    package func rowArgmax() -> [Int] {
        precondition(cols > 0, "rowArgmax: no columns in \(shapeDescription)")
        return (0..<rows).map { Ranking.argmax(self[row: $0].map(Double.init)) }
    }
}
