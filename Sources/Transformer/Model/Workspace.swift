import LinearAlgebra

/// Scratch buffers for a forward pass, one per role; each grows to the
/// largest size asked for and is then reused, so a decoded token allocates
/// nothing. Owned by a ``KVCache``.
package final class Workspace {
    /// The buffers of one forward pass, by role.
    package enum Slot: Int, CaseIterable {
        /// The residual stream `[n, d]`, and a block's normalised input `[n, d]`.
        case x, h
        /// A sublayer's output before it is added to the stream, `[n, d]`.
        case update
        /// Attention: queries, keys and values `[n, 3d]`, the heads' outputs `[n, d]`, scores.
        case qkv, heads, scores
        /// The MLP's hidden layer, `[n, 4d]`.
        case hidden
        /// Logits in the model's scalar before they are widened for the caller, `[rows, n_vocab]` (`float32` only).
        case logits
    }
    private var pointers = [UnsafeMutableRawPointer?](repeating: nil, count: Slot.allCases.count)
    private var capacities = [Int](repeating: 0, count: Slot.allCases.count)   // in bytes

    package init() {}

    /// Slot `slot`'s buffer with room for at least `count` elements of `S`
    /// (contents unspecified; reallocated only when it must grow).
    package func buffer<S: MatrixScalar>(_ slot: Slot, _ count: Int, of: S.Type) -> UnsafeMutablePointer<S> {
        let i = slot.rawValue, bytes = max(count, 1) * MemoryLayout<S>.stride
        if let p = pointers[i], capacities[i] >= bytes { return p.bindMemory(to: S.self, capacity: capacities[i] / MemoryLayout<S>.stride) }
        pointers[i]?.deallocate()
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        pointers[i] = p
        capacities[i] = bytes
        return p.bindMemory(to: S.self, capacity: max(count, 1))
    }

    deinit { pointers.forEach { $0?.deallocate() } }
}
