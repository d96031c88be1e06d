import COpenBLAS

extension DenseMatrix {
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
        _ a: DenseMatrix, transposeA: Bool = false,
        _ b: DenseMatrix, transposeB: Bool = false,
        alpha: Scalar = 1, beta: Scalar = 0,
        into c: inout DenseMatrix, backend: Backend = .default
    ) {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let kb = transposeB ? b.cols : b.rows
        let n = transposeB ? b.rows : b.cols
        // Built only when a precondition fails (its message is an autoclosure).
        func product() -> String { "\(a.shapeDescription)\(transposeA ? "ᵀ" : "") · \(b.shapeDescription)\(transposeB ? "ᵀ" : "")" }
        precondition(k == kb, "matmul: inner dimensions differ: \(product())")
        precondition(c.rows == m && c.cols == n, "matmul: output is \(c.shapeDescription), expected [\(m), \(n)] for \(product())")
        if m == 0 || n == 0 { return }
        if k == 0 {
            c.elements.withUnsafeMutableBufferPointer { Kernels.scale($0.baseAddress!, count: m * n, by: beta) }
            return
        }
        a.elements.withUnsafeBufferPointer { pa in
            b.elements.withUnsafeBufferPointer { pb in
                c.elements.withUnsafeMutableBufferPointer { pc in
                    Kernels.multiply(pa.baseAddress!, lda: a.cols, transposeA: transposeA,
                                     pb.baseAddress!, ldb: b.cols, transposeB: transposeB,
                                     pc.baseAddress!, ldc: n, m: m, n: n, k: k,
                                     alpha: alpha, beta: beta, backend: backend)
                }
            }
        }
    }

    /// The matrix product `self · other` (`[m, k] · [k, n] -> [m, n]`), or with
    /// `transposeOther`, `self · otherᵀ` (`[m, k] · [n, k]ᵀ -> [m, n]`).
    public func matmul(_ other: DenseMatrix, transposeOther: Bool = false, backend: Backend = .default) -> DenseMatrix {
        var c = DenseMatrix.zeros(rows: rows, cols: transposeOther ? other.rows : other.cols)
        DenseMatrix.multiply(self, other, transposeB: transposeOther, into: &c, backend: backend)
        return c
    }
}
