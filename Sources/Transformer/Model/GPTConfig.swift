import Foundation

/// The hyperparameters of a GPT-2-style model.
///
/// JSON keys follow picoGPT (`n_ctx`, `n_vocab`, `n_embd`, `n_head`, `n_layer`,
/// `layer_norm_epsilon`); Hugging Face's `n_positions`, `vocab_size` and
/// `n_inner` are accepted too (where both names are given they must agree).
/// `n_embd`, `n_head`, `n_layer`, the context and the vocabulary are required;
/// `layer_norm_epsilon` defaults to 1e-5 and `n_inner` to 4 × `n_embd`. Every
/// count is at least 1 and at most: `n_ctx` 2²⁰, `n_vocab` 2²², `n_embd` 2¹⁶,
/// `n_head` 2¹² (and a divisor of `n_embd`), `n_layer` 2¹², `n_inner` 2¹⁸ — far
/// beyond any GPT-2, and small enough that no product of them overflows, so a
/// hostile file is refused before anything is allocated. Keys Hugging Face uses for variants this
/// library does not implement are refused when they ask for one:
/// `activation_function` other than GPT-2's tanh GELU (`gelu_new`,
/// `gelu_pytorch_tanh`), `scale_attn_weights: false`,
/// `scale_attn_by_inverse_layer_idx: true`.
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
    /// The MLP's hidden width, when it is not 4 × ``nEmbd``.
    public var nInner: Int? {
        get { innerSize == GPTConfig.unset ? nil : innerSize }
        set { innerSize = newValue ?? GPTConfig.unset }
    }
    /// ``nInner``, or ``unset``.
    private var innerSize = GPTConfig.unset
    /// A count that is not given.
    private static let unset = Int.min

    /// A configuration; values are checked when a model is built from it.
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

    /// GPT-2 124M: 12 layers, 12 heads, width 768, context 1024, 50257 tokens.
    public static let gpt2 = GPTConfig(nCtx: 1024, nVocab: 50257, nEmbd: 768, nHead: 12, nLayer: 12)

    /// The MLP's hidden width: ``nInner``, or 4 × ``nEmbd`` (within `n_inner`'s limit
    /// whenever ``nEmbd`` is within its limit).
    public var hiddenSize: Int { nInner ?? 4 * nEmbd }

    /// Each count once: its dimension (whose name is picoGPT's key), the Hugging Face
    /// key read beside it (and written to a checkpoint's `config.json`), where it
    /// lives and its limits. Decoding, encoding, validation and the shape rules
    /// (`Dims`) read it; `n_inner` alone is optional.
    static var counts: [(dim: Dim.Symbol, alias: String?, path: WritableKeyPath<GPTConfig, Int>, limits: ClosedRange<Int>)] {
        [(.ctx, "n_positions", \.nCtx, 1...(1 << 20)), (.vocab, "vocab_size", \.nVocab, 1...(1 << 22)), (.embd, nil, \.nEmbd, 1...(1 << 16)),
         (.heads, nil, \.nHead, 1...(1 << 12)), (.layers, nil, \.nLayer, 1...(1 << 12)), (.hidden, nil, \.innerSize, 1...(1 << 18))]
    }
    /// The epsilon's key.
    static let epsilonKey = "layer_norm_epsilon"

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        let path = fieldPath(c.codingPath)
        func field(_ key: String) -> String { path == "(top level)" ? key : "\(path).\(key)" }
        /// An integer in `range`, or nil when absent or null.
        func count(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard c.contains(AnyKey(key)), try !c.decodeNil(forKey: AnyKey(key)) else { return nil }
            let int = try? c.decode(Int.self, forKey: AnyKey(key))
            if let int, range.contains(int) { return int }
            let found = int.map(String.init) ?? (try? c.decode(Double.self, forKey: AnyKey(key))).map { "\($0)" } ?? "a value that is not a number"
            throw ModelError.invalidValue(field: field(key), reason: "must be an integer in \(range.lowerBound)…\(range.upperBound), found \(found)")
        }
        self.init(nCtx: 0, nVocab: 0, nEmbd: 0)
        for row in GPTConfig.counts {
            let key = row.dim.rawValue
            switch (try count(key, row.limits), try row.alias.map { try count($0, row.limits) } ?? nil) {
            case let (x?, y?) where x != y:
                throw ModelError.invalidValue(field: field(key), reason: "\(x) disagrees with \(row.alias!) \(y)")
            case let (x?, _), let (nil, x?): self[keyPath: row.path] = x
            case (nil, nil) where row.dim == .hidden: break
            case (nil, nil): throw ModelError.invalidJSON("missing field \(field(key))" + (row.alias.map { " (or \($0))" } ?? ""))
            }
        }
        if c.contains(AnyKey(GPTConfig.epsilonKey)) {
            guard let eps = try? c.decode(Double.self, forKey: AnyKey(GPTConfig.epsilonKey)) else {
                throw ModelError.invalidValue(field: field(GPTConfig.epsilonKey), reason: "must be a number")
            }
            layerNormEpsilon = eps
        }
        // Hugging Face's keys for GPT-2 variants this library does not implement, refused when they ask for one.
        let activation = try? c.decodeIfPresent(String.self, forKey: AnyKey("activation_function"))
        func flag(_ key: String) -> Bool? { try? c.decodeIfPresent(Bool.self, forKey: AnyKey(key)) }
        for (key, refused, reason) in [
            ("activation_function", activation.map { !["gelu_new", "gelu_pytorch_tanh"].contains($0) } ?? false,
             "\"\(activation ?? "")\" is not GPT-2's tanh GELU (gelu_new), the only activation implemented"),
            ("scale_attn_weights", flag("scale_attn_weights") == false, "false is not implemented (GPT-2 scales attention by 1/√head_size)"),
            ("scale_attn_by_inverse_layer_idx", flag("scale_attn_by_inverse_layer_idx") == true, "true is not implemented"),
        ] where refused {
            throw ModelError.invalidValue(field: field(key), reason: reason)
        }
        try validate(path: path == "(top level)" ? "config" : path)
    }

    /// Writes picoGPT's keys, in ``counts``' order (`n_inner` when given), then the epsilon.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        for row in GPTConfig.counts where self[keyPath: row.path] != GPTConfig.unset {
            try c.encode(self[keyPath: row.path], forKey: AnyKey(row.dim.rawValue))
        }
        try c.encode(layerNormEpsilon, forKey: AnyKey(GPTConfig.epsilonKey))
    }

    /// The keys of a Hugging Face GPT-2 `config.json`: picoGPT's and their aliases.
    var huggingFaceKeys: [String: Any] {
        var keys: [String: Any] = ["model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "activation_function": "gelu_new",
                                   GPTConfig.epsilonKey: layerNormEpsilon]
        for row in GPTConfig.counts where self[keyPath: row.path] != GPTConfig.unset {
            for key in [row.dim.rawValue] + (row.alias.map { [$0] } ?? []) { keys[key] = self[keyPath: row.path] }
        }
        return keys
    }

    /// Reads a Hugging Face `config.json` (a regular file of at most 1 MiB).
    ///
    /// - Throws: ``CheckpointError`` naming the file.
    public init(file url: URL) throws {
        try self.init(huggingFace: readRegularFile(url, limit: 1 << 20), file: url.path)
    }

    /// Decodes a Hugging Face `config.json`; every problem is a ``CheckpointError``
    /// naming `file`, a key given twice in one object among them.
    public init(huggingFace data: Data, file: String = "config.json") throws {
        do {
            try refuseRepeatedKeys(data)
            self = try JSONDecoder().decode(GPTConfig.self, from: data)
        } catch {
            throw CheckpointError(file: file, (error as? DecodingError).map { ModelError($0).description } ?? "\(error)")
        }
    }

    /// Throws ``ModelError/invalidValue(field:reason:)`` for a count outside
    /// its limits, a width that is not a multiple of the head count, or an
    /// epsilon that is not finite and in `(0, 1]`.
    public func validate(path: String = "config") throws {
        for row in GPTConfig.counts where !row.limits.contains(self[keyPath: row.path]) && self[keyPath: row.path] != GPTConfig.unset {
            throw ModelError.invalidValue(field: "\(path).\(row.dim.rawValue)",
                                          reason: "must be in \(row.limits.lowerBound)…\(row.limits.upperBound), found \(self[keyPath: row.path])")
        }
        if nEmbd % nHead != 0 {
            throw ModelError.invalidValue(field: "\(path).n_embd", reason: "\(nEmbd) is not a multiple of n_head \(nHead)")
        }
        guard layerNormEpsilon > 0, layerNormEpsilon <= 1 else {
            throw ModelError.invalidValue(field: "\(path).\(GPTConfig.epsilonKey)", reason: "must be in (0, 1], found \(layerNormEpsilon)")
        }
    }
}
