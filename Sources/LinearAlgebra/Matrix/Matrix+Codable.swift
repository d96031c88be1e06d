// A matrix is encoded as JSON as nested arrays of rows, `[[1, 2], [3, 4]]`,
// the layout NumPy's `tolist()` and picoGPT's parameter files use.

extension DenseMatrix: Codable {
    /// Decodes nested arrays of rows; ragged rows are a `DecodingError`
    /// naming the row.
    public init(from decoder: Decoder) throws {
        let nested = try decoder.singleValueContainer().decode([[Scalar]].self)
        let cols = nested.first?.count ?? 0
        if let bad = nested.firstIndex(where: { $0.count != cols }) {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "ragged matrix: row \(bad) has \(nested[bad].count) columns, row 0 has \(cols)"))
        }
        self.init(rows: nested.count, cols: cols, elements: Array(nested.joined()))
    }

    /// Encodes as nested arrays of rows.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode((0..<rows).map { self[row: $0] })
    }
}
