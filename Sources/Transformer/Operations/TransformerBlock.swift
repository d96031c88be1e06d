import LinearAlgebra

/// A pre-norm residual block, as in GPT-2 and the Llama family:
/// `x = x + attn(ln_1(x))`, then `x = x + mlp(ln_2(x))`.
///
/// GPT-2's norms are ``LayerNorm``s and its MLP an ``MLP``; the Llama family's
/// are ``RMSNorm``s and a ``GatedMLP`` (checkpoint names `input_layernorm`,
/// `self_attn`, `post_attention_layernorm`, `mlp`). The norms and the MLP are
/// optional, so an attention-only block (like the hand-set "aab" model's) is
/// expressible: a missing norm is the identity, a missing MLP skips the second
/// residual step. JSON: `{"attn": …, "mlp": …, "ln_1": …, "ln_2": …}`.
public struct TransformerBlock: OperationModel, ParameterModule, Equatable {
    /// The attention sub-layer.
    public private(set) var attn: CausalSelfAttention
    /// The feed-forward sub-layer, if any.
    public private(set) var mlp: FeedForward?
    /// The norm before attention, if any.
    public private(set) var ln1: Norm?
    /// The norm before the MLP, if any.
    public private(set) var ln2: Norm?

    /// A block from its parts.
    ///
    /// - Throws: ``ModelError`` when a part does not fit the attention's width.
    public init(attn: CausalSelfAttention, mlp: FeedForward? = nil, ln1: Norm? = nil, ln2: Norm? = nil) throws {
        self.attn = attn
        self.mlp = mlp
        self.ln1 = ln1
        self.ln2 = ln2
        try validate()
    }

    package static var blank: TransformerBlock { try! TransformerBlock(attn: .blank) }
    package static func blank(_ config: GPTConfig?) -> TransformerBlock {
        try! TransformerBlock(attn: .blank(config), mlp: .blank(config), ln1: .blank(config), ln2: .blank(config))
    }

    package mutating func visit<V: ParameterVisitor>(_ v: inout V) throws {
        let llama = attn.cAttn == nil                                 // the Llama family's checkpoint names
        try v.optional(ParameterKey("ln_1", checkpoint: llama ? "input_layernorm" : "ln_1"), &ln1)
        try v.part(ParameterKey("attn", checkpoint: llama ? "self_attn" : "attn"), &attn, [:])
        try v.optional(ParameterKey("ln_2", checkpoint: llama ? "post_attention_layernorm" : "ln_2"), &ln2)
        try v.optional("mlp", &mlp)
    }

    /// The model width `d`.
    public var width: Int { attn.width }

    public func callAsFunction<S: MatrixScalar>(_ x: DenseMatrix<S>, backend: Backend) -> DenseMatrix<S> {
        precondition(x.cols == width, "TransformerBlock: input \(x.shapeDescription) does not fit width \(width)")
        let cache = KVCache(layers: 1, heads: attn.nKVHead, headSize: attn.headSize, capacity: x.rows, dtype: .of(S.self))   // these rows only
        var y = x                                                                        // [n, d]
        y.elements.withUnsafeMutableBufferPointer { y in
            withUnsafePointer(to: cache.layer(0, of: S.self, adding: x.rows)) {
                apply(y.baseAddress!, caches: UnsafeBufferPointer(start: $0, count: 1), workspace: cache.workspace, backend: backend)
            }
        }
        return y                                                                         // [n, d]
    }

    /// The block on `n` rows of the residual stream `x` (`[n, d]`), in place:
    /// the rows of one or more sequences, one after another, `caches[s].rows` of
    /// sequence `s`, whose attention sees the `caches[s].count` earlier positions
    /// held there and appends these rows' keys and values.
    /// With a `recorder` (a trace, one sequence), the attention patterns and both updates are copied to it.
    package func apply<S: MatrixScalar>(_ x: UnsafeMutablePointer<S>, caches: UnsafeBufferPointer<KVCache.Layer<S>>, workspace ws: Workspace,
                                        backend: Backend, recorder: TraceRecorder? = nil) {
        let n = caches.rows(before: caches.count)
        let d = width, total = caches[0].count + n                                     // (positions seen: with a recorder, one sequence)
        let h = ws.buffer(.h, n * d, of: S.self), update = ws.buffer(.update, n * d, of: S.self)
        ln1.apply(x, rows: n, width: d, into: h)                                        // [n, d]
        let patterns = recorder?.patternBuffer(heads: attn.nHead, rows: n, cols: total)
        attn.apply(h, caches: caches, workspace: ws, into: update, backend: backend, patterns: patterns)   // [n, d] -> [n, d]
        recorder?.finishAttention(heads: attn.nHead, rows: n, cols: total)
        recorder?.attentionUpdates.append(SublayerUpdate(TraceRecorder.matrix(update, rows: n, cols: d)))
        add(update, into: x, count: n * d)                                              // x += attn(ln_1(x))
        guard let mlp else { recorder?.mlpUpdates.append(nil); return }
        ln2.apply(x, rows: n, width: d, into: h)                                        // [n, d]
        mlp.apply(h, rows: n, workspace: ws, into: update, backend: backend)            // [n, d] -> [n, d]
        recorder?.mlpUpdates.append(SublayerUpdate(TraceRecorder.matrix(update, rows: n, cols: d)))
        add(update, into: x, count: n * d)                                              // x += mlp(ln_2(x))
    }
}

/// `x[i] += y[i]` for `i < count`: a residual connection.
private func add<S: MatrixScalar>(_ y: UnsafePointer<S>, into x: UnsafeMutablePointer<S>, count: Int) {
    for i in 0..<count { x[i] += y[i] }
}
