import LinearAlgebra

/// The keys and values of the positions a model has already seen, so that
/// decoding one more token costs one row of work instead of a full recompute.
///
/// Preallocated for `capacity` positions (`2 × n_layer × capacity × n_embd`
/// doubles), laid out per layer as `[n_head, capacity, head_size]` so each
/// head's keys are one contiguous matrix. It also owns the scratch buffers of
/// the forward pass (a ``Workspace``), so decoding allocates nothing per token.
/// A cache belongs to one sequence at a time; ``reset()`` starts a new one.
public final class KVCache {
    /// How many positions it holds.
    public internal(set) var count = 0
    /// How many positions it can hold.
    public let capacity: Int
    /// The shape it was sized for: layers, model width, heads.
    let layers: Int, width: Int, heads: Int
    private let keys: [UnsafeMutablePointer<Double>]
    private let values: [UnsafeMutablePointer<Double>]
    package let workspace = Workspace()

    /// An empty cache for models of `config`'s shape, holding `capacity`
    /// positions (the whole context, `n_ctx`, when `nil`).
    ///
    /// - Throws: ``ModelError/invalidValue(field:reason:)`` for a config outside
    ///   ``GPTConfig/validate(path:)``'s limits or a capacity outside `1…n_ctx`.
    public convenience init(config: GPTConfig, capacity: Int? = nil) throws {
        try config.validate()
        let capacity = capacity ?? config.nCtx
        guard (1...config.nCtx).contains(capacity) else {
            throw ModelError.invalidValue(field: "capacity", reason: "must be in 1…\(config.nCtx) (n_ctx), found \(capacity)")
        }
        self.init(layers: config.nLayer, width: config.nEmbd, heads: config.nHead, capacity: capacity)
    }

    /// A cache of the given shape (checked by the caller).
    package init(layers: Int, width: Int, heads: Int, capacity: Int) {
        self.layers = layers
        self.width = width
        self.heads = heads
        self.capacity = capacity
        let size = capacity * width
        // Zeroed now, so the memory is in place before the first token, not during it.
        func zeroed() -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: max(size, 1))
            p.initialize(repeating: 0, count: max(size, 1))
            return p
        }
        keys = (0..<layers).map { _ in zeroed() }
        values = (0..<layers).map { _ in zeroed() }
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    /// The bytes of keys and values it holds (preallocated).
    public var byteCount: Int { 2 * layers * capacity * width * MemoryLayout<Double>.size }

    /// Forgets every position, keeping the memory.
    public func reset() { count = 0 }

    /// Whether it was sized for models of `config`'s shape.
    func fits(_ config: GPTConfig) -> Bool {
        layers == config.nLayer && width == config.nEmbd && heads == config.nHead
    }

    /// Layer `l`'s keys and values, with the positions held so far.
    package func layer(_ l: Int) -> Layer {
        Layer(keys: keys[l], values: values[l], capacity: capacity, count: count, headSize: width / heads)
    }

    /// One layer's keys and values: per head a `[capacity, head_size]` matrix,
    /// of which the first `count` rows are filled.
    package struct Layer {
        let keys: UnsafeMutablePointer<Double>, values: UnsafeMutablePointer<Double>
        let capacity: Int, count: Int, headSize: Int

        /// Head `h`'s keys, `[capacity, head_size]`.
        func keys(head h: Int) -> UnsafeMutablePointer<Double> { keys + h * capacity * headSize }
        /// Head `h`'s values, `[capacity, head_size]`.
        func values(head h: Int) -> UnsafeMutablePointer<Double> { values + h * capacity * headSize }
    }
}
