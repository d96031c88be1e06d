import Foundation
import RealModule

// Elementwise arithmetic. These are the same pure-Swift loops on both backends:
// BLAS has nothing faster for them, and sharing one implementation keeps the
// backends bit-for-bit equal here.

extension DenseMatrix {
    /// Applies `transform` to every element.
    @inlinable
    public func map(_ transform: (Scalar) throws -> Scalar) rethrows -> DenseMatrix {
        DenseMatrix(rows: rows, cols: cols, elements: try elements.map(transform))
    }

    /// Combines two same-shaped matrices element by element.
    @inlinable
    package func zipMap(_ other: DenseMatrix, _ op: String = "elementwise",
                       _ combine: (Scalar, Scalar) -> Scalar) -> DenseMatrix {
        precondition(rows == other.rows && cols == other.cols,
                     "\(op): shapes differ: \(shapeDescription) vs \(other.shapeDescription)")
        var out = elements
        other.elements.withUnsafeBufferPointer { b in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<o.count { o[i] = combine(o[i], b[i]) }
            }
        }
        return DenseMatrix(rows: rows, cols: cols, elements: out)
    }

    /// Elementwise sum; shapes must match.
    public static func + (lhs: DenseMatrix, rhs: DenseMatrix) -> DenseMatrix { lhs.zipMap(rhs, "+", +) }
    /// Elementwise difference; shapes must match.
    public static func - (lhs: DenseMatrix, rhs: DenseMatrix) -> DenseMatrix { lhs.zipMap(rhs, "-", -) }
    /// Elementwise (Hadamard) product; shapes must match. Use ``matmul(_:transposeOther:backend:)`` for the matrix product.
    public static func * (lhs: DenseMatrix, rhs: DenseMatrix) -> DenseMatrix { lhs.zipMap(rhs, "*", *) }
    /// Elementwise quotient; shapes must match.
    public static func / (lhs: DenseMatrix, rhs: DenseMatrix) -> DenseMatrix { lhs.zipMap(rhs, "/", /) }

    /// In-place elementwise sum, with no allocation when `lhs` is uniquely held.
    public static func += (lhs: inout DenseMatrix, rhs: DenseMatrix) {
        precondition(lhs.rows == rhs.rows && lhs.cols == rhs.cols,
                     "+=: shapes differ: \(lhs.shapeDescription) vs \(rhs.shapeDescription)")
        rhs.elements.withUnsafeBufferPointer { b in
            lhs.elements.withUnsafeMutableBufferPointer { a in
                for i in 0..<a.count { a[i] += b[i] }
            }
        }
    }

    /// Adds a scalar to every element.
    public static func + (lhs: DenseMatrix, rhs: Scalar) -> DenseMatrix { lhs.map { $0 + rhs } }
    /// Subtracts a scalar from every element.
    public static func - (lhs: DenseMatrix, rhs: Scalar) -> DenseMatrix { lhs.map { $0 - rhs } }
    /// Multiplies every element by a scalar.
    public static func * (lhs: DenseMatrix, rhs: Scalar) -> DenseMatrix { lhs.map { $0 * rhs } }
    /// Multiplies every element by a scalar.
    public static func * (lhs: Scalar, rhs: DenseMatrix) -> DenseMatrix { rhs.map { lhs * $0 } }
    /// Divides every element by a scalar.
    public static func / (lhs: DenseMatrix, rhs: Scalar) -> DenseMatrix { lhs.map { $0 / rhs } }
    /// Negates every element.
    public static prefix func - (m: DenseMatrix) -> DenseMatrix { m.map { -$0 } }

    /// `e^x` for every element.
    package func exp() -> DenseMatrix { map { Scalar.exp($0) } }
    /// `tanh(x)` for every element.
    package func tanh() -> DenseMatrix { map { Scalar.tanh($0) } }
    /// The square root of every element.
    package func sqrt() -> DenseMatrix { map { $0.squareRoot() } }

    /// Applies `combine(element, vector[column])` to every element: the vector
    /// (`1 × cols`, or a plain array of `cols` values) is broadcast down the rows.
    @inlinable
    package func broadcastingRow(_ vector: [Scalar], _ op: String = "row broadcast",
                                _ combine: (Scalar, Scalar) -> Scalar) -> DenseMatrix {
        precondition(vector.count == cols,
                     "\(op): row vector [1, \(vector.count)] does not fit \(shapeDescription)")
        var out = elements
        vector.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer { o in
                for r in 0..<rows {
                    let base = r * cols
                    for c in 0..<cols { o[base + c] = combine(o[base + c], v[c]) }
                }
            }
        }
        return DenseMatrix(rows: rows, cols: cols, elements: out)
    }

    /// Applies `combine(element, vector[row])` to every element: the column
    /// vector (`rows × 1`) is broadcast across the columns.
    @inlinable
    package func broadcastingColumn(_ vector: DenseMatrix, _ op: String = "column broadcast",
                                   _ combine: (Scalar, Scalar) -> Scalar) -> DenseMatrix {
        precondition(vector.cols == 1 && vector.rows == rows,
                     "\(op): column vector \(vector.shapeDescription) does not fit \(shapeDescription)")
        var out = elements
        vector.elements.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer { o in
                for r in 0..<rows {
                    let base = r * cols, s = v[r]
                    for c in 0..<cols { o[base + c] = combine(o[base + c], s) }
                }
            }
        }
        return DenseMatrix(rows: rows, cols: cols, elements: out)
    }

    /// Adds a row vector (`1 × cols`) to every row: `x + b` for a bias `b`.
    package func addingRow(_ vector: DenseMatrix) -> DenseMatrix {
        precondition(vector.rows == 1, "addingRow: \(vector.shapeDescription) is not a row vector for \(shapeDescription)")
        return broadcastingRow(vector.elements, "addingRow", +)
    }

    /// Multiplies every row elementwise by a row vector (`1 × cols`): a gain.
    package func multiplyingRows(by vector: DenseMatrix) -> DenseMatrix {
        precondition(vector.rows == 1, "multiplyingRows: \(vector.shapeDescription) is not a row vector for \(shapeDescription)")
        return broadcastingRow(vector.elements, "multiplyingRows", *)
    }

    /// Subtracts `column[r]` from every element of row `r` (`column` is `rows × 1`).
    package func subtractingColumn(_ column: DenseMatrix) -> DenseMatrix { broadcastingColumn(column, "subtractingColumn", -) }

    /// Divides every element of row `r` by `column[r]` (`column` is `rows × 1`).
    package func dividingColumn(_ column: DenseMatrix) -> DenseMatrix { broadcastingColumn(column, "dividingColumn", /) }
}
