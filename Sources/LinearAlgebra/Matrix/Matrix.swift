import Foundation

/// A matrix of `Double`: what the transformer computes in by default.
public typealias Matrix = DenseMatrix<Double>

/// A matrix of `Float`: half the bytes, twice the lanes per vector.
public typealias FloatMatrix = DenseMatrix<Float>

/// A dense, row-major matrix of `Double` (``Matrix``) or `Float`
/// (``FloatMatrix``) with value semantics.
///
/// Storage is a Swift `Array`, so copies are cheap and copy-on-write: mutating a
/// copy never changes the original, and a uniquely held matrix mutates in place.
///
/// ```swift
/// let a = Matrix([[1, 2], [3, 4]])
/// let b = a.matmul(a.transposed())   // [2, 2]
/// ```
///
/// Every operation is written once, generic over the ``MatrixScalar``; on
/// ``Backend/blas`` products call `cblas_dgemm`/`cblas_sgemm` (and `…gemv`),
/// and ``solve(_:_:backend:)`` LAPACK's `d…` or `s…` routines.
public struct DenseMatrix<Scalar: MatrixScalar>: Sendable, Equatable {
    /// The number of rows.
    public private(set) var rows: Int
    /// The number of columns.
    public private(set) var cols: Int
    /// The elements in row-major order: element `(r, c)` is at `r * cols + c`.
    ///
    /// Mutating them in place (`m.elements[i] = x`,
    /// `m.elements.withUnsafeMutableBufferPointer { … }`) works on the matrix's
    /// own storage, without a copy; a count that no longer fits the shape stops
    /// the process.
    public var elements: [Scalar] {
        get { storage }
        set {
            storage = newValue
            checkCount()
        }
        // In place: a `didSet` would make every mutation from another module get a
        // copy, change it and set it back (a full copy of the array each time).
        _modify {
            yield &storage
            checkCount()
        }
    }
    private var storage: [Scalar]

    private func checkCount() {
        precondition(storage.count == rows * cols,
                     "Matrix: elements.count \(storage.count) does not match shape [\(rows), \(cols)]")
    }

    /// Creates a matrix from its shape and row-major elements.
    ///
    /// - Precondition: `elements.count == rows * cols`, `rows >= 0`, `cols >= 0`,
    ///   and `rows * cols` doubles fit in memory's address range.
    public init(rows: Int, cols: Int, elements: [Scalar]) {
        precondition(
            elements.count == DenseMatrix.elementCount(rows: rows, cols: cols),
            "Matrix: \(elements.count) elements do not fill shape [\(rows), \(cols)]")
        self.rows = rows
        self.cols = cols
        self.storage = elements
    }

    /// Creates a matrix of the given shape with every element set to `value`.
    public init(rows: Int, cols: Int, repeating value: Scalar) {
        self.init(rows: rows, cols: cols, elements: Array(repeating: value, count: DenseMatrix.elementCount(rows: rows, cols: cols)))
    }

    /// `rows * cols`, stopping the process for a negative shape or one whose
    /// bytes would not fit in memory's address range.
    static func elementCount(rows: Int, cols: Int) -> Int {
        precondition(rows >= 0 && cols >= 0, "Matrix: negative shape [\(rows), \(cols)]")
        let (count, overflow) = rows.multipliedReportingOverflow(by: cols)
        precondition(!overflow && count <= Int.max / MemoryLayout<Scalar>.stride,
                     "Matrix: shape [\(rows), \(cols)] has more elements than memory can address")
        return count
    }

    /// Creates a matrix from an array of rows, which must all have the same length.
    public init(_ rows: [[Scalar]]) {
        let cols = rows.first?.count ?? 0
        for (i, row) in rows.enumerated() {
            precondition(row.count == cols, "Matrix: row \(i) has \(row.count) columns, row 0 has \(cols)")
        }
        self.init(rows: rows.count, cols: cols, elements: Array(rows.joined()))
    }

    /// `other`'s elements converted to `Scalar` (rounded to nearest when
    /// narrowing `Double` to `Float`, exact when widening).
    public init<Other: MatrixScalar>(_ other: DenseMatrix<Other>) {
        self.init(rows: other.rows, cols: other.cols, elements: other.elements.map { Scalar($0) })
    }

    /// Creates a `1 × n` row vector.
    public init(row: [Scalar]) {
        self.init(rows: 1, cols: row.count, elements: row)
    }

    /// A matrix of zeros.
    public static func zeros(rows: Int, cols: Int) -> DenseMatrix {
        DenseMatrix(rows: rows, cols: cols, repeating: 0)
    }

    /// The `n × n` identity matrix.
    public static func identity(_ n: Int) -> DenseMatrix {
        var m = DenseMatrix.zeros(rows: n, cols: n)
        for i in 0..<n { m.elements[i * n + i] = 1 }
        return m
    }

    /// The shape as `[rows, cols]`, for messages.
    public var shapeDescription: String { "[\(rows), \(cols)]" }

    /// The element at row `r`, column `c`.
    public subscript(r: Int, c: Int) -> Scalar {
        get {
            precondition(r >= 0 && r < rows && c >= 0 && c < cols,
                         "Matrix: index (\(r), \(c)) out of shape \(shapeDescription)")
            return elements[r * cols + c]
        }
        set {
            precondition(r >= 0 && r < rows && c >= 0 && c < cols,
                         "Matrix: index (\(r), \(c)) out of shape \(shapeDescription)")
            elements[r * cols + c] = newValue
        }
    }

    /// Row `r` as an array.
    public subscript(row r: Int) -> [Scalar] {
        get {
            precondition(r >= 0 && r < rows, "Matrix: row \(r) out of shape \(shapeDescription)")
            return Array(elements[r * cols ..< (r + 1) * cols])
        }
        set {
            precondition(r >= 0 && r < rows, "Matrix: row \(r) out of shape \(shapeDescription)")
            precondition(newValue.count == cols,
                         "Matrix: row of \(newValue.count) elements assigned into shape \(shapeDescription)")
            elements.replaceSubrange(r * cols ..< (r + 1) * cols, with: newValue)
        }
    }

    /// Reinterprets the elements with a new shape of the same size (no copy).
    public func reshaped(rows: Int, cols: Int) -> DenseMatrix {
        precondition(rows * cols == self.rows * self.cols,
                     "Matrix.reshaped: cannot reshape \(shapeDescription) to [\(rows), \(cols)]")
        return DenseMatrix(rows: rows, cols: cols, elements: elements)
    }
}

extension DenseMatrix: CustomStringConvertible {
    /// A small table, one line per row, columns aligned; large matrices are elided.
    public var description: String {
        let maxRows = 8, maxCols = 8
        func fmt(_ v: Scalar) -> String {
            if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
            let s = String(format: "%.4g", Double(v))
            return s
        }
        let shownRows = rows <= maxRows ? Array(0..<rows) : Array(0..<maxRows / 2) + Array(rows - maxRows / 2 ..< rows)
        let shownCols = cols <= maxCols ? Array(0..<cols) : Array(0..<maxCols / 2) + Array(cols - maxCols / 2 ..< cols)
        let cells = shownRows.map { r in shownCols.map { c in fmt(elements[r * cols + c]) } }
        let width = cells.joined().map(\.count).max() ?? 1
        var lines = ["\(Scalar.self == Float.self ? "FloatMatrix" : "Matrix") \(shapeDescription)"]
        for (i, row) in cells.enumerated() {
            var parts = row.map { String(repeating: " ", count: width - $0.count) + $0 }
            if cols > maxCols { parts.insert("…", at: maxCols / 2) }
            lines.append("  " + parts.joined(separator: "  "))
            if rows > maxRows && i == maxRows / 2 - 1 { lines.append("  ⋮") }
        }
        return lines.joined(separator: "\n")
    }
}
