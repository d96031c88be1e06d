import Foundation
import LinearAlgebra

/// One tensor of a model, under the name a Hugging Face checkpoint of its family gives it.
public struct Parameter: Sendable, Equatable {
    /// The checkpoint name, e.g. `h.0.attn.c_attn.weight` or `model.layers.0.self_attn.q_proj.weight`.
    public let name: String
    /// `[rows, cols]` for a matrix, `[n]` for a bias or a layer norm's gain or bias.
    public let shape: [Int]
    /// How the elements are kept: a matrix's `WeightMatrix/precision`;
    /// vectors are always `.float64`.
    public let storage: WeightMatrix.Precision
    /// The bytes the elements occupy as stored.
    public let byteCount: Int

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }
}

// A GPT declares its parameters as its operations do (see `ParameterModule`).
// JSON, in picoGPT's layout (see the hand-set model): `{"config": {…}, "wte": [[…]],
// "wpe": [[…]], "blocks": [ … ], "ln_f": {…}, "lm_head": [[…]], "vocabulary": […]}`;
// `wpe` is GPT-2's, `lm_head` an untied head's; `ln_f` and `vocabulary` are optional.
// In a GPT-2 checkpoint: `wte.weight`, `wpe.weight`, `h.{i}.…`, `ln_f.…`; in a
// Llama-family one: `model.embed_tokens.weight`, `model.layers.{i}.…`, `model.norm.weight`, `lm_head.weight`.
extension GPT: Codable, ParameterModule {
    package static var blank: GPT { blank(nil) }

    package static func blank(_ config: GPTConfig?) -> GPT {
        let one = WeightMatrix(.zeros(rows: 1, cols: 1)), config = config ?? GPTConfig(nCtx: 1, nVocab: 1, nEmbd: 1)
        var model = try! GPT(config: GPTConfig(nCtx: 1, nVocab: 1, nEmbd: 1), wte: one, wpe: one, blocks: [.blank])
        model.config = config
        (model.lnF, model.blocks) = (.blank(config), [])
        if config.modelType.isLlamaFamily { (model.wpe, model.lmHead) = (nil, config.tiedHead ? nil : one) }
        return model
    }

    package mutating func visit<V: ParameterVisitor>(_ v: inout V) throws {
        try v.config("config", &config)
        let llama = config.modelType.isLlamaFamily
        try v.weight(ParameterKey("wte", checkpoint: llama ? "model.embed_tokens.weight" : "wte.weight"), &wte, .vocab, .embd, embedding: true)
        try v.optional(ParameterKey("wpe", checkpoint: "wpe.weight"), &wpe, .ctx, .embd)
        try v.require((wpe == nil) == llama, "wpe", llama ? "the Llama family has no position embeddings" : "missing")
        try v.list(ParameterKey("blocks", checkpoint: llama ? "model.layers" : "h"), &blocks, .layers)
        try v.optional(ParameterKey("ln_f", checkpoint: llama ? "model.norm" : "ln_f"), &lnF)
        try v.optional(ParameterKey("lm_head", checkpoint: "lm_head.weight"), &lmHead, .vocab, .embd)
        try v.require((lmHead == nil) == config.tiedHead, "lm_head", config.tiedHead ? "the config ties the head to wte" : "missing (tie_word_embeddings is false)")
        try v.setting("vocabulary", &vocabulary, bound: nil, fallback: nil)
        try v.require(vocabulary.map { $0.count == config.nVocab } ?? true, "vocabulary",
                      "config.n_vocab is \(config.nVocab), found \(vocabulary?.count ?? 0) names")
    }

    /// Decodes a model from JSON data, with errors that name the field (a key
    /// given twice in one object is one).
    public init(json data: Data) throws {
        do {
            try refuseRepeatedKeys(data)
            self = try JSONDecoder().decode(GPT.self, from: data)
        } catch let error as DecodingError {
            throw ModelError(error)
        }
    }

    /// Every parameter, embeddings first, then each block's, then the final
    /// layer norm's; only the parts this model has (the hand-set model has no
    /// layer norms or MLP).
    public var parameters: [Parameter] {
        var list: [Parameter] = [], copy = self
        try? copy.walk(.read) { site, w in
            list.append(Parameter(name: site.name, shape: [w.rows, w.cols], storage: w.precision, byteCount: w.byteCount))
        } vector: { site, v in
            list.append(Parameter(name: site.name, shape: [v.cols], storage: .float64, byteCount: 8 * v.cols))
        }
        return list
    }

    /// The number of parameters (embeddings, weights, biases, gains).
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    /// The bytes the parameters occupy as stored.
    public var byteCount: Int { parameters.reduce(0) { $0 + $1.byteCount } }

    /// The same model with every weight matrix kept in `precision` (see
    /// `WeightMatrix/Precision`): `.float64`, `.float32` where
    /// lossless, `.both`, or the narrow `.bfloat16` and `.int8` (rounded; for a
    /// model computing in ``DType/float32``). With `.both`, the embeddings are kept as `Float`
    /// alone: they serve row lookups and the one-row logits product, never a GEMM
    /// that would want `Double`. With a narrow precision the token embeddings
    /// and output head are narrow too (they are the logits product's weights,
    /// a third of GPT-2 124M's), and GPT-2's position embeddings stay `Float`
    /// (one row is read per token, never multiplied); norms and biases are
    /// always `Double` vectors.
    public func storingWeights(_ precision: WeightMatrix.Precision) -> GPT {
        mappingWeights { w, site in w.stored(as: GPT.precision(precision, for: site)) }
    }

    /// The same model computing in `dtype`. To ``DType/float32`` every weight
    /// matrix keeps only `Float`s (a `Double` copy is dropped, `Double`s that
    /// are not exactly `Float`s are rounded; bfloat16 and int8 stay); to
    /// ``DType/float64`` the weights stay as they are (`Float`s are widened as
    /// they are read; bfloat16 and int8 a panel at a time for every product,
    /// decoding too, which is slow: they are for `float32` models).
    public func converted(to dtype: DType) -> GPT {
        var model = dtype == .float32 ? mappingWeights { w, _ in w.roundedToFloat() } : self
        model.dtype = dtype
        return model
    }

    /// The same model with `transform` applied to every weight matrix, told its site.
    private func mappingWeights(_ transform: @escaping (WeightMatrix, ParameterWalk.Site) -> WeightMatrix) -> GPT {
        var copy = self
        try? copy.walk(.read) { site, w in w = transform(w, site) }
        return copy
    }

    /// How the matrix at `site` is kept in a model whose matrices are in
    /// `precision` (see ``storingWeights(_:)``).
    static func precision(_ precision: WeightMatrix.Precision, for site: ParameterWalk.Site) -> WeightMatrix.Precision {
        guard site.embedding else { return precision }
        if precision == .both || (precision.isNarrow && site.field == "wpe") { return .float32 }
        return precision
    }
}
