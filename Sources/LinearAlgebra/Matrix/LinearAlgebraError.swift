/// Errors from the linear-algebra routines that depend on the values, not
/// only the shapes, of their inputs.
public enum LinearAlgebraError: Error, Equatable, CustomStringConvertible {
    /// The operation needs a square matrix.
    case notSquare(rows: Int, cols: Int)
    /// The matrix is singular: LU factorisation found an exact zero pivot at `pivot` (0-based).
    case singular(pivot: Int)
    /// The matrix is singular to working precision: its reciprocal condition
    /// estimate is below machine epsilon, so a solution would have no correct digits.
    case illConditioned(reciprocalCondition: Double)
    /// An element is NaN or infinite.
    case notFinite
    /// The right-hand side has a different number of rows than the matrix.
    case shapeMismatch(matrix: String, rightHandSide: String)
    /// A thread count outside `1…maximum`.
    case threadCountOutOfRange(Int, maximum: Int)

    public var description: String {
        switch self {
        case let .notSquare(r, c): return "matrix is not square: [\(r), \(c)]"
        case let .singular(p): return "matrix is singular (zero pivot at row \(p))"
        case let .illConditioned(rcond):
            return "matrix is singular to working precision (reciprocal condition estimate \(rcond), below the scalar's machine epsilon)"
        case .notFinite: return "matrix holds a NaN or infinite element"
        case let .shapeMismatch(m, b): return "right-hand side \(b) does not match matrix \(m)"
        case let .threadCountOutOfRange(n, maximum): return "thread count \(n) is outside 1…\(maximum)"
        }
    }
}
