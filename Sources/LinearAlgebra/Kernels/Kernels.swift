import COpenBLAS

/// Raw-pointer entry points shared by every operation; each dispatches on the
/// backend. Pointers are row-major with the given leading dimensions.
///
/// For code that manages its own buffers (the transformer's forward pass):
/// no shape checks beyond the caller's, no allocation. Each call reads the
/// thread count once (``KernelThreads/current``) unless given one.
package enum Kernels {
    /// `C[m, n] = alpha * op(A) · op(B) + beta * C` (rows of C `ldc` apart),
    /// routed to a matrix–vector product when `m` is 1 (or `n` is 1 and C is
    /// contiguous), as OpenBLAS's one-row dgemm is several times slower than dgemv.
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    package static func multiply<S: MatrixScalar>(
        _ A: UnsafePointer<S>, lda: Int, transposeA: Bool,
        _ B: UnsafePointer<S>, ldb: Int, transposeB: Bool,
        _ C: UnsafeMutablePointer<S>, ldc: Int, m: Int, n: Int, k: Int,
        alpha: S = 1, beta: S = 0, backend: Backend = .default, threads: Int? = nil
    ) {
        if m == 0 || n == 0 { return }
        let threads = threads ?? KernelThreads.current
        if k == 0 {
            for i in 0..<m { scale(C + i * ldc, count: n, by: beta) }
        } else if m == 1 {
            // x · op(B): op(A) is one row, read with stride lda when A is transposed.
            gemv(w: B, rows: transposeB ? n : k, cols: transposeB ? k : n, ldw: ldb, transposed: transposeB,
                 x: A, incX: transposeA ? lda : 1, y: C, alpha: alpha, beta: beta, backend: backend, threads: threads)
        } else if n == 1 && ldc == 1 {
            // op(A) · x: x is op(B)'s single column.
            gemv(w: A, rows: transposeA ? k : m, cols: transposeA ? m : k, ldw: lda, transposed: !transposeA,
                 x: B, incX: transposeB ? 1 : ldb, y: C, alpha: alpha, beta: beta, backend: backend, threads: threads)
        } else {
            gemm(A, lda: lda, transposeA: transposeA, B, ldb: ldb, transposeB: transposeB,
                 C, ldc: ldc, m: m, n: n, k: k, alpha: alpha, beta: beta, backend: backend, threads: threads)
        }
    }

    /// `C[m, n] = alpha * op(A) · op(B) + beta * C` as a GEMM, whatever the shape.
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    package static func gemm<S: MatrixScalar>(
        _ A: UnsafePointer<S>, lda: Int, transposeA: Bool,
        _ B: UnsafePointer<S>, ldb: Int, transposeB: Bool,
        _ C: UnsafeMutablePointer<S>, ldc: Int, m: Int, n: Int, k: Int,
        alpha: S, beta: S, backend: Backend, threads: Int? = nil
    ) {
        switch backend {
        case .blas:
            let ta = transposeA ? CblasTrans : CblasNoTrans, tb = transposeB ? CblasTrans : CblasNoTrans
            if S.isSingle {
                cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), Float(alpha),
                            raw(A), Int32(lda), raw(B), Int32(ldb), Float(beta), rawMutable(C), Int32(ldc))
            } else {
                cblas_dgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), Double(alpha),
                            raw(A), Int32(lda), raw(B), Int32(ldb), Double(beta), rawMutable(C), Int32(ldc))
            }
        case .swift:
            SwiftGEMM.run(A, lda: lda, transposeA: transposeA, B, ldb: ldb, transposeB: transposeB,
                          C, ldc: ldc, m: m, n: n, k: k, alpha: alpha, beta: beta,
                          threads: threads ?? KernelThreads.current)
        }
    }

    /// A matrix–vector product with `W` row-major `[rows, cols]` (rows `ldw` apart):
    /// `y[cols] = alpha * x[rows] · W + beta * y` when `transposed` is false,
    /// `y[rows] = alpha * W · x[cols] + beta * y` when it is true.
    /// `x` is read with stride `incX`; `y` is contiguous.
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    package static func gemv<S: MatrixScalar>(
        w W: UnsafePointer<S>, rows: Int, cols: Int, ldw: Int? = nil, transposed: Bool,
        x: UnsafePointer<S>, incX: Int,
        y: UnsafeMutablePointer<S>, alpha: S, beta: S, backend: Backend, threads: Int? = nil
    ) {
        switch backend {
        case .blas:
            // CBLAS computes op(W) · x; x · W is Wᵀ · x.
            let op = transposed ? CblasNoTrans : CblasTrans
            if S.isSingle {
                cblas_sgemv(CblasRowMajor, op, Int32(rows), Int32(cols), Float(alpha), raw(W), Int32(ldw ?? cols),
                            raw(x), Int32(incX), Float(beta), rawMutable(y), 1)
            } else {
                cblas_dgemv(CblasRowMajor, op, Int32(rows), Int32(cols), Double(alpha), raw(W), Int32(ldw ?? cols),
                            raw(x), Int32(incX), Double(beta), rawMutable(y), 1)
            }
        case .swift:
            SwiftGEMV.run(w: W, rows: rows, cols: cols, ldw: ldw ?? cols, transposed: transposed,
                          x: x, incX: incX, y: y, alpha: alpha, beta: beta, threads: threads ?? KernelThreads.current)
        }
    }

    /// `x[i] *= factor`; with factor 0 the result is exactly 0 (NaNs are cleared).
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    package static func scale<S: MatrixScalar>(_ x: UnsafeMutablePointer<S>, count: Int, by factor: S) {
        if factor == 0 {
            x.update(repeating: 0, count: count)
        } else if factor != 1 {
            for i in 0..<count { x[i] *= factor }
        }
    }

    /// `p` as a pointer to `T`, for the BLAS call that matches `S` (`T` is `S`).
    @inline(__always)
    package static func raw<S, T>(_ p: UnsafePointer<S>) -> UnsafePointer<T> {
        UnsafeRawPointer(p).assumingMemoryBound(to: T.self)
    }

    @inline(__always)
    package static func rawMutable<S, T>(_ p: UnsafeMutablePointer<S>) -> UnsafeMutablePointer<T> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: T.self)
    }
}
