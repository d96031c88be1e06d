#if canImport(Glibc)
import Glibc
#endif

/// An array of `count` elements, all of which `initialize` sets, whose memory
/// is asked of Linux in 2 MiB pages (transparent huge pages) before it is
/// first written, for weights that are streamed whole again and again.
///
/// A decoded token reads every weight once: with 4 KiB pages that is a TLB
/// miss and a page-table walk every 4 KiB, with 2 MiB pages one per 2 MiB,
/// and loading faults in 512× fewer pages. Where transparent huge pages are
/// `madvise`-only, only memory advised this way gets them; where the system
/// offers none the advice is ignored. (Measured: docs/PERFORMANCE.md.)
///
/// An array's elements start where `malloc` put its storage, plus the array's
/// header: only the whole 2 MiB pages inside get huge pages. ``WeightBuffer``
/// starts on a page boundary instead.
package func hugePageArray<E>(count: Int, _ initialize: (UnsafeMutableBufferPointer<E>) throws -> Void) rethrows -> [E] {
    try [E](unsafeUninitializedCapacity: count) { buffer, initialized in
        adviseHugePages(UnsafeMutableRawBufferPointer(buffer))
        try initialize(buffer)
        initialized = count
    }
}

/// Read-only elements whose first one starts a 64-byte cache line, or, from
/// 2 MiB on, a 2 MiB page with huge pages asked for (as ``hugePageArray(count:_:)``
/// does): the `Float` weights a decoded token streams whole.
///
/// An `Array`'s elements start 48 bytes past a 64-byte boundary (glibc's chunk
/// header and the array's own), so half the 32-byte loads of a GEMV's rows
/// would straddle two cache lines; aligned rows stream faster, most of all
/// from cache (measured: docs/PERFORMANCE.md).
package final class WeightBuffer<Element: BitwiseCopyable & Equatable>: RandomAccessCollection, Equatable, @unchecked Sendable {
    /// The number of elements.
    package let count: Int
    private let base: UnsafeMutablePointer<Element>

    /// `count` elements, every one of which `initialize` sets (or throws).
    package init(count: Int, _ initialize: (UnsafeMutableBufferPointer<Element>) throws -> Void) rethrows {
        let bytes = Swift.max(1, count * MemoryLayout<Element>.stride), page = 1 << 21
        var memory: UnsafeMutableRawPointer?
        guard posix_memalign(&memory, bytes >= page ? page : 64, bytes) == 0, let memory else {
            fatalError("WeightBuffer: cannot allocate \(bytes) bytes")
        }
        adviseHugePages(UnsafeMutableRawBufferPointer(start: memory, count: bytes))
        base = memory.bindMemory(to: Element.self, capacity: count)
        self.count = count
        try initialize(UnsafeMutableBufferPointer(start: base, count: count))   // on a throw, deinit frees
    }

    /// A copy of `elements`.
    package convenience init<C: Collection>(_ elements: C) where C.Element == Element {
        self.init(count: elements.count) { out in _ = out.initialize(from: elements) }
    }

    deinit { free(base) }

    package var startIndex: Int { 0 }
    package var endIndex: Int { count }

    package subscript(i: Int) -> Element {
        precondition(i >= 0 && i < count, "WeightBuffer: index \(i) out of 0..<\(count)")
        return base[i]
    }

    /// Calls `body` with the elements' memory, valid for the call.
    package func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(UnsafeBufferPointer(start: base, count: count)) }
    }

    /// The same elements, in order.
    package static func == (a: WeightBuffer, b: WeightBuffer) -> Bool {
        a === b || a.elementsEqual(b)
    }
}

/// Asks for huge pages on the whole 2 MiB pages inside `buffer` (a smaller
/// buffer has none, and its advice would reach into its neighbours' memory).
private func adviseHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
    #if canImport(Glibc)
    let huge = 1 << 21, base = Int(bitPattern: buffer.baseAddress)
    let start = (base + huge - 1) & ~(huge - 1), end = (base + buffer.count) & ~(huge - 1)
    guard end > start else { return }
    _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_HUGEPAGE)
    #endif
}
