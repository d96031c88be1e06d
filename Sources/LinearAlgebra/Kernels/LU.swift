import COpenBLAS

/// An LU factorisation with partial pivoting, `P·A = L·U`, of a square matrix:
/// `factors` holds L below the diagonal (unit diagonal implied) and U on and
/// above it; row `i` was swapped with row `pivots[i]` (0-based) at step `i`.
struct LUFactorization<Scalar: MatrixScalar> {
    var factors: [Scalar]
    var pivots: [Int]
    let n: Int
    /// `‖A‖₁`, the largest column sum of absolute values, for the condition estimate.
    let norm1: Scalar
    /// The first exactly-zero pivot, if any (the matrix is singular).
    var zeroPivot: Int?

    /// Factors `a`.
    ///
    /// - Throws: ``LinearAlgebraError/notSquare(rows:cols:)``, or
    ///   ``LinearAlgebraError/notFinite`` when an element is NaN or infinite.
    init(_ a: DenseMatrix<Scalar>, backend: Backend) throws {
        guard a.rows == a.cols else { throw LinearAlgebraError.notSquare(rows: a.rows, cols: a.cols) }
        guard a.elements.allSatisfy(\.isFinite) else { throw LinearAlgebraError.notFinite }
        n = a.rows
        factors = a.elements
        pivots = Array(0..<n)
        var norm: Scalar = 0
        for c in 0..<n {
            var sum: Scalar = 0
            for r in 0..<n { sum += abs(factors[r * n + c]) }
            norm = max(norm, sum)
        }
        norm1 = norm
        guard n > 0 else { return }
        switch backend {
        case .blas:
            var ipiv = [Int32](repeating: 0, count: n)
            let order = Int32(n)
            let info = factors.withUnsafeMutableBufferPointer { a in
                Scalar.isSingle
                    ? LAPACKE_sgetrf(LAPACK_ROW_MAJOR, order, order, Kernels.rawMutable(a.baseAddress!), order, &ipiv)
                    : LAPACKE_dgetrf(LAPACK_ROW_MAJOR, order, order, Kernels.rawMutable(a.baseAddress!), order, &ipiv)
            }
            precondition(info >= 0, "LAPACKE getrf: illegal argument \(-info)")
            pivots = ipiv.map { Int($0) - 1 }
            if info > 0 { zeroPivot = Int(info) - 1 }
        case .swift:
            factorInSwift()
        }
    }

    /// Doolittle elimination with partial pivoting, row-major, in place.
    private mutating func factorInSwift() {
        let n = self.n
        var zero: Int?
        factors.withUnsafeMutableBufferPointer { a in
            for k in 0..<n {
                var p = k
                for i in (k + 1)..<max(n, k + 1) where abs(a[i * n + k]) > abs(a[p * n + k]) { p = i }
                pivots[k] = p
                if p != k { for j in 0..<n { a.swapAt(k * n + j, p * n + j) } }
                let pivot = a[k * n + k]
                if pivot == 0 {
                    if zero == nil { zero = k }
                    continue
                }
                for i in (k + 1)..<max(n, k + 1) {
                    let l = a[i * n + k] / pivot
                    a[i * n + k] = l
                    if l != 0 { for j in (k + 1)..<n { a[i * n + j] -= l * a[k * n + j] } }
                }
            }
        }
        zeroPivot = zero
    }

    /// `det(A)`: the product of U's diagonal, negated once per row swap.
    var determinant: Scalar {
        if zeroPivot != nil { return 0 }
        var d: Scalar = 1
        for i in 0..<n {
            d *= factors[i * n + i]
            if pivots[i] != i { d = -d }
        }
        return d
    }

    /// An estimate of the reciprocal condition number in the 1-norm,
    /// `1 / (‖A‖₁ ‖A⁻¹‖₁)`: LAPACK's `dgecon` on ``Backend/blas``; on
    /// ``Backend/swift``, Hager's estimate of `‖A⁻¹‖₁` (the method `dgecon` refines)
    /// from a few solves with the factors. 0 for an exactly singular matrix.
    func reciprocalCondition(backend: Backend) -> Scalar {
        if zeroPivot != nil { return 0 }
        if n == 0 || norm1 == 0 { return n == 0 ? 1 : 0 }
        switch backend {
        case .blas:
            var rcond: Scalar = 0
            var lu = factors
            let info = lu.withUnsafeMutableBufferPointer { a in
                withUnsafeMutablePointer(to: &rcond) { r in
                    Scalar.isSingle
                        ? LAPACKE_sgecon(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "1")), Int32(n), Kernels.rawMutable(a.baseAddress!), Int32(n),
                                         Float(norm1), Kernels.rawMutable(r))
                        : LAPACKE_dgecon(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "1")), Int32(n), Kernels.rawMutable(a.baseAddress!), Int32(n),
                                         Double(norm1), Kernels.rawMutable(r))
                }
            }
            precondition(info == 0, "LAPACKE gecon: illegal argument \(-info)")
            return rcond
        case .swift:
            var x = [Scalar](repeating: 1 / Scalar(n), count: n), estimate: Scalar = 0
            for _ in 0..<5 {
                let y = solveInSwift(x, transposed: false)                      // y = A⁻¹ x
                estimate = y.reduce(0) { $0 + abs($1) }
                let z = solveInSwift(y.map { $0 < 0 ? -1 : 1 }, transposed: true)   // z = A⁻ᵀ sign(y)
                let j = z.indices.max { abs(z[$0]) < abs(z[$1]) }!
                if abs(z[j]) <= zip(z, x).reduce(0) { $0 + $1.0 * $1.1 } { break }
                x = [Scalar](repeating: 0, count: n)
                x[j] = 1
            }
            return estimate.isFinite ? 1 / (norm1 * estimate) : 0
        }
    }

    /// `A⁻¹ b` (or `A⁻ᵀ b`) for one vector, from the factors, in Swift.
    private func solveInSwift(_ b: [Scalar], transposed: Bool) -> [Scalar] {
        var x = b
        if !transposed {
            for i in 0..<n where pivots[i] != i { x.swapAt(i, pivots[i]) }             // P b
            for i in 0..<n { for p in 0..<i { x[i] -= factors[i * n + p] * x[p] } }     // L y = P b
            for i in stride(from: n - 1, through: 0, by: -1) {                          // U x = y
                for p in (i + 1)..<n { x[i] -= factors[i * n + p] * x[p] }
                x[i] /= factors[i * n + i]
            }
        } else {
            for i in 0..<n {                                                            // Uᵀ w = b
                for p in 0..<i { x[i] -= factors[p * n + i] * x[p] }
                x[i] /= factors[i * n + i]
            }
            for i in stride(from: n - 1, through: 0, by: -1) {                          // Lᵀ v = w
                for p in (i + 1)..<n { x[i] -= factors[p * n + i] * x[p] }
            }
            for i in stride(from: n - 1, through: 0, by: -1) where pivots[i] != i { x.swapAt(i, pivots[i]) }   // Pᵀ v
        }
        return x
    }

    /// Solves `A · X = B` for `B` of shape `[n, k]`.
    ///
    /// - Throws: ``LinearAlgebraError/singular(pivot:)`` for an exact zero pivot,
    ///   ``LinearAlgebraError/illConditioned(reciprocalCondition:)`` when the
    ///   reciprocal condition estimate is below machine epsilon (the answer
    ///   would carry no correct digits).
    func solve(_ b: DenseMatrix<Scalar>, backend: Backend) throws -> DenseMatrix<Scalar> {
        if let p = zeroPivot { throw LinearAlgebraError.singular(pivot: p) }
        guard b.elements.allSatisfy(\.isFinite) else { throw LinearAlgebraError.notFinite }
        let rcond = reciprocalCondition(backend: backend)
        if rcond < Scalar.ulpOfOne { throw LinearAlgebraError.illConditioned(reciprocalCondition: Double(rcond)) }
        var x = b.elements
        let k = b.cols
        guard n > 0, k > 0 else { return b }
        switch backend {
        case .blas:
            let ipiv = pivots.map { Int32($0 + 1) }
            var lu = factors
            let info = lu.withUnsafeMutableBufferPointer { a in
                x.withUnsafeMutableBufferPointer { b in
                    Scalar.isSingle
                        ? LAPACKE_sgetrs(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), Int32(n), Int32(k),
                                         Kernels.rawMutable(a.baseAddress!), Int32(n), ipiv, Kernels.rawMutable(b.baseAddress!), Int32(k))
                        : LAPACKE_dgetrs(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), Int32(n), Int32(k),
                                         Kernels.rawMutable(a.baseAddress!), Int32(n), ipiv, Kernels.rawMutable(b.baseAddress!), Int32(k))
                }
            }
            precondition(info == 0, "LAPACKE getrs: illegal argument \(-info)")
        case .swift:
            for i in 0..<n where pivots[i] != i {
                for j in 0..<k { x.swapAt(i * k + j, pivots[i] * k + j) }
            }
            for i in 0..<n {          // L · y = P · b, L unit lower-triangular
                for p in 0..<i {
                    let l = factors[i * n + p]
                    if l != 0 { for j in 0..<k { x[i * k + j] -= l * x[p * k + j] } }
                }
            }
            for i in stride(from: n - 1, through: 0, by: -1) {   // U · x = y
                for p in (i + 1)..<n {
                    let u = factors[i * n + p]
                    if u != 0 { for j in 0..<k { x[i * k + j] -= u * x[p * k + j] } }
                }
                let d = factors[i * n + i]
                for j in 0..<k { x[i * k + j] /= d }
            }
        }
        guard x.allSatisfy(\.isFinite) else { throw LinearAlgebraError.illConditioned(reciprocalCondition: Double(rcond)) }
        return DenseMatrix(rows: n, cols: k, elements: x)
    }
}

/// Solves `a · x = b` for `x` (`a` is `[n, n]`, `b` is `[n, k]`), by LU with
/// partial pivoting (LAPACK `dgetrf`/`dgetrs` on ``Backend/blas``).
///
/// - Throws: ``LinearAlgebraError/notSquare(rows:cols:)`` if `a` is not square,
///   ``LinearAlgebraError/shapeMismatch(matrix:rightHandSide:)`` if `b` has the wrong
///   number of rows, ``LinearAlgebraError/notFinite`` for a NaN or infinite element,
///   ``LinearAlgebraError/singular(pivot:)`` if `a` is exactly singular and
///   ``LinearAlgebraError/illConditioned(reciprocalCondition:)`` if it is
///   singular to working precision (reciprocal condition estimate below machine
///   epsilon: 2.2e-16 for `Double`, 1.2e-7 for `Float`).
public func solve<Scalar: MatrixScalar>(_ a: DenseMatrix<Scalar>, _ b: DenseMatrix<Scalar>,
                                        backend: Backend = .default) throws -> DenseMatrix<Scalar> {
    guard a.rows == a.cols else { throw LinearAlgebraError.notSquare(rows: a.rows, cols: a.cols) }
    guard b.rows == a.rows else {
        throw LinearAlgebraError.shapeMismatch(matrix: a.shapeDescription, rightHandSide: b.shapeDescription)
    }
    return try LUFactorization(a, backend: backend).solve(b, backend: backend)
}

extension DenseMatrix {
    /// The inverse matrix.
    ///
    /// - Throws: as ``solve(_:_:backend:)``.
    public func inverse(backend: Backend = .default) throws -> DenseMatrix {
        try solve(self, .identity(rows), backend: backend)
    }

    /// The determinant, from an LU factorisation. A singular matrix has
    /// determinant exactly 0 (an exact zero pivot), which is returned, not thrown.
    ///
    /// - Throws: ``LinearAlgebraError/notSquare(rows:cols:)``, ``LinearAlgebraError/notFinite``.
    public func determinant(backend: Backend = .default) throws -> Scalar {
        try LUFactorization(self, backend: backend).determinant
    }

    /// An estimate of the reciprocal condition number in the 1-norm,
    /// `1 / (‖A‖₁ ‖A⁻¹‖₁)`: near 1 for a well-conditioned matrix, 0 for a singular
    /// one; below machine epsilon (2.2e-16 for `Double`, 1.2e-7 for `Float`), ``solve(_:_:backend:)`` refuses.
    ///
    /// - Throws: ``LinearAlgebraError/notSquare(rows:cols:)``, ``LinearAlgebraError/notFinite``.
    public func reciprocalCondition(backend: Backend = .default) throws -> Scalar {
        try LUFactorization(self, backend: backend).reciprocalCondition(backend: backend)
    }
}
