import LinearAlgebra

/// Multi-head causal self-attention, as in GPT-2: one projection to queries,
/// keys and values, scaled dot-product attention per head with a causal mask
/// (a position sees itself and earlier positions only), then an output projection.
///
/// JSON: `{"c_attn": Linear, "c_proj": Linear, "n_head": 12}`; `n_head` is
/// optional (a model's config supplies it; alone it defaults to 1).
public struct CausalSelfAttention: Operation, Equatable {
    /// Projects `[n, d]` to queries, keys and values side by side: `[d, 3d]`.
    public var c_attn: Linear
    /// Projects the concatenated heads back: `[d, d]`.
    public var c_proj: Linear
    /// The number of heads; `d` must be a multiple of it.
    public var nHead: Int

    /// Attention from its two projections and head count.
    public init(c_attn: Linear, c_proj: Linear, nHead: Int = 1) {
        let d = c_proj.outputSize
        precondition(c_attn.outputSize == 3 * d && c_attn.inputSize == d && c_proj.inputSize == d,
                     "CausalSelfAttention: c_attn \(c_attn.w.shapeDescription) and c_proj \(c_proj.w.shapeDescription) do not fit a width [\(d), \(3 * d)] / [\(d), \(d)]")
        precondition(nHead > 0 && d % nHead == 0, "CausalSelfAttention: width \(d) is not a multiple of nHead \(nHead)")
        self.c_attn = c_attn
        self.c_proj = c_proj
        self.nHead = nHead
    }

    /// The model width `d`.
    public var width: Int { c_proj.outputSize }
    /// The width of one head, `d / nHead`.
    public var headSize: Int { width / nHead }

    public func callAsFunction(_ x: Matrix, backend: Backend) -> Matrix {
        let d = width, hd = headSize
        let qkv = c_attn(x, backend: backend)                            // [n, d] -> [n, 3d]
        let mask = Matrix.causalMask(x.rows)                             // [n, n]
        let heads = (0..<nHead).map { h -> Matrix in
            let q = qkv.columns(h * hd ..< (h + 1) * hd)                 // [n, 3d] -> [n, hd]
            let k = qkv.columns(d + h * hd ..< d + (h + 1) * hd)         // [n, 3d] -> [n, hd]
            let v = qkv.columns(2 * d + h * hd ..< 2 * d + (h + 1) * hd) // [n, 3d] -> [n, hd]
            var scores = mask                                            // [n, n]
            Matrix.multiply(q, k, transposeB: true, alpha: 1 / Double(hd).squareRoot(), beta: 1,
                            into: &scores, backend: backend)             // [n, hd] · [n, hd]ᵀ -> [n, n]
            return Softmax()(scores, backend: backend).matmul(v, backend: backend)   // [n, n] · [n, hd] -> [n, hd]
        }
        return c_proj(Matrix.concatenatingColumns(heads), backend: backend)  // nHead × [n, hd] -> [n, d] -> [n, d]
    }

    private enum CodingKeys: String, CodingKey { case c_attn, c_proj, n_head }

    public init(from decoder: Decoder) throws {
        try self.init(from: decoder, defaultHeads: 1)
    }

    /// Decodes, taking the head count from `n_head` if present, else `defaultHeads`.
    init(from decoder: Decoder, defaultHeads: Int) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let attn = try c.decode(Linear.self, forKey: .c_attn)
        let d = attn.inputSize
        let proj = try c.decode(Linear.self, forKey: .c_proj)
        let path = { (key: CodingKeys, sub: String) in fieldPath(c.codingPath, key) + "." + sub }
        if attn.outputSize != 3 * d {
            throw ModelError.shapeMismatch(field: path(.c_attn, "w"), expected: "[\(d), \(3 * d)]", found: attn.w.shapeDescription)
        }
        if proj.w.rows != d || proj.w.cols != d {
            throw ModelError.shapeMismatch(field: path(.c_proj, "w"), expected: "[\(d), \(d)]", found: proj.w.shapeDescription)
        }
        let heads = try c.decodeIfPresent(Int.self, forKey: .n_head) ?? defaultHeads
        guard heads > 0, d % heads == 0 else {
            throw ModelError.invalidValue(field: fieldPath(c.codingPath, CodingKeys.n_head),
                                          reason: "width \(d) is not a positive multiple of n_head \(heads)")
        }
        self.init(c_attn: attn, c_proj: proj, nHead: heads)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(c_attn, forKey: .c_attn)
        try c.encode(c_proj, forKey: .c_proj)
        try c.encode(nHead, forKey: .n_head)
    }
}
