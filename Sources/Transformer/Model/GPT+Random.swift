import LinearAlgebra

extension GPT {
    /// A model of the given shape with random weights, as GPT-2 and Llama are
    /// initialised (normal, standard deviation 0.02; norms at gain 1, bias 0),
    /// reproducible from `seed`. Each value is a `Float` (held as `Double`), as
    /// in a real F32 checkpoint. For benchmarks and demos, not for text.
    public static func random(config: GPTConfig, seed: UInt64 = 0) throws -> GPT {
        try config.validate()
        var s = seed
        func normal(_ rows: Int, _ cols: Int) -> Matrix {
            s &+= 0x9E37_79B9
            return Matrix.random(rows: rows, cols: cols, seed: s, distribution: .normal(mean: 0, standardDeviation: 0.02))
                .map { Double(Float($0)) }
        }
        func linear(_ rows: Int, _ cols: Int, bias: Bool = true) throws -> Linear { try Linear(w: normal(rows, cols), b: bias ? normal(1, cols) : nil) }
        let d = config.nEmbd, eps = config.layerNormEpsilon
        func norm() throws -> Norm { config.modelType.isLlamaFamily ? .rmsNorm(try RMSNorm(width: d, eps: eps)) : .layerNorm(try LayerNorm(width: d, eps: eps)) }
        let blocks = try (0..<config.nLayer).map { _ in try TransformerBlock(attn: randomAttention(config, linear), mlp: randomMLP(config, linear),
                                                                              ln1: norm(), ln2: norm()) }
        let llama = config.modelType.isLlamaFamily
        return try GPT(config: config, wte: WeightMatrix(normal(config.nVocab, d)), wpe: llama ? nil : WeightMatrix(normal(config.nCtx, d)),
                       blocks: blocks, lnF: norm(), lmHead: config.tiedHead ? nil : WeightMatrix(normal(config.nVocab, d)))
    }

    /// A block's attention of `config`'s family with `linear`'s random maps.
    private static func randomAttention(_ config: GPTConfig, _ linear: (Int, Int, Bool) throws -> Linear) throws -> CausalSelfAttention {
        let d = config.nEmbd, q = config.nHead * config.headSize, kv = config.keyValueHeads * config.headSize
        guard config.modelType.isLlamaFamily else {
            return try CausalSelfAttention(cAttn: linear(d, 3 * d, true), cProj: linear(d, d, true), nHead: config.nHead)
        }
        let bias = config.queryKeyValueBias
        return try CausalSelfAttention(qProj: linear(d, q, bias), kProj: linear(d, kv, bias), vProj: linear(d, kv, bias),
                                       oProj: linear(q, d, config.outputBias), nHead: config.nHead, nKVHead: config.keyValueHeads,
                                       rope: RotaryEmbedding(theta: config.ropeTheta, scaling: config.ropeScaling))
    }

    /// A block's MLP of `config`'s family with `linear`'s random maps.
    private static func randomMLP(_ config: GPTConfig, _ linear: (Int, Int, Bool) throws -> Linear) throws -> FeedForward {
        let d = config.nEmbd, h = config.hiddenSize
        guard config.modelType.isLlamaFamily else { return .mlp(try MLP(cFc: linear(d, h, true), cProj: linear(h, d, true))) }
        return .gated(try GatedMLP(gateProj: linear(d, h, config.mlpBias), upProj: linear(d, h, config.mlpBias), downProj: linear(h, d, config.mlpBias)))
    }
}
