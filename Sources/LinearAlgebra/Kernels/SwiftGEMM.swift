import Dispatch
import RealModule

/// The pure-Swift GEMM: operands are packed into contiguous panels
/// (`kc` deep, `mc` rows of A, `nc` columns of B) and a register-blocked
/// `mr × nr` micro-kernel runs over them. Several threads split the output
/// into contiguous row or column ranges. Correct for any shape and any
/// transposes. One implementation for `Double` and `Float` (``MatrixScalar``):
/// the tile is two ``MatrixScalar/TileVector``s wide: 16 `Double`s or 32
/// `Float`s in an AVX-512 build's 64-byte registers, else 8 or 16 (the 64-byte
/// tile's gain is in docs/PERFORMANCE.md; compare `swift` with `blas` in
/// `bench --filter gemm,sgemm`); the other kernels keep 32-byte vectors (see
/// `MatrixScalar.TileVector`).
///
/// The tile's height depends on the build: with FMA and 16 ymm registers
/// (`-target-cpu native` plus `-D SWIFTATTENTION_FMA`, as `scripts/build-release`
/// passes) a 4-row tile keeps its 8 accumulators in registers; with AVX-512's
/// 32 vector registers (`-D SWIFTATTENTION_AVX512`, which `scripts/build-release`
/// adds on a CPU that has AVX-512) an 8-row tile keeps 16, enough independent
/// FMAs in flight to hide their latency; a plain SSE2 build has half the vector
/// width, and a 2-row tile is what fits there.
enum SwiftGEMM {
    /// The height of the register tile (its width is always two vectors).
    enum Tile: Int, CaseIterable { case two = 2, four = 4, eight = 8 }

    #if SWIFTATTENTION_AVX512
    static let defaultTile = Tile.eight
    #elseif SWIFTATTENTION_FMA
    static let defaultTile = Tile.four
    #else
    static let defaultTile = Tile.two
    #endif

    /// The width of the register tile: two ``MatrixScalar/TileVector``s (16
    /// `Double`s or 32 `Float`s in 64-byte vectors, else 8 or 16).
    @inline(__always)
    static func nr<S: MatrixScalar>(_: S.Type) -> Int { 2 &* S.TileVector.scalarCount }
    static let kc = 256, mc = 96, nc = 2048

    /// Below this many multiply-adds, one thread does the whole product.
    static let parallelThreshold = 96 * 96 * 96

    /// `C[m, n] = alpha * op(A) · op(B) + beta * C`, in `S`.
    ///
    /// `B` may hold `Float`s where `S` is `Double` (weights kept as `Float`):
    /// they are widened as B is packed.
    @_specialize(where S == Double, E == Double)
    @_specialize(where S == Double, E == Float)
    @_specialize(where S == Float, E == Float)
    static func run<S: MatrixScalar, E: MatrixScalar>(
        _ A: UnsafePointer<S>, lda: Int, transposeA: Bool,
        _ B: UnsafePointer<E>, ldb: Int, transposeB: Bool,
        _ C: UnsafeMutablePointer<S>, ldc: Int, m: Int, n: Int, k: Int,
        alpha: S, beta: S, threads: Int, tile: Tile = defaultTile
    ) {
        let mr = tile.rawValue, nr = nr(S.self)
        for i in 0..<m { Kernels.scale(C + i &* ldc, count: n, by: beta) }
        let work = m * n * k
        let parts = work < parallelThreshold ? 1 : max(1, threads)
        if parts == 1 {
            serial(A, lda, transposeA, B, ldb, transposeB, C, ldc, m, n, k, alpha, mr)
            return
        }
        // Split the larger output dimension into `parts` ranges aligned to the tile.
        let splitRows = m >= n
        let (extent, align) = splitRows ? (m, mr) : (n, nr)
        let chunk = ((extent + parts - 1) / parts + align - 1) / align * align
        let count = (extent + chunk - 1) / chunk
        parallelFor(count) { t in
            let start = t * chunk, size = min(chunk, extent - start)
            if splitRows {
                let a = transposeA ? A + start : A + start * lda
                serial(a, lda, transposeA, B, ldb, transposeB, C + start * ldc, ldc, size, n, k, alpha, mr)
            } else {
                let b = transposeB ? B + start * ldb : B + start
                serial(A, lda, transposeA, b, ldb, transposeB, C + start, ldc, m, size, k, alpha, mr)
            }
        }
    }

    /// `C += alpha * op(A) · op(B)` on one thread.
    static func serial<S: MatrixScalar, E: MatrixScalar>(
        _ A: UnsafePointer<S>, _ lda: Int, _ transposeA: Bool,
        _ B: UnsafePointer<E>, _ ldb: Int, _ transposeB: Bool,
        _ C: UnsafeMutablePointer<S>, _ ldc: Int, _ m: Int, _ n: Int, _ k: Int,
        _ alpha: S, _ mr: Int
    ) {
        let nr = nr(S.self)
        let packedA = UnsafeMutablePointer<S>.allocate(capacity: (mc + mr) * kc)   // mc is a multiple of 2, 4 and 8
        let packedB = UnsafeMutablePointer<S>.allocate(capacity: (nc + nr) * kc)
        defer { packedA.deallocate(); packedB.deallocate() }
        // op(A)[i, p] and op(B)[p, j] as (row stride, column stride).
        let (aRow, aCol) = transposeA ? (1, lda) : (lda, 1)
        let (bRow, bCol) = transposeB ? (1, ldb) : (ldb, 1)

        var jc = 0
        while jc < n {
            let ncb = min(nc, n - jc)
            var pc = 0
            while pc < k {
                let kcb = min(kc, k - pc)
                packB(B + (pc &* bRow &+ jc &* bCol), bRow, bCol, kcb, ncb, into: packedB)
                var ic = 0
                while ic < m {
                    let mcb = min(mc, m - ic)
                    packA(A + (ic &* aRow &+ pc &* aCol), aRow, aCol, mcb, kcb, alpha, mr, into: packedA)
                    var jr = 0
                    while jr < ncb {
                        var ir = 0
                        while ir < mcb {
                            let c = C + ((ic &+ ir) &* ldc &+ jc &+ jr)
                            let (rows, cols) = (min(mr, mcb - ir), min(nr, ncb - jr))
                            if mr == 8 {
                                microKernel8(kcb, packedA + ir &* kcb, packedB + jr &* kcb, c, ldc, rows, cols)
                            } else if mr == 4 {
                                microKernel4(kcb, packedA + ir &* kcb, packedB + jr &* kcb, c, ldc, rows, cols)
                            } else {
                                microKernel2(kcb, packedA + ir &* kcb, packedB + jr &* kcb, c, ldc, rows, cols)
                            }
                            ir &+= mr
                        }
                        jr &+= nr
                    }
                    ic &+= mc
                }
                pc &+= kc
            }
            jc &+= nc
        }
    }

    /// Packs an `m × k` block of op(A), scaled by alpha, into strips of `mr`
    /// rows: element (i, p) of strip s lands at `s*mr*k + p*mr + i`; short
    /// strips are padded with zeros.
    @inline(__always)
    static func packA<S: MatrixScalar>(_ A: UnsafePointer<S>, _ rs: Int, _ cs: Int, _ m: Int, _ k: Int,
                                       _ alpha: S, _ mr: Int, into out: UnsafeMutablePointer<S>) {
        var s = 0
        while s < m {
            let rowsHere = min(mr, m - s)
            let dst = out + s &* k
            for p in 0..<k {
                for i in 0..<mr {
                    dst[p &* mr &+ i] = i < rowsHere ? alpha * A[(s &+ i) &* rs &+ p &* cs] : 0
                }
            }
            s &+= mr
        }
    }

    /// Packs a `k × n` block of op(B) into strips of `nr` columns: element
    /// (p, j) of strip s lands at `s*nr*k + p*nr + j`, zero-padded.
    @inline(__always)
    static func packB<S: MatrixScalar, E: MatrixScalar>(_ B: UnsafePointer<E>, _ rs: Int, _ cs: Int, _ k: Int, _ n: Int,
                                                        into out: UnsafeMutablePointer<S>) {
        let nr = nr(S.self), lanes = S.lanes
        var s = 0
        while s < n {
            let colsHere = min(nr, n - s)
            let dst = out + s &* k
            if colsHere == nr && cs == 1 {
                let raw = UnsafeMutableRawPointer(dst)
                for p in 0..<k {
                    let src = UnsafeRawPointer(B + (p &* rs &+ s))
                    var j = 0
                    while j < nr {                                               // nr is a multiple of `lanes`
                        S.storeVector(S.loadVector(src, j, from: E.self), raw, p &* nr &+ j)
                        j &+= lanes
                    }
                }
            } else {
                for p in 0..<k {
                    for j in 0..<nr {
                        dst[p &* nr &+ j] = j < colsHere ? S(B[p &* rs &+ (s &+ j) &* cs]) : 0
                    }
                }
            }
            s &+= nr
        }
    }

    /// Adds the 2 × nr product of a packed A strip and a packed B strip to the
    /// `rows × cols` corner of C.
    @inline(__always)
    static func microKernel2<S: MatrixScalar>(_ k: Int, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>,
                                              _ C: UnsafeMutablePointer<S>, _ ldc: Int, _ rows: Int, _ cols: Int) {
        let nr = nr(S.self)
        let half = MemoryLayout<S.TileVector>.stride, step = 2 &* half          // bytes per vector, per row of packed B
        var c00 = S.TileVector(), c01 = S.TileVector()
        var c10 = S.TileVector(), c11 = S.TileVector()
        let bv = UnsafeRawPointer(b)
        for p in 0..<k {
            let b0 = bv.loadUnaligned(fromByteOffset: p &* step, as: S.TileVector.self)
            let b1 = bv.loadUnaligned(fromByteOffset: p &* step &+ half, as: S.TileVector.self)
            let a0 = S.TileVector(repeating: a[p &* 2]), a1 = S.TileVector(repeating: a[p &* 2 &+ 1])
            c00 = S.multiplyAdd(a0, b0, c00); c01 = S.multiplyAdd(a0, b1, c01)
            c10 = S.multiplyAdd(a1, b0, c10); c11 = S.multiplyAdd(a1, b1, c11)
        }
        if rows == 2 && cols == nr {
            addRow(C, c00, c01)
            addRow(C + ldc, c10, c11)
            return
        }
        withUnsafeTemporaryAllocation(of: S.TileVector.self, capacity: 4) { t in
            t[0] = c00; t[1] = c01; t[2] = c10; t[3] = c11
            addCorner(t, C, ldc, rows, cols)
        }
    }

    /// Adds the 4 × nr product of a packed A strip and a packed B strip to the
    /// `rows × cols` corner of C.
    @inline(__always)
    static func microKernel4<S: MatrixScalar>(_ k: Int, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>,
                                              _ C: UnsafeMutablePointer<S>, _ ldc: Int, _ rows: Int, _ cols: Int) {
        let nr = nr(S.self)
        let half = MemoryLayout<S.TileVector>.stride, step = 2 &* half          // bytes per vector, per row of packed B
        var c00 = S.TileVector(), c01 = S.TileVector()
        var c10 = S.TileVector(), c11 = S.TileVector()
        var c20 = S.TileVector(), c21 = S.TileVector()
        var c30 = S.TileVector(), c31 = S.TileVector()
        let bv = UnsafeRawPointer(b)
        for p in 0..<k {
            let b0 = bv.loadUnaligned(fromByteOffset: p &* step, as: S.TileVector.self)
            let b1 = bv.loadUnaligned(fromByteOffset: p &* step &+ half, as: S.TileVector.self)
            let ap = a + p &* 4
            let a0 = S.TileVector(repeating: ap[0]), a1 = S.TileVector(repeating: ap[1])
            let a2 = S.TileVector(repeating: ap[2]), a3 = S.TileVector(repeating: ap[3])
            c00 = S.multiplyAdd(a0, b0, c00); c01 = S.multiplyAdd(a0, b1, c01)
            c10 = S.multiplyAdd(a1, b0, c10); c11 = S.multiplyAdd(a1, b1, c11)
            c20 = S.multiplyAdd(a2, b0, c20); c21 = S.multiplyAdd(a2, b1, c21)
            c30 = S.multiplyAdd(a3, b0, c30); c31 = S.multiplyAdd(a3, b1, c31)
        }
        if rows == 4 && cols == nr {
            addRow(C, c00, c01)
            addRow(C + ldc, c10, c11)
            addRow(C + 2 &* ldc, c20, c21)
            addRow(C + 3 &* ldc, c30, c31)
            return
        }
        withUnsafeTemporaryAllocation(of: S.TileVector.self, capacity: 8) { t in
            t[0] = c00; t[1] = c01; t[2] = c10; t[3] = c11
            t[4] = c20; t[5] = c21; t[6] = c30; t[7] = c31
            addCorner(t, C, ldc, rows, cols)
        }
    }

    /// Adds the 8 × nr product of a packed A strip and a packed B strip to the
    /// `rows × cols` corner of C (16 accumulators: for 32-register targets).
    @inline(__always)
    static func microKernel8<S: MatrixScalar>(_ k: Int, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>,
                                              _ C: UnsafeMutablePointer<S>, _ ldc: Int, _ rows: Int, _ cols: Int) {
        let nr = nr(S.self)
        let half = MemoryLayout<S.TileVector>.stride, step = 2 &* half          // bytes per vector, per row of packed B
        var c00 = S.TileVector(), c01 = S.TileVector(), c10 = S.TileVector(), c11 = S.TileVector()
        var c20 = S.TileVector(), c21 = S.TileVector(), c30 = S.TileVector(), c31 = S.TileVector()
        var c40 = S.TileVector(), c41 = S.TileVector(), c50 = S.TileVector(), c51 = S.TileVector()
        var c60 = S.TileVector(), c61 = S.TileVector(), c70 = S.TileVector(), c71 = S.TileVector()
        let bv = UnsafeRawPointer(b)
        for p in 0..<k {
            let b0 = bv.loadUnaligned(fromByteOffset: p &* step, as: S.TileVector.self)
            let b1 = bv.loadUnaligned(fromByteOffset: p &* step &+ half, as: S.TileVector.self)
            let ap = a + p &* 8
            var ai = S.TileVector(repeating: ap[0])
            c00 = S.multiplyAdd(ai, b0, c00); c01 = S.multiplyAdd(ai, b1, c01)
            ai = S.TileVector(repeating: ap[1])
            c10 = S.multiplyAdd(ai, b0, c10); c11 = S.multiplyAdd(ai, b1, c11)
            ai = S.TileVector(repeating: ap[2])
            c20 = S.multiplyAdd(ai, b0, c20); c21 = S.multiplyAdd(ai, b1, c21)
            ai = S.TileVector(repeating: ap[3])
            c30 = S.multiplyAdd(ai, b0, c30); c31 = S.multiplyAdd(ai, b1, c31)
            ai = S.TileVector(repeating: ap[4])
            c40 = S.multiplyAdd(ai, b0, c40); c41 = S.multiplyAdd(ai, b1, c41)
            ai = S.TileVector(repeating: ap[5])
            c50 = S.multiplyAdd(ai, b0, c50); c51 = S.multiplyAdd(ai, b1, c51)
            ai = S.TileVector(repeating: ap[6])
            c60 = S.multiplyAdd(ai, b0, c60); c61 = S.multiplyAdd(ai, b1, c61)
            ai = S.TileVector(repeating: ap[7])
            c70 = S.multiplyAdd(ai, b0, c70); c71 = S.multiplyAdd(ai, b1, c71)
        }
        if rows == 8 && cols == nr {
            addRow(C, c00, c01)
            addRow(C + ldc, c10, c11)
            addRow(C + 2 &* ldc, c20, c21)
            addRow(C + 3 &* ldc, c30, c31)
            addRow(C + 4 &* ldc, c40, c41)
            addRow(C + 5 &* ldc, c50, c51)
            addRow(C + 6 &* ldc, c60, c61)
            addRow(C + 7 &* ldc, c70, c71)
            return
        }
        withUnsafeTemporaryAllocation(of: S.TileVector.self, capacity: 16) { t in
            t[0] = c00; t[1] = c01; t[2] = c10; t[3] = c11; t[4] = c20; t[5] = c21; t[6] = c30; t[7] = c31
            t[8] = c40; t[9] = c41; t[10] = c50; t[11] = c51; t[12] = c60; t[13] = c61; t[14] = c70; t[15] = c71
            addCorner(t, C, ldc, rows, cols)
        }
    }

    /// An edge tile, spilled to the stack as two vectors per row: adds only its
    /// `rows × cols` corner, the part that lies inside C.
    @inline(__always)
    static func addCorner<S: MatrixScalar>(_ tile: UnsafeMutableBufferPointer<S.TileVector>, _ C: UnsafeMutablePointer<S>,
                                           _ ldc: Int, _ rows: Int, _ cols: Int) {
        let lanes = S.TileVector.scalarCount
        for r in 0..<rows {
            for j in 0..<cols { C[r &* ldc &+ j] += tile[2 &* r &+ j / lanes][j % lanes] }
        }
    }

    /// `row[0..<nr] += (lo, hi)`.
    @inline(__always)
    static func addRow<S: MatrixScalar>(_ row: UnsafeMutablePointer<S>, _ lo: S.TileVector, _ hi: S.TileVector) {
        let raw = UnsafeMutableRawPointer(row), half = MemoryLayout<S.TileVector>.size
        raw.storeBytes(of: raw.loadUnaligned(as: S.TileVector.self) + lo, as: S.TileVector.self)
        raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: half, as: S.TileVector.self) + hi, toByteOffset: half, as: S.TileVector.self)
    }
}
