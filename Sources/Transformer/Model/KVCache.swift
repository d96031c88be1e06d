import LinearAlgebra

/// The keys and values of the positions a model has already seen, so that
/// decoding one more token costs one row of work instead of a full recompute.
///
/// Preallocated for `capacity` positions (`2 × n_layer × capacity × n_kv_head × head_size`
/// elements of its ``dtype``: with grouped-query attention only the key and value
/// heads are held), laid out per layer as `[n_kv_head, capacity, head_size]` so each
/// head's keys are one contiguous matrix. It also owns the scratch buffers of
/// the forward pass (a `Workspace`), so decoding allocates nothing per token.
/// A cache belongs to one sequence at a time; ``reset()`` starts a new one.
public final class KVCache {
    /// How many positions it holds.
    public internal(set) var count = 0
    /// How many positions it can hold.
    public let capacity: Int
    /// The shape it was sized for: layers, key and value heads, their width.
    let layers: Int, heads: Int, headSize: Int
    /// The element type of its keys and values: a model computing in another
    /// dtype reallocates an empty cache, and refuses one that holds positions.
    public private(set) var dtype: DType
    /// Layer `l`'s keys at `2l`, its values at `2l + 1`.
    private var buffers: [UnsafeMutableRawPointer] = []
    package let workspace = Workspace()

    /// An empty cache for models of `config`'s shape, holding `capacity`
    /// positions (the whole context, `n_ctx`, when `nil`).
    ///
    /// - Throws: ``ModelError/invalidValue(field:reason:)`` for a config outside
    ///   ``GPTConfig/validate(path:)``'s limits or a capacity outside `1…n_ctx`.
    public convenience init(config: GPTConfig, capacity: Int? = nil, dtype: DType = .float64) throws {
        try config.validate()
        let capacity = capacity ?? config.nCtx
        guard (1...config.nCtx).contains(capacity) else {
            throw ModelError.invalidValue(field: "capacity", reason: "must be in 1…\(config.nCtx) (n_ctx), found \(capacity)")
        }
        self.init(layers: config.nLayer, heads: config.keyValueHeads, headSize: config.headSize, capacity: capacity, dtype: dtype)
    }

    /// A cache of the given shape (checked by the caller).
    package init(layers: Int, heads: Int, headSize: Int, capacity: Int, dtype: DType = .float64) {
        self.layers = layers
        self.heads = heads
        self.headSize = headSize
        self.capacity = capacity
        self.dtype = dtype
        allocate()
    }

    /// Zeroed buffers for every layer, so the memory is in place before the first token, not during it.
    private func allocate() {
        let bytes = max(capacity * width, 1) * dtype.size
        buffers = (0..<2 * layers).map { _ in
            let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            p.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
            return p
        }
    }

    deinit { buffers.forEach { $0.deallocate() } }

    /// Throws unless the cache can hold `dtype` elements: it does, or it is empty.
    func check(_ dtype: DType) throws {
        guard dtype == self.dtype || count == 0 else {
            throw ModelError.invalidValue(field: "cache", reason: "holds \(count) positions in \(self.dtype.rawValue), the model computes in \(dtype.rawValue): reset() it first")
        }
    }

    /// Makes the cache hold `dtype` elements (``check(_:)`` passed): reallocated when it held the other.
    func prepare(for dtype: DType) {
        if dtype == self.dtype { return }
        precondition(count == 0, "KVCache: prepare(for:) on a cache holding positions")
        buffers.forEach { $0.deallocate() }
        self.dtype = dtype
        allocate()
    }

    /// The width of one position's keys (or values): all heads side by side.
    var width: Int { heads * headSize }

    /// Whether it was sized for models of `config`'s shape.
    func fits(_ config: GPTConfig) -> Bool { (layers, heads, headSize) == (config.nLayer, config.keyValueHeads, config.headSize) }

    /// Its shape in words, for an error.
    var shapeDescription: String { "\(layers) layers of \(heads) key/value heads of width \(headSize)" }

    /// The bytes of keys and values it holds (preallocated).
    public var byteCount: Int { 2 * layers * capacity * width * dtype.size }

    /// Forgets every position, keeping the memory.
    public func reset() { count = 0 }

    /// Layer `l`'s keys and values as `S`s, with the positions held so far,
    /// for a pass that appends `rows` more.
    package func layer<S: MatrixScalar>(_ l: Int, of: S.Type, adding rows: Int) -> Layer<S> {
        precondition(DType.of(S.self) == dtype, "KVCache: \(dtype.rawValue) cache read as \(S.self)")
        let elements = max(capacity * width, 1)
        return Layer(keys: buffers[2 * l].bindMemory(to: S.self, capacity: elements), values: buffers[2 * l + 1].bindMemory(to: S.self, capacity: elements),
                     capacity: capacity, count: count, rows: rows, heads: heads, headSize: headSize)
    }

    /// One layer's keys and values: per head a `[capacity, head_size]` matrix,
    /// of which the first `count` rows are filled; a pass appends `rows` more.
    package struct Layer<S: MatrixScalar> {
        let keys: UnsafeMutablePointer<S>, values: UnsafeMutablePointer<S>
        let capacity: Int, count: Int, rows: Int, heads: Int, headSize: Int

        /// Head `h`'s keys, `[capacity, head_size]`.
        func keys(head h: Int) -> UnsafeMutablePointer<S> { keys + h * capacity * headSize }
        /// Head `h`'s values, `[capacity, head_size]`.
        func values(head h: Int) -> UnsafeMutablePointer<S> { values + h * capacity * headSize }
    }
}

extension UnsafeBufferPointer {
    /// The rows that the sequences before `end` (one layer each, in order) add
    /// in a pass: where sequence `end`'s rows start, or with `end == count`
    /// the rows of them all.
    package func rows<S: MatrixScalar>(before end: Int) -> Int where Element == KVCache.Layer<S> {
        var n = 0
        for s in 0..<end { n += self[s].rows }
        return n
    }
}
