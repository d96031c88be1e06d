import LinearAlgebra

/// Scratch buffers for a forward pass, one `ScratchBuffer` per
/// role, so a decoded token allocates nothing. Owned by a ``KVCache``.
package final class Workspace {
    /// The buffers of one forward pass, by role.
    package enum Slot: Int, CaseIterable {
        /// The residual stream `[n, d]`, and a block's normalised input `[n, d]`.
        case x, h
        /// A sublayer's output before it is added to the stream, `[n, d]`.
        case update
        /// Attention: queries, keys and values `[n, 3d]`, the heads' outputs `[n, d]`, scores.
        case qkv, heads, scores
        /// The rotary embedding's angles (`Double`s).
        case rotary
        /// The MLP's hidden layer, `[n, 4d]` (the gated MLP's gate), and the gated MLP's values.
        case hidden, up
        /// Logits in the model's scalar before they are widened for the caller, `[rows, n_vocab]` (`float32` only).
        case logits
    }
    private let buffers = Slot.allCases.map { _ in ScratchBuffer() }

    package init() {}

    /// Slot `slot`'s buffer with room for at least `count` elements of `S`
    /// (contents unspecified; reallocated only when it must grow).
    package func buffer<S: MatrixScalar>(_ slot: Slot, _ count: Int, of: S.Type) -> UnsafeMutablePointer<S> {
        buffers[slot.rawValue].buffer(count, of: S.self)
    }
}
