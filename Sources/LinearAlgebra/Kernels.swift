import COpenBLAS

/// Raw-pointer entry points shared by every operation; each dispatches on the
/// backend. Pointers are row-major with the given leading dimensions.
enum Kernels {
    /// `C[m, n] = alpha * op(A) · op(B) + beta * C`.
    static func gemm(
        _ A: UnsafePointer<Double>, lda: Int, transposeA: Bool,
        _ B: UnsafePointer<Double>, ldb: Int, transposeB: Bool,
        _ C: UnsafeMutablePointer<Double>, m: Int, n: Int, k: Int,
        alpha: Double, beta: Double, backend: Backend
    ) {
        switch backend {
        case .blas:
            ThreadSettings.prepareBLAS()
            cblas_dgemm(CblasRowMajor,
                        transposeA ? CblasTrans : CblasNoTrans,
                        transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), alpha,
                        A, Int32(lda), B, Int32(ldb), beta, C, Int32(n))
        case .swift:
            SwiftGEMM.run(A, lda: lda, transposeA: transposeA, B, ldb: ldb, transposeB: transposeB,
                          C, ldc: n, m: m, n: n, k: k, alpha: alpha, beta: beta,
                          threads: threadCount)
        }
    }

    /// A matrix–vector product with `W` row-major `[rows, cols]`:
    /// `y[cols] = alpha * x[rows] · W + beta * y` when `transposed` is false,
    /// `y[rows] = alpha * W · x[cols] + beta * y` when it is true.
    /// `x` is read with stride `incX`; `y` is contiguous.
    static func gemv(
        w W: UnsafePointer<Double>, rows: Int, cols: Int, transposed: Bool,
        x: UnsafePointer<Double>, incX: Int,
        y: UnsafeMutablePointer<Double>, alpha: Double, beta: Double, backend: Backend
    ) {
        switch backend {
        case .blas:
            ThreadSettings.prepareBLAS()
            // CBLAS computes op(W) · x; x · W is Wᵀ · x.
            cblas_dgemv(CblasRowMajor, transposed ? CblasNoTrans : CblasTrans,
                        Int32(rows), Int32(cols), alpha, W, Int32(cols),
                        x, Int32(incX), beta, y, 1)
        case .swift:
            SwiftGEMV.run(w: W, rows: rows, cols: cols, transposed: transposed,
                          x: x, incX: incX, y: y, alpha: alpha, beta: beta, threads: threadCount)
        }
    }

    /// `x[i] *= factor`; with factor 0 the result is exactly 0 (NaNs are cleared).
    static func scale(_ x: UnsafeMutablePointer<Double>, count: Int, by factor: Double) {
        if factor == 0 {
            x.update(repeating: 0, count: count)
        } else if factor != 1 {
            for i in 0..<count { x[i] *= factor }
        }
    }
}
