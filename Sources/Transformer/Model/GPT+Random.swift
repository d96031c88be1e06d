import LinearAlgebra

extension GPT {
    /// A model of the given shape with random weights, GPT-2's initialisation
    /// (normal, standard deviation 0.02; layer norms at gain 1, bias 0),
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
        func linear(_ rows: Int, _ cols: Int) throws -> Linear { try Linear(w: normal(rows, cols), b: normal(1, cols)) }
        let d = config.nEmbd, hidden = config.hiddenSize, eps = config.layerNormEpsilon
        let blocks = try (0..<config.nLayer).map { _ in
            try TransformerBlock(attn: CausalSelfAttention(cAttn: linear(d, 3 * d), cProj: linear(d, d), nHead: config.nHead),
                                 mlp: MLP(cFc: linear(d, hidden), cProj: linear(hidden, d)),
                                 ln1: LayerNorm(width: d, eps: eps), ln2: LayerNorm(width: d, eps: eps))
        }
        return try GPT(config: config, wte: WeightMatrix(normal(config.nVocab, d)), wpe: WeightMatrix(normal(config.nCtx, d)),
                       blocks: blocks, lnF: LayerNorm(width: d, eps: eps))
    }
}
