import LinearAlgebra

/// A pre-LayerNorm residual block, as in GPT-2:
/// `x = x + attn(ln_1(x))`, then `x = x + mlp(ln_2(x))`.
///
/// The layer norms and the MLP are optional, so an attention-only block (like
/// the hand-set "aab" model's) is expressible: a missing layer norm is the
/// identity, a missing MLP skips the second residual step.
/// JSON: `{"attn": …, "mlp": …, "ln_1": …, "ln_2": …}`.
public struct TransformerBlock: Operation, Equatable {
    /// The attention sub-layer.
    public var attn: CausalSelfAttention
    /// The feed-forward sub-layer, if any.
    public var mlp: MLP?
    /// The layer norm before attention, if any.
    public var ln_1: LayerNorm?
    /// The layer norm before the MLP, if any.
    public var ln_2: LayerNorm?

    /// A block from its parts.
    public init(attn: CausalSelfAttention, mlp: MLP? = nil, ln_1: LayerNorm? = nil, ln_2: LayerNorm? = nil) {
        self.attn = attn
        self.mlp = mlp
        self.ln_1 = ln_1
        self.ln_2 = ln_2
    }

    public func callAsFunction(_ x: Matrix, backend: Backend) -> Matrix {
        var x = x                                                       // [n, d]
        x += attn(ln_1?(x, backend: backend) ?? x, backend: backend)    // [n, d] -> [n, d]
        if let mlp {
            x += mlp(ln_2?(x, backend: backend) ?? x, backend: backend) // [n, d] -> [n, d]
        }
        return x
    }

    private enum CodingKeys: String, CodingKey { case attn, mlp, ln_1, ln_2 }

    public init(from decoder: Decoder) throws {
        try self.init(from: decoder, defaultHeads: 1)
    }

    /// Decodes, passing `defaultHeads` to the attention when it has no `n_head`.
    init(from decoder: Decoder, defaultHeads: Int) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let attn = try CausalSelfAttention(from: c.superDecoder(forKey: .attn), defaultHeads: defaultHeads)
        self.init(attn: attn,
                  mlp: try c.decodeIfPresent(MLP.self, forKey: .mlp),
                  ln_1: try c.decodeIfPresent(LayerNorm.self, forKey: .ln_1),
                  ln_2: try c.decodeIfPresent(LayerNorm.self, forKey: .ln_2))
        let d = attn.width
        for (key, norm) in [(CodingKeys.ln_1, ln_1), (.ln_2, ln_2)] {
            if let norm, norm.g.cols != d {
                throw ModelError.shapeMismatch(field: fieldPath(c.codingPath, key) + ".g", expected: "[\(d)]", found: "[\(norm.g.cols)]")
            }
        }
        if let mlp, mlp.c_fc.inputSize != d {
            throw ModelError.shapeMismatch(field: fieldPath(c.codingPath, CodingKeys.mlp) + ".c_fc.w",
                                           expected: "[\(d), *]", found: mlp.c_fc.w.shapeDescription)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(attn, forKey: .attn)
        try c.encodeIfPresent(mlp, forKey: .mlp)
        try c.encodeIfPresent(ln_1, forKey: .ln_1)
        try c.encodeIfPresent(ln_2, forKey: .ln_2)
    }
}
