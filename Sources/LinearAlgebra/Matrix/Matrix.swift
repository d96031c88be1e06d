import Foundation

/// A dense, row-major matrix of `Double` with value semantics.
///
/// Storage is a Swift `Array`, so copies are cheap and copy-on-write: mutating a
/// copy never changes the original, and a uniquely held matrix mutates in place.
///
/// ```swift
/// let a = Matrix([[1, 2], [3, 4]])
/// let b = a.matmul(a.transposed())   // [2, 2]
/// ```
public struct Matrix: Sendable, Equatable {
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
    public var elements: [Double] {
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
    private var storage: [Double]

    private func checkCount() {
        precondition(storage.count == rows * cols,
                     "Matrix: elements.count \(storage.count) does not match shape [\(rows), \(cols)]")
    }

    /// Creates a matrix from its shape and row-major elements.
    ///
    /// - Precondition: `elements.count == rows * cols`, `rows >= 0`, `cols >= 0`,
    ///   and `rows * cols` doubles fit in memory's address range.
    public init(rows: Int, cols: Int, elements: [Double]) {
        precondition(
            elements.count == Matrix.elementCount(rows: rows, cols: cols),
            "Matrix: \(elements.count) elements do not fill shape [\(rows), \(cols)]")
        self.rows = rows
        self.cols = cols
        self.storage = elements
    }

    /// Creates a matrix of the given shape with every element set to `value`.
    public init(rows: Int, cols: Int, repeating value: Double) {
        self.init(rows: rows, cols: cols, elements: Array(repeating: value, count: Matrix.elementCount(rows: rows, cols: cols)))
    }

    /// `rows * cols`, stopping the process for a negative shape or one whose
    /// bytes would not fit in memory's address range.
    static func elementCount(rows: Int, cols: Int) -> Int {
        precondition(rows >= 0 && cols >= 0, "Matrix: negative shape [\(rows), \(cols)]")
        let (count, overflow) = rows.multipliedReportingOverflow(by: cols)
        precondition(!overflow && count <= Int.max / MemoryLayout<Double>.stride,
                     "Matrix: shape [\(rows), \(cols)] has more elements than memory can address")
        return count
    }

    /// Creates a matrix from an array of rows, which must all have the same length.
    public init(_ rows: [[Double]]) {
        let cols = rows.first?.count ?? 0
        for (i, row) in rows.enumerated() {
            precondition(row.count == cols, "Matrix: row \(i) has \(row.count) columns, row 0 has \(cols)")
        }
        self.init(rows: rows.count, cols: cols, elements: Array(rows.joined()))
    }

    /// Creates a `1 × n` row vector.
    public init(row: [Double]) {
        self.init(rows: 1, cols: row.count, elements: row)
    }

    /// A matrix of zeros.
    public static func zeros(rows: Int, cols: Int) -> Matrix {
        Matrix(rows: rows, cols: cols, repeating: 0)
    }

    /// The `n × n` identity matrix.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix.zeros(rows: n, cols: n)
        for i in 0..<n { m.elements[i * n + i] = 1 }
        return m
    }

    /// The shape as `[rows, cols]`, for messages.
    public var shapeDescription: String { "[\(rows), \(cols)]" }

    /// The element at row `r`, column `c`.
    public subscript(r: Int, c: Int) -> Double {
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
    public subscript(row r: Int) -> [Double] {
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
    public func reshaped(rows: Int, cols: Int) -> Matrix {
        precondition(rows * cols == self.rows * self.cols,
                     "Matrix.reshaped: cannot reshape \(shapeDescription) to [\(rows), \(cols)]")
        return Matrix(rows: rows, cols: cols, elements: elements)
    }
}

extension Matrix: CustomStringConvertible {
    /// A small table, one line per row, columns aligned; large matrices are elided.
    public var description: String {
        let maxRows = 8, maxCols = 8
        func fmt(_ v: Double) -> String {
            if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
            let s = String(format: "%.4g", v)
            return s
        }
        let shownRows = rows <= maxRows ? Array(0..<rows) : Array(0..<maxRows / 2) + Array(rows - maxRows / 2 ..< rows)
        let shownCols = cols <= maxCols ? Array(0..<cols) : Array(0..<maxCols / 2) + Array(cols - maxCols / 2 ..< cols)
        let cells = shownRows.map { r in shownCols.map { c in fmt(elements[r * cols + c]) } }
        let width = cells.joined().map(\.count).max() ?? 1
        var lines = ["Matrix \(shapeDescription)"]
        for (i, row) in cells.enumerated() {
            var parts = row.map { String(repeating: " ", count: width - $0.count) + $0 }
            if cols > maxCols { parts.insert("…", at: maxCols / 2) }
            lines.append("  " + parts.joined(separator: "  "))
            if rows > maxRows && i == maxRows / 2 - 1 { lines.append("  ⋮") }
        }
        return lines.joined(separator: "\n")
    }
}
