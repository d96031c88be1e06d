import Synchronization

/// Which implementation runs the numeric kernels.
///
/// Both backends compute the same results (to rounding, ~1e-12 relative) and
/// can be mixed freely. Set ``Backend/default`` once for the whole process, or
/// pass `backend:` to a single call.
public enum Backend: String, Sendable, CaseIterable, Codable {
    /// OpenBLAS (`cblas_dgemm`, `cblas_dgemv`, …) and LAPACKE.
    case blas
    /// Pure-Swift kernels: packed, cache-blocked GEMM, GEMV and LU.
    case swift

    private static let storage = Mutex<Backend>(.blas)

    /// The backend used when a call does not name one. Safe to read and set
    /// from any thread; starts as ``blas``.
    public static var `default`: Backend {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
