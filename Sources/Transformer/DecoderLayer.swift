import LinearAlgebra

/// An affine map `x · w + b` as the cached forward pass reads it: the weights
/// as a ``LinearAlgebra/WeightMatrix`` (`[in, out]`, `Double` or lossless
/// `Float`), the bias as a `[1, out]` row.
struct DecoderLinear: Sendable {
    var w: WeightMatrix
    var b: Matrix

    /// `linear`'s weights in `precision` (``LinearAlgebra/WeightMatrix/init(_:precision:)``:
    /// `.double` shares them, no copy).
    init(_ linear: Linear, precision: WeightMatrix.Precision = .double) {
        w = WeightMatrix(linear.w, precision: precision)
        b = linear.b
    }

    init(w: WeightMatrix, b: Matrix) {
        self.w = w
        self.b = b
    }

    var outputSize: Int { w.cols }

    /// `out[n, out] = x[n, in] · w + b` on raw buffers.
    func apply(_ x: UnsafePointer<Double>, rows n: Int, into out: UnsafeMutablePointer<Double>, backend: Backend) {
        let o = outputSize
        b.elements.withUnsafeBufferPointer { bias in
            for i in 0..<n { (out + i * o).update(from: bias.baseAddress!, count: o) }
        }
        w.multiply(x, rows: n, into: out, beta: 1, backend: backend)   // [n, in] · [in, out] + b -> [n, out]
    }
}

/// One transformer block as the cached forward pass reads it (see ``TransformerBlock``).
struct DecoderLayer: Sendable {
    var ln_1: LayerNorm?
    var c_attn: DecoderLinear
    var c_proj: DecoderLinear
    var ln_2: LayerNorm?
    var mlp: (c_fc: DecoderLinear, c_proj: DecoderLinear)?

    /// `block`'s weights in `precision` (`.double` shares them, no copy).
    init(_ block: TransformerBlock, precision: WeightMatrix.Precision = .double) {
        ln_1 = block.ln_1
        c_attn = DecoderLinear(block.attn.c_attn, precision: precision)
        c_proj = DecoderLinear(block.attn.c_proj, precision: precision)
        ln_2 = block.ln_2
        mlp = block.mlp.map { (DecoderLinear($0.c_fc, precision: precision), DecoderLinear($0.c_proj, precision: precision)) }
    }

    init(ln_1: LayerNorm?, c_attn: DecoderLinear, c_proj: DecoderLinear, ln_2: LayerNorm?,
         mlp: (c_fc: DecoderLinear, c_proj: DecoderLinear)?) {
        self.ln_1 = ln_1
        self.c_attn = c_attn
        self.c_proj = c_proj
        self.ln_2 = ln_2
        self.mlp = mlp
    }

    /// The weight matrices, for counting parameters and bytes.
    var weights: [WeightMatrix] { [c_attn.w, c_proj.w] + (mlp.map { [$0.c_fc.w, $0.c_proj.w] } ?? []) }

    /// The bias, gain and layer-norm parameters.
    var vectorParameterCount: Int {
        c_attn.b.cols + c_proj.b.cols + (mlp.map { $0.c_fc.b.cols + $0.c_proj.b.cols } ?? 0)
            + (ln_1.map { 2 * $0.g.cols } ?? 0) + (ln_2.map { 2 * $0.g.cols } ?? 0)
    }
}

/// What the cached forward pass (``GPT/forward(_:cache:logits:allPositions:backend:)``
/// and ``InferenceGPT``'s) reads from a model.
protocol CachedDecoder {
    var config: GPTConfig { get }
    var backend: Backend? { get }
    /// Token embeddings `[n_vocab, d]`, also the output projection.
    var tokenEmbeddings: WeightMatrix { get }
    /// Position embeddings `[n_ctx, d]`.
    var positionEmbeddings: WeightMatrix { get }
    var finalNorm: LayerNorm? { get }
    /// Block `l`, without copying its weights.
    func layer(_ l: Int) -> DecoderLayer
}
