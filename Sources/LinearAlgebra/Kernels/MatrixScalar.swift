import RealModule

/// An element type of ``DenseMatrix``: `Double` or `Float`.
///
/// Every matrix operation and kernel is written once, generic over its scalar;
/// the two conformances differ only in the width of `Vector` (one 32-byte
/// register: four `Double`s or eight `Float`s) and `TileVector` (the GEMM
/// micro-kernel's: 64 bytes in an AVX-512 build), and in which BLAS and LAPACK
/// routines the ``Backend/blas`` backend calls (`d…` or `s…`), chosen where the
/// call is made. Conforming other types is not supported.
public protocol MatrixScalar: _MatrixKernelScalar, Sendable, LosslessStringConvertible
where RawSignificand: FixedWidthInteger {}

/// The kernels' SIMD requirements of a ``MatrixScalar``: not API (underscored,
/// so neither documentation nor completion shows it), only public because a
/// public protocol cannot refine a package one.
public protocol _MatrixKernelScalar: BinaryFloatingPoint, Real, SIMDScalar, Codable {
    /// The SIMD vector the pure-Swift kernels compute in: 32 bytes, one AVX register.
    associatedtype Vector: SIMD where Vector.Scalar == Self

    /// `a * b + c` lane by lane, fused into FMAs where the target has them
    /// (`Relaxed` lets the compiler choose, so a build without FMA stays fast).
    /// The kernels' one scalar-specific primitive: written out per type, so
    /// even an unoptimised (debug) build runs it without generic dispatch per lane.
    static func multiplyAdd(_ a: Vector, _ b: Vector, _ c: Vector) -> Vector

    /// The SIMD vector of the pure-Swift GEMM's register tile: one register of
    /// the widest the build targets, 64 bytes (`-D SWIFTATTENTION_AVX512`) or
    /// `Vector`'s 32. Only the GEMM's micro-kernel computes in it: its FMAs
    /// are the whole of its work; 64-byte vectors in every kernel made prefill
    /// slower and decoding no faster (docs/PERFORMANCE.md), so the others stay at 32 bytes.
    associatedtype TileVector: SIMD where TileVector.Scalar == Self

    /// `a * b + c` lane by lane, as ``multiplyAdd(_:_:_:)``, for `TileVector`.
    static func multiplyAdd(_ a: TileVector, _ b: TileVector, _ c: TileVector) -> TileVector
}

extension Double: MatrixScalar {
    public typealias Vector = SIMD4<Double>

    @inline(__always)
    public static func multiplyAdd(_ a: Vector, _ b: Vector, _ c: Vector) -> Vector {
        Vector(Relaxed.multiplyAdd(a[0], b[0], c[0]), Relaxed.multiplyAdd(a[1], b[1], c[1]),
               Relaxed.multiplyAdd(a[2], b[2], c[2]), Relaxed.multiplyAdd(a[3], b[3], c[3]))
    }
}

extension Double {
    #if SWIFTATTENTION_AVX512
    public typealias TileVector = SIMD8<Double>
    #else
    public typealias TileVector = Vector
    #endif
}

extension Float: MatrixScalar {
    public typealias Vector = SIMD8<Float>

    @inline(__always)
    public static func multiplyAdd(_ a: Vector, _ b: Vector, _ c: Vector) -> Vector {
        Vector(Relaxed.multiplyAdd(a[0], b[0], c[0]), Relaxed.multiplyAdd(a[1], b[1], c[1]),
               Relaxed.multiplyAdd(a[2], b[2], c[2]), Relaxed.multiplyAdd(a[3], b[3], c[3]),
               Relaxed.multiplyAdd(a[4], b[4], c[4]), Relaxed.multiplyAdd(a[5], b[5], c[5]),
               Relaxed.multiplyAdd(a[6], b[6], c[6]), Relaxed.multiplyAdd(a[7], b[7], c[7]))
    }
}

extension Float {
    #if SWIFTATTENTION_AVX512
    public typealias TileVector = SIMD16<Float>
    #else
    public typealias TileVector = Vector
    #endif
}

#if SWIFTATTENTION_AVX512
extension _MatrixKernelScalar {
    /// `a * b + c` lane by lane for a `TileVector` wider than `Vector`.
    @inlinable @inline(__always)
    public static func multiplyAdd(_ a: TileVector, _ b: TileVector, _ c: TileVector) -> TileVector {
        var r = c
        for l in 0..<TileVector.scalarCount { r[l] = Relaxed.multiplyAdd(a[l], b[l], c[l]) }
        return r
    }
}
#endif

extension MatrixScalar {
    /// Lanes in a `Vector`.
    @inlinable @inline(__always)
    package static var lanes: Int { Vector.scalarCount }

    /// A `Vector` of the `Self`s starting at element `i` of `p`, whose elements
    /// are `E`s: a plain load when `E` is `Self`, an exact widening when a
    /// `Float` is read into a `Double` vector.
    @inlinable @inline(__always)
    package static func loadVector<E: MatrixScalar>(_ p: UnsafeRawPointer, _ i: Int, from: E.Type) -> Vector {
        if E.self == Self.self {
            return p.loadUnaligned(fromByteOffset: i &* MemoryLayout<Self>.stride, as: Vector.self)
        }
        if E.self == Float.self && Self.self == Double.self {
            let wide = SIMD4<Double>(p.loadUnaligned(fromByteOffset: i &* 4, as: SIMD4<Float>.self))
            return unsafeBitCast(wide, to: Vector.self)
        }
        var v = Vector()
        for l in 0..<Vector.scalarCount {
            v[l] = Self(p.loadUnaligned(fromByteOffset: (i &+ l) &* MemoryLayout<E>.stride, as: E.self))
        }
        return v
    }

    /// Stores `v` at element `i` of `p`.
    @inlinable @inline(__always)
    package static func storeVector(_ v: Vector, _ p: UnsafeMutableRawPointer, _ i: Int) {
        p.storeBytes(of: v, toByteOffset: i &* MemoryLayout<Self>.stride, as: Vector.self)
    }

    /// Four elements from element `i` of `p`, as `Double`s (exact): for
    /// statistics kept in `Double` either way (the layer norm's).
    @inlinable @inline(__always)
    package static func load4(_ p: UnsafePointer<Self>, _ i: Int) -> SIMD4<Double> {
        let raw = UnsafeRawPointer(p + i)
        if Self.self == Double.self { return raw.loadUnaligned(as: SIMD4<Double>.self) }
        return SIMD4<Double>(raw.loadUnaligned(as: SIMD4<Float>.self))
    }

    /// Stores four `Double`s at element `i` of `p`, rounded to `Self`.
    @inlinable @inline(__always)
    package static func store4(_ v: SIMD4<Double>, _ p: UnsafeMutablePointer<Self>, _ i: Int) {
        let raw = UnsafeMutableRawPointer(p + i)
        if Self.self == Double.self {
            raw.storeBytes(of: v, as: SIMD4<Double>.self)
        } else {
            raw.storeBytes(of: SIMD4<Float>(v), as: SIMD4<Float>.self)
        }
    }

    /// Whether `Self` is `Float` (BLAS's `s` routines) rather than `Double` (`d`).
    @inline(__always)
    package static var isSingle: Bool { Self.self == Float.self }
}
