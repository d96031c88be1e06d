import Foundation

/// The hyperparameters of a decoder-only transformer of the GPT-2 family or
/// of the Llama family (Llama, Qwen2, Mistral, SmolLM2, TinyLlama).
///
/// JSON keys follow picoGPT (`n_ctx`, `n_vocab`, `n_embd`, `n_head`, `n_layer`,
/// `layer_norm_epsilon`); Hugging Face's names are accepted too (GPT-2's
/// `n_positions`, `vocab_size`, `n_inner`; Llama's `max_position_embeddings`,
/// `hidden_size`, `intermediate_size`, `num_attention_heads`,
/// `num_key_value_heads`, `num_hidden_layers`, `rms_norm_eps`; where two names
/// of one count are given they must agree). `model_type` (default `gpt2`;
/// `llama`, `qwen2` and `mistral` are the Llama family) says which
/// architecture the weights belong to. The width, heads, layers, context and
/// vocabulary are required; the epsilon defaults to 1e-5 (GPT-2) or 1e-6
/// (Llama), the MLP's width to 4 × `n_embd`, the key/value heads to `n_head`,
/// `head_dim` to `n_embd / n_head`.
///
/// Every count is at least 1 and at most: `n_ctx` 2²⁰, `n_vocab` 2²², `n_embd`
/// 2¹⁶, `n_head` and `n_kv_head` 2¹², `n_layer` 2¹², `n_inner` 2¹⁸, `head_dim`
/// 2¹⁰ — far beyond any model this library runs, and small enough that no
/// product of them overflows, so a hostile file is refused before anything is
/// allocated. Keys that ask for a variant this library does not implement are
/// refused: for GPT-2, `activation_function` other than its tanh GELU
/// (`gelu_new`, `gelu_pytorch_tanh`), `scale_attn_weights: false`,
/// `scale_attn_by_inverse_layer_idx: true`; for the Llama family, `hidden_act`
/// other than `silu`, a `rope_type` other than `default` and `llama3`, and a
/// sliding window in use.
public struct GPTConfig: Codable, Sendable, Equatable {
    /// Which architecture the weights belong to: Hugging Face's `model_type`.
    public enum ModelType: String, Codable, Sendable, CaseIterable {
        /// GPT-2: learned positions, layer norms, a GELU MLP, biases everywhere, a tied head.
        case gpt2
        /// Llama (and SmolLM2, TinyLlama): rotary positions, RMS norms, a gated SiLU MLP,
        /// grouped-query attention, no biases unless `attention_bias`/`mlp_bias` says so.
        case llama
        /// Qwen2: Llama's architecture with biases on the query, key and value projections.
        case qwen2
        /// Mistral: Llama's architecture (its sliding window must be out of reach).
        case mistral

        /// Whether it is of the Llama family (every type but GPT-2).
        public var isLlamaFamily: Bool { self != .gpt2 }
    }

    /// The Llama 3 scaling of the rotary frequencies (`rope_type` `llama3`):
    /// wavelengths longer than `originalContext / lowFreqFactor` are stretched by
    /// `factor`, those shorter than `originalContext / highFreqFactor` kept, those
    /// between interpolated.
    public struct RopeScaling: Codable, Sendable, Equatable {
        /// How much the longest wavelengths are stretched.
        public var factor: Double
        /// Sets the wavelength past which frequencies are divided by `factor`.
        public var lowFreqFactor: Double
        /// Sets the wavelength below which frequencies are kept.
        public var highFreqFactor: Double
        /// The context the model was first trained for.
        public var originalContext: Int

        /// A Llama 3 scaling; the values are checked with the config's.
        public init(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalContext: Int) {
            (self.factor, self.lowFreqFactor, self.highFreqFactor, self.originalContext) = (factor, lowFreqFactor, highFreqFactor, originalContext)
        }

        /// Hugging Face's names.
        private enum CodingKeys: String, CodingKey {
            case ropeType = "rope_type", factor, lowFreqFactor = "low_freq_factor", highFreqFactor = "high_freq_factor"
            case originalContext = "original_max_position_embeddings"
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            try self.init(factor: c.decode(Double.self, forKey: .factor), lowFreqFactor: c.decode(Double.self, forKey: .lowFreqFactor),
                          highFreqFactor: c.decode(Double.self, forKey: .highFreqFactor), originalContext: c.decode(Int.self, forKey: .originalContext))
        }

        /// Writes Hugging Face's `rope_scaling` object, `rope_type` `llama3` first.
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode("llama3", forKey: .ropeType)
            try c.encode(factor, forKey: .factor)
            try c.encode(lowFreqFactor, forKey: .lowFreqFactor)
            try c.encode(highFreqFactor, forKey: .highFreqFactor)
            try c.encode(originalContext, forKey: .originalContext)
        }
    }

    /// The architecture. Default ``ModelType/gpt2``.
    public var modelType: ModelType = .gpt2
    /// The context length (GPT-2: how many positions `wpe` has).
    public var nCtx: Int
    /// The vocabulary size: how many rows `wte` has.
    public var nVocab: Int
    /// The model width.
    public var nEmbd: Int
    /// Attention heads per block.
    public var nHead: Int
    /// The number of transformer blocks.
    public var nLayer: Int
    /// The norms' epsilon (GPT-2's `layer_norm_epsilon`, Llama's `rms_norm_eps`).
    public var layerNormEpsilon: Double
    /// The MLP's hidden width, when it is not 4 × ``nEmbd``.
    public var nInner: Int? {
        get { innerSize == GPTConfig.unset ? nil : innerSize }
        set { innerSize = newValue ?? GPTConfig.unset }
    }
    /// The key and value heads (grouped-query attention), when fewer than ``nHead``.
    public var nKVHead: Int? {
        get { kvHeadCount == GPTConfig.unset ? nil : kvHeadCount }
        set { kvHeadCount = newValue ?? GPTConfig.unset }
    }
    /// The width of one head, when it is not ``nEmbd`` / ``nHead``.
    public var headDim: Int? {
        get { headWidth == GPTConfig.unset ? nil : headWidth }
        set { headWidth = newValue ?? GPTConfig.unset }
    }
    /// Llama family: the base of the rotary frequencies. Default 10000.
    public var ropeTheta: Double = 10_000
    /// Llama family: the Llama 3 scaling of the rotary frequencies, if any.
    public var ropeScaling: RopeScaling?
    /// Llama family: whether the output head is the token embeddings (no `lm_head.weight`).
    /// GPT-2 always ties them.
    public var tieWordEmbeddings = true
    /// Llama family: biases on the attention's projections (Qwen2: on the query,
    /// key and value projections whatever this says; Llama: on all four when set).
    public var attentionBias = false
    /// Llama family: biases on the MLP's projections.
    public var mlpBias = false

    /// ``nInner``, ``nKVHead``, ``headDim``, or ``unset``.
    private var innerSize = GPTConfig.unset, kvHeadCount = GPTConfig.unset, headWidth = GPTConfig.unset
    /// A count that is not given.
    static let unset = Int.min

    /// A GPT-2 configuration; values are checked when a model is built from it.
    public init(nCtx: Int, nVocab: Int, nEmbd: Int, nHead: Int = 1, nLayer: Int = 1,
                layerNormEpsilon: Double = 1e-5, nInner: Int? = nil) {
        self.nCtx = nCtx
        self.nVocab = nVocab
        self.nEmbd = nEmbd
        self.nHead = nHead
        self.nLayer = nLayer
        self.layerNormEpsilon = layerNormEpsilon
        self.nInner = nInner
    }

    /// A Llama-family configuration (`modelType` ``ModelType/llama`` unless given);
    /// values are checked when a model is built from it.
    public init(llama nCtx: Int, nVocab: Int, nEmbd: Int, nHead: Int, nKVHead: Int? = nil, nLayer: Int, nInner: Int,
                headDim: Int? = nil, eps: Double = 1e-6, ropeTheta: Double = 10_000, ropeScaling: RopeScaling? = nil,
                tieWordEmbeddings: Bool = false, modelType: ModelType = .llama) {
        self.init(nCtx: nCtx, nVocab: nVocab, nEmbd: nEmbd, nHead: nHead, nLayer: nLayer, layerNormEpsilon: eps, nInner: nInner)
        (self.modelType, self.nKVHead, self.headDim) = (modelType, nKVHead, headDim)
        (self.ropeTheta, self.ropeScaling, self.tieWordEmbeddings) = (ropeTheta, ropeScaling, tieWordEmbeddings)
    }

    /// GPT-2 124M: 12 layers, 12 heads, width 768, context 1024, 50257 tokens.
    public static let gpt2 = GPTConfig(nCtx: 1024, nVocab: 50257, nEmbd: 768, nHead: 12, nLayer: 12)

    /// SmolLM2-135M: 30 layers, width 576, 9 heads sharing 3 key/value heads,
    /// MLP 1536, context 8192, 49152 tokens, tied head, rope θ 100000.
    public static let smolLM2 = GPTConfig(llama: 8192, nVocab: 49152, nEmbd: 576, nHead: 9, nKVHead: 3, nLayer: 30, nInner: 1536,
                                          eps: 1e-5, ropeTheta: 100_000, tieWordEmbeddings: true)

    /// The MLP's hidden width: ``nInner``, or 4 × ``nEmbd`` (within `n_inner`'s limit
    /// whenever ``nEmbd`` is within its limit).
    public var hiddenSize: Int { nInner ?? 4 * nEmbd }
    /// The key and value heads: ``nKVHead``, or ``nHead``.
    public var keyValueHeads: Int { nKVHead ?? nHead }
    /// The width of one head: ``headDim``, or ``nEmbd`` / ``nHead``.
    public var headSize: Int { headDim ?? nEmbd / nHead }
    /// Whether the output head is the token embeddings.
    public var tiedHead: Bool { !modelType.isLlamaFamily || tieWordEmbeddings }
    /// Llama family: whether the query, key and value projections have biases (Qwen2's do).
    var queryKeyValueBias: Bool { modelType == .qwen2 || attentionBias }
    /// Llama family: whether the output projection has a bias.
    var outputBias: Bool { modelType != .qwen2 && attentionBias }

    /// Each count once: its dimension (whose name is picoGPT's key), its names in a
    /// Hugging Face `config.json` of GPT-2 (where it has another) and of the Llama
    /// family (all are read; a saved checkpoint's `config.json` is written with its
    /// family's), where it lives and its limits. Decoding, encoding, validation and
    /// the shape rules (`Dims`) read it; the last three are optional.
    static var counts: [(dim: Dim.Symbol, gpt2: String?, llama: String, path: WritableKeyPath<GPTConfig, Int>, limits: ClosedRange<Int>)] {
        [(.ctx, "n_positions", "max_position_embeddings", \.nCtx, 1...(1 << 20)), (.vocab, "vocab_size", "vocab_size", \.nVocab, 1...(1 << 22)),
         (.embd, nil, "hidden_size", \.nEmbd, 1...(1 << 16)), (.heads, nil, "num_attention_heads", \.nHead, 1...(1 << 12)),
         (.layers, nil, "num_hidden_layers", \.nLayer, 1...(1 << 12)), (.hidden, nil, "intermediate_size", \.innerSize, 1...(1 << 18)),
         (.kvHeads, nil, "num_key_value_heads", \.kvHeadCount, 1...(1 << 12)), (.headDim, nil, "head_dim", \.headWidth, 1...(1 << 10))]
    }

    /// Throws ``ModelError/invalidValue(field:reason:)`` for a count outside
    /// its limits, a width that is not a multiple of the head count (without
    /// `head_dim`), a head count that is not a multiple of the key/value heads,
    /// GPT-2 with grouped or resized heads, an epsilon that is not in `(0, 1]`,
    /// or rotary settings out of range.
    public func validate(path: String = "config") throws {
        func fail(_ key: String, _ reason: String) -> ModelError { .invalidValue(field: "\(path).\(key)", reason: reason) }
        for row in GPTConfig.counts where !row.limits.contains(self[keyPath: row.path]) && self[keyPath: row.path] != GPTConfig.unset {
            throw fail(row.dim.rawValue, "must be in \(row.limits.lowerBound)…\(row.limits.upperBound), found \(self[keyPath: row.path])")
        }
        if headDim == nil, nEmbd % nHead != 0 { throw fail("n_embd", "\(nEmbd) is not a multiple of n_head \(nHead)") }
        if nHead % keyValueHeads != 0 { throw fail("n_kv_head", "n_head \(nHead) is not a multiple of \(keyValueHeads)") }
        if !modelType.isLlamaFamily, keyValueHeads != nHead || headSize * nHead != nEmbd {
            throw fail(nKVHead != nil ? "n_kv_head" : "head_dim", "GPT-2's heads split n_embd evenly, each with its own keys and values")
        }
        guard layerNormEpsilon > 0, layerNormEpsilon <= 1 else { throw fail(GPTConfig.epsilonKey, "must be in (0, 1], found \(layerNormEpsilon)") }
        guard ropeTheta.isFinite, ropeTheta > 1 else { throw fail("rope_theta", "must be a finite number above 1, found \(ropeTheta)") }
        if let s = ropeScaling {
            guard s.factor.isFinite, s.factor >= 1, s.lowFreqFactor.isFinite, s.lowFreqFactor > 0,
                  s.highFreqFactor.isFinite, s.highFreqFactor > s.lowFreqFactor, (1...(1 << 24)).contains(s.originalContext) else {
                throw fail("rope_scaling", "needs factor ≥ 1, 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings in 1…\(1 << 24)")
            }
        }
    }

    /// The epsilon's key.
    static let epsilonKey = "layer_norm_epsilon"
}
