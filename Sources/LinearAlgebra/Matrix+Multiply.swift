import COpenBLAS

extension Matrix {
    /// The general matrix product `c = alpha * op(a) * op(b) + beta * c`, written
    /// into `c`'s existing storage (no allocation when `c` is uniquely held).
    ///
    /// `op(x)` is `x` or its transpose, chosen by the flags; transposes are never
    /// materialised. When `op(a)` has one row, or `op(b)` one column, the product
    /// runs as a matrix–vector product (`cblas_dgemv` on ``Backend/blas``), which
    /// OpenBLAS runs several times faster than a one-row `dgemm`.
    /// When `beta` is 0, `c`'s old contents are ignored (NaNs included).
    ///
    /// - Precondition: inner dimensions agree and `c` is `[rows of op(a), cols of op(b)]`.
    public static func multiply(
        _ a: Matrix, transposeA: Bool = false,
        _ b: Matrix, transposeB: Bool = false,
        alpha: Double = 1, beta: Double = 0,
        into c: inout Matrix, backend: Backend = .default
    ) {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let kb = transposeB ? b.cols : b.rows
        let n = transposeB ? b.rows : b.cols
        precondition(
            k == kb,
            "matmul: inner dimensions differ: \(a.shapeDescription)\(transposeA ? "ᵀ" : "") · \(b.shapeDescription)\(transposeB ? "ᵀ" : "")")
        precondition(
            c.rows == m && c.cols == n,
            "matmul: output is \(c.shapeDescription), expected [\(m), \(n)] for \(a.shapeDescription)\(transposeA ? "ᵀ" : "") · \(b.shapeDescription)\(transposeB ? "ᵀ" : "")")
        if m == 0 || n == 0 { return }
        if k == 0 {
            c.elements.withUnsafeMutableBufferPointer { Kernels.scale($0.baseAddress!, count: m * n, by: beta) }
            return
        }
        a.elements.withUnsafeBufferPointer { pa in
            b.elements.withUnsafeBufferPointer { pb in
                c.elements.withUnsafeMutableBufferPointer { pc in
                    let A = pa.baseAddress!, B = pb.baseAddress!, C = pc.baseAddress!
                    if m == 1 {
                        // x · op(b): a vector times a [k, n] (or [n, k]ᵀ) matrix.
                        Kernels.gemv(w: B, rows: b.rows, cols: b.cols, transposed: transposeB,
                                     x: A, incX: transposeA ? a.cols : 1,
                                     y: C, alpha: alpha, beta: beta, backend: backend)
                    } else if n == 1 {
                        // op(a) · x: the same product with the roles swapped.
                        Kernels.gemv(w: A, rows: a.rows, cols: a.cols, transposed: !transposeA,
                                     x: B, incX: transposeB ? 1 : b.cols,
                                     y: C, alpha: alpha, beta: beta, backend: backend)
                    } else {
                        Kernels.gemm(A, lda: a.cols, transposeA: transposeA,
                                     B, ldb: b.cols, transposeB: transposeB,
                                     C, m: m, n: n, k: k, alpha: alpha, beta: beta, backend: backend)
                    }
                }
            }
        }
    }

    /// The matrix product `self · other` (`[m, k] · [k, n] -> [m, n]`), or with
    /// `transposeOther`, `self · otherᵀ` (`[m, k] · [n, k]ᵀ -> [m, n]`).
    public func matmul(_ other: Matrix, transposeOther: Bool = false, backend: Backend = .default) -> Matrix {
        var c = Matrix.zeros(rows: rows, cols: transposeOther ? other.rows : other.cols)
        Matrix.multiply(self, other, transposeB: transposeOther, into: &c, backend: backend)
        return c
    }
}
