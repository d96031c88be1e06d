import Foundation

/// The hyperparameters of a GPT-2-style model.
///
/// JSON keys follow picoGPT (`n_ctx`, `n_vocab`, `n_embd`, `n_head`, `n_layer`,
/// `layer_norm_epsilon`); Hugging Face's `n_positions`, `vocab_size` and
/// `n_inner` are accepted too (where both names are given they must agree).
/// `n_embd`, `n_head`, `n_layer`, the context and the vocabulary are required;
/// `layer_norm_epsilon` defaults to 1e-5 and `n_inner` to 4 × `n_embd`. Every
/// count must lie within ``Limits``. Keys Hugging Face uses for variants this
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
    public var nInner: Int?

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

    /// The MLP's hidden width: ``nInner``, or 4 × ``nEmbd`` (within ``Limits/nInner``
    /// whenever ``nEmbd`` is within its limit).
    public var hiddenSize: Int { nInner ?? 4 * nEmbd }

    /// The accepted range of every count. Far beyond any GPT-2 (whose largest
    /// has 48 layers, width 1600), and small enough that no product of them
    /// overflows, so a hostile file is refused before anything is allocated.
    public enum Limits {
        /// `n_ctx`: up to 2²⁰ positions.
        public static let nCtx = 1...(1 << 20)
        /// `n_vocab`: up to 2²² tokens.
        public static let nVocab = 1...(1 << 22)
        /// `n_embd`: up to 2¹⁶.
        public static let nEmbd = 1...(1 << 16)
        /// `n_head`: up to 2¹² (and a divisor of `n_embd`).
        public static let nHead = 1...(1 << 12)
        /// `n_layer`: up to 2¹².
        public static let nLayer = 1...(1 << 12)
        /// `n_inner`: up to 2¹⁸.
        public static let nInner = 1...(1 << 18)
    }

    /// The keys it is written with (picoGPT's), in order.
    enum CodingKeys: String, CodingKey {
        case nCtx = "n_ctx", nVocab = "n_vocab", nEmbd = "n_embd", nHead = "n_head", nLayer = "n_layer"
        case nInner = "n_inner", layerNormEpsilon = "layer_norm_epsilon"
    }

    /// The keys it is read from: picoGPT's and Hugging Face's.
    enum DecodingKeys: String, CodingKey {
        case n_ctx, n_positions, n_vocab, vocab_size, n_embd, n_head, n_layer, n_inner, layer_norm_epsilon
        case activation_function, scale_attn_weights, scale_attn_by_inverse_layer_idx
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: DecodingKeys.self)
        let path = fieldPath(c.codingPath)
        func field(_ key: DecodingKeys) -> String { path == "(top level)" ? key.stringValue : "\(path).\(key.stringValue)" }
        /// An integer in `range`, or nil when absent or null.
        func count(_ key: DecodingKeys, _ range: ClosedRange<Int>) throws -> Int? {
            guard c.contains(key), try !c.decodeNil(forKey: key) else { return nil }
            let int = try? c.decode(Int.self, forKey: key)
            if let int, range.contains(int) { return int }
            let found = int.map(String.init) ?? (try? c.decode(Double.self, forKey: key)).map { "\($0)" } ?? "a value that is not a number"
            throw ModelError.invalidValue(field: field(key), reason: "must be an integer in \(range.lowerBound)…\(range.upperBound), found \(found)")
        }
        /// `a` or `b` (which must agree when both are given); required.
        func either(_ a: DecodingKeys, _ b: DecodingKeys, _ range: ClosedRange<Int>) throws -> Int {
            switch (try count(a, range), try count(b, range)) {
            case let (x?, y?) where x != y:
                throw ModelError.invalidValue(field: field(a), reason: "\(x) disagrees with \(b.stringValue) \(y)")
            case let (x?, _), let (nil, x?): return x
            case (nil, nil): throw ModelError.invalidJSON("missing field \(field(a)) (or \(b.stringValue))")
            }
        }
        func required(_ key: DecodingKeys, _ range: ClosedRange<Int>) throws -> Int {
            guard let v = try count(key, range) else { throw ModelError.invalidJSON("missing field \(field(key))") }
            return v
        }
        self.init(nCtx: try either(.n_ctx, .n_positions, Limits.nCtx),
                  nVocab: try either(.n_vocab, .vocab_size, Limits.nVocab),
                  nEmbd: try required(.n_embd, Limits.nEmbd),
                  nHead: try required(.n_head, Limits.nHead),
                  nLayer: try required(.n_layer, Limits.nLayer),
                  layerNormEpsilon: 1e-5,
                  nInner: try count(.n_inner, Limits.nInner))
        if c.contains(.layer_norm_epsilon) {
            guard let eps = try? c.decode(Double.self, forKey: .layer_norm_epsilon) else {
                throw ModelError.invalidValue(field: field(.layer_norm_epsilon), reason: "must be a number")
            }
            layerNormEpsilon = eps
        }
        if let activation = try? c.decodeIfPresent(String.self, forKey: .activation_function),
           !["gelu_new", "gelu_pytorch_tanh"].contains(activation) {
            throw ModelError.invalidValue(field: field(.activation_function),
                                          reason: "\"\(activation)\" is not GPT-2's tanh GELU (gelu_new), the only activation implemented")
        }
        if (try? c.decodeIfPresent(Bool.self, forKey: .scale_attn_weights)) == false {
            throw ModelError.invalidValue(field: field(.scale_attn_weights), reason: "false is not implemented (GPT-2 scales attention by 1/√head_size)")
        }
        if (try? c.decodeIfPresent(Bool.self, forKey: .scale_attn_by_inverse_layer_idx)) == true {
            throw ModelError.invalidValue(field: field(.scale_attn_by_inverse_layer_idx), reason: "true is not implemented")
        }
        try validate(path: path == "(top level)" ? "config" : path)
    }

    /// Decodes a Hugging Face `config.json`; every problem is a ``CheckpointError``
    /// naming `file`.
    public init(huggingFace data: Data, file: String = "config.json") throws {
        do {
            self = try JSONDecoder().decode(GPTConfig.self, from: data)
        } catch let error as DecodingError {
            throw CheckpointError(file: file, ModelError(error).description)
        } catch let error as ModelError {
            throw CheckpointError(file: file, error.description)
        }
    }

    /// Throws ``ModelError/invalidValue(field:reason:)`` for a count outside
    /// ``Limits``, a width that is not a multiple of the head count, or an
    /// epsilon that is not finite and in `(0, 1]`.
    public func validate(path: String = "config") throws {
        for (name, value, range) in [("n_ctx", nCtx, Limits.nCtx), ("n_vocab", nVocab, Limits.nVocab),
                                     ("n_embd", nEmbd, Limits.nEmbd), ("n_head", nHead, Limits.nHead),
                                     ("n_layer", nLayer, Limits.nLayer), ("n_inner", nInner ?? 1, Limits.nInner)]
        where !range.contains(value) {
            throw ModelError.invalidValue(field: "\(path).\(name)", reason: "must be in \(range.lowerBound)…\(range.upperBound), found \(value)")
        }
        if nEmbd % nHead != 0 {
            throw ModelError.invalidValue(field: "\(path).n_embd", reason: "\(nEmbd) is not a multiple of n_head \(nHead)")
        }
        try GPTConfig.checkEpsilon(layerNormEpsilon, field: "\(path).layer_norm_epsilon")
    }

    /// A layer norm's epsilon must be finite and in `(0, 1]`.
    static func checkEpsilon(_ eps: Double, field: String) throws {
        guard eps > 0, eps <= 1 else {
            throw ModelError.invalidValue(field: field, reason: "must be in (0, 1], found \(eps)")
        }
    }
}
