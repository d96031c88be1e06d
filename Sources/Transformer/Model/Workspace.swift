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
    }
    private var pointers = [UnsafeMutablePointer<Double>?](repeating: nil, count: Slot.allCases.count)
    private var capacities = [Int](repeating: 0, count: Slot.allCases.count)

    package init() {}

    /// A buffer of at least `count` doubles (contents unspecified), valid until
    /// the same slot is asked for more.
    package func buffer(_ slot: Slot, _ count: Int) -> UnsafeMutablePointer<Double> {
        let i = slot.rawValue
        if let p = pointers[i], capacities[i] >= count { return p }
        pointers[i]?.deallocate()
        let p = UnsafeMutablePointer<Double>.allocate(capacity: max(count, 1))
        pointers[i] = p
        capacities[i] = max(count, 1)
        return p
    }

    deinit { pointers.forEach { $0?.deallocate() } }
}
