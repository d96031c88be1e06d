/// The hyperparameters of a GPT-2-style model.
///
/// JSON keys follow picoGPT (`n_ctx`, `n_vocab`, `n_embd`, `n_head`, `n_layer`,
/// `layer_norm_epsilon`); Hugging Face's `n_positions` and `vocab_size` are
/// accepted too. `n_head` defaults to 1, `n_layer` to 1 and
/// `layer_norm_epsilon` to 1e-5.
public struct GPTConfig: Codable, Sendable, Equatable {
    /// The context length: how many positions `wpe` has.
    public var nCtx: Int
    /// The vocabulary size: how many rows `wte` has.
    public var nVocab: Int
    /// The model width.
    public var nEmbd: Int
    /// Attention heads per block.
    public var nHead: Int
    /// The number of transformer blocks.
    public var nLayer: Int
    /// The layer norms' epsilon.
    public var layerNormEpsilon: Double

    /// A configuration; values are checked when a model is built from it.
    public init(nCtx: Int, nVocab: Int, nEmbd: Int, nHead: Int = 1, nLayer: Int = 1, layerNormEpsilon: Double = 1e-5) {
        self.nCtx = nCtx
        self.nVocab = nVocab
        self.nEmbd = nEmbd
        self.nHead = nHead
        self.nLayer = nLayer
        self.layerNormEpsilon = layerNormEpsilon
    }

    /// GPT-2 124M: 12 layers, 12 heads, width 768, context 1024, 50257 tokens.
    public static let gpt2 = GPTConfig(nCtx: 1024, nVocab: 50257, nEmbd: 768, nHead: 12, nLayer: 12)

    enum CodingKeys: String, CodingKey {
        case n_ctx, n_positions, n_vocab, vocab_size, n_embd, n_head, n_layer, layer_norm_epsilon
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func either(_ a: CodingKeys, _ b: CodingKeys) throws -> Int {
            if let v = try c.decodeIfPresent(Int.self, forKey: a) { return v }
            if let v = try c.decodeIfPresent(Int.self, forKey: b) { return v }
            throw ModelError.invalidJSON("missing field \(fieldPath(c.codingPath, a)) (or \(b.stringValue))")
        }
        self.init(nCtx: try either(.n_ctx, .n_positions),
                  nVocab: try either(.n_vocab, .vocab_size),
                  nEmbd: try c.decode(Int.self, forKey: .n_embd),
                  nHead: try c.decodeIfPresent(Int.self, forKey: .n_head) ?? 1,
                  nLayer: try c.decodeIfPresent(Int.self, forKey: .n_layer) ?? 1,
                  layerNormEpsilon: try c.decodeIfPresent(Double.self, forKey: .layer_norm_epsilon) ?? 1e-5)
        try validate(path: fieldPath(c.codingPath))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(nCtx, forKey: .n_ctx)
        try c.encode(nVocab, forKey: .n_vocab)
        try c.encode(nEmbd, forKey: .n_embd)
        try c.encode(nHead, forKey: .n_head)
        try c.encode(nLayer, forKey: .n_layer)
        try c.encode(layerNormEpsilon, forKey: .layer_norm_epsilon)
    }

    /// Throws ``ModelError/invalidValue(field:reason:)`` for non-positive sizes
    /// or a width that is not a multiple of the head count.
    public func validate(path: String = "config") throws {
        for (name, value) in [("n_ctx", nCtx), ("n_vocab", nVocab), ("n_embd", nEmbd), ("n_head", nHead), ("n_layer", nLayer)] where value <= 0 {
            throw ModelError.invalidValue(field: "\(path).\(name)", reason: "must be positive, found \(value)")
        }
        if nEmbd % nHead != 0 {
            throw ModelError.invalidValue(field: "\(path).n_embd", reason: "\(nEmbd) is not a multiple of n_head \(nHead)")
        }
    }
}
