import LinearAlgebra

/// The keys and values of the positions a model has already seen, so that
/// decoding one more token costs one row of work instead of a full recompute.
///
/// Preallocated for the model's whole context (`2 × n_layer × n_ctx × n_embd`
/// doubles), laid out per layer as `[n_head, n_ctx, head_size]` so each head's
/// keys are one contiguous matrix. It also owns the scratch buffers of the
/// forward pass, so decoding allocates nothing per token. A cache belongs to
/// one sequence; ``reset()`` starts a new one.
public final class KVCache {
    /// The configuration it was sized for.
    public let config: GPTConfig
    /// How many positions it holds.
    public internal(set) var count = 0
    let keys: [UnsafeMutablePointer<Double>]
    let values: [UnsafeMutablePointer<Double>]
    let workspace = Workspace()

    /// An empty cache for models of `config`'s shape.
    public init(config: GPTConfig) {
        self.config = config
        let size = config.nCtx * config.nEmbd
        // Zeroed now, so the memory is in place before the first token, not during it.
        func zeroed() -> UnsafeMutablePointer<Double> {
            let p = UnsafeMutablePointer<Double>.allocate(capacity: size)
            p.initialize(repeating: 0, count: size)
            return p
        }
        keys = (0..<config.nLayer).map { _ in zeroed() }
        values = (0..<config.nLayer).map { _ in zeroed() }
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    /// The number of positions it can hold: the model's context.
    public var capacity: Int { config.nCtx }

    /// The bytes of keys and values it holds (preallocated).
    public var byteCount: Int { 2 * config.nLayer * config.nCtx * config.nEmbd * MemoryLayout<Double>.size }

    /// Forgets every position, keeping the memory.
    public func reset() { count = 0 }

    /// Head `h`'s keys (or values) of layer `l`: `[n_ctx, head_size]`, contiguous.
    func head(_ storage: [UnsafeMutablePointer<Double>], layer l: Int, head h: Int) -> UnsafeMutablePointer<Double> {
        storage[l] + h * config.nCtx * (config.nEmbd / config.nHead)
    }
}

/// Scratch buffers for the cached forward pass; each grows to the largest
/// size asked for and is then reused.
final class Workspace {
    /// The buffers of one forward pass.
    enum Slot: Int, CaseIterable { case x, h, qkv, attention, projection, hidden, scores, logits }
    private var pointers = [UnsafeMutablePointer<Double>?](repeating: nil, count: Slot.allCases.count)
    private var capacities = [Int](repeating: 0, count: Slot.allCases.count)

    /// A buffer of at least `count` doubles (contents unspecified).
    func buffer(_ slot: Slot, _ count: Int) -> UnsafeMutablePointer<Double> {
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
