import LinearAlgebra

/// Multi-head causal self-attention, as in GPT-2: one projection to queries,
/// keys and values, scaled dot-product attention per head with a causal mask
/// (a position sees itself and earlier positions only), then an output projection.
///
/// JSON: `{"c_attn": Linear, "c_proj": Linear, "n_head": 12}`; `n_head` is
/// optional (a model's config supplies it; alone it defaults to 1).
public struct CausalSelfAttention: OperationModel, ParameterModule, Equatable {
    /// Projects `[n, d]` to queries, keys and values side by side: `[d, 3d]`.
    public private(set) var cAttn: Linear
    /// Projects the concatenated heads back: `[d, d]`.
    public private(set) var cProj: Linear
    /// The number of heads; `d` must be a multiple of it.
    public private(set) var nHead: Int

    /// Attention from its two projections and head count.
    ///
    /// - Throws: ``ModelError`` when the projections do not fit one width `d`
    ///   (`[d, 3d]` and `[d, d]`) or `d` is not a multiple of `nHead`.
    public init(cAttn: Linear, cProj: Linear, nHead: Int = 1) throws {
        self.cAttn = cAttn
        self.cProj = cProj
        self.nHead = nHead
        try validate()
    }

    package static var blank: CausalSelfAttention {
        try! CausalSelfAttention(cAttn: Linear(w: .zeros(rows: 1, cols: 3), b: .zeros(rows: 1, cols: 3)), cProj: .blank)
    }

    package mutating func visit<V: ParameterVisitor>(_ v: inout V) throws {
        try v.part("c_attn", &cAttn, [.input: .embd, .output: .embd * 3])
        try v.part("c_proj", &cProj, [.input: .embd, .output: .embd])
        try v.setting("n_head", &nHead, bound: \.nHead, fallback: 1)
        try v.require(nHead > 0 && width % nHead == 0, "n_head", "width \(width) is not a positive multiple of n_head \(nHead)")
    }

    /// The model width `d`.
    public var width: Int { cProj.outputSize }
    /// The width of one head, `d / nHead`.
    public var headSize: Int { width / nHead }

    public func callAsFunction<S: MatrixScalar>(_ x: DenseMatrix<S>, backend: Backend) -> DenseMatrix<S> {
        precondition(x.cols == width, "CausalSelfAttention: input \(x.shapeDescription) does not fit width \(width)")
        let cache = KVCache(layers: 1, width: width, heads: nHead, capacity: x.rows, dtype: .of(S.self))   // these rows only
        return DenseMatrix(rows: x.rows, cols: width) { y in                           // [n, d] -> [n, d]
            x.withElements { apply($0, rows: x.rows, cache: cache.layer(0, of: S.self), workspace: cache.workspace, into: y, backend: backend) }
        }
    }

    /// Attention of `n` new rows `x` (`[n, d]`) to themselves and to the
    /// `cache.count` positions before them, whose keys and values are in `cache`;
    /// appends the new rows' keys and values there and writes `[n, d]` into `y`.
    ///
    /// The heads run side by side (one thread each, on the pure-Swift kernels)
    /// except when decoding one row early in a sequence, where handing two tiny
    /// matrix–vector products to another thread costs about what it saves.
    ///
    /// With `patterns` (`[n_head, n, cache.count + n]`), each head's attention
    /// weights are copied there as well (for a trace).
    package func apply<S: MatrixScalar>(_ x: UnsafePointer<S>, rows n: Int, cache: KVCache.Layer<S>, workspace ws: Workspace,
                                        into y: UnsafeMutablePointer<S>, backend: Backend,
                                        patterns: UnsafeMutablePointer<Double>? = nil) {
        let d = width, hd = headSize, start = cache.count, total = start + n
        precondition(cache.headSize == hd && total <= cache.capacity,
                     "CausalSelfAttention: a cache of \(cache.capacity) positions with head size \(cache.headSize) cannot take \(n) rows after \(start) with head size \(hd)")
        let qkv = ws.buffer(.qkv, n * 3 * d, of: S.self)
        cAttn.apply(x, rows: n, into: qkv, backend: backend)                          // [n, d] -> [n, 3d]
        for h in 0..<nHead {                                                           // new keys, values -> the cache
            for i in 0..<n {
                (cache.keys(head: h) + (start + i) * hd).update(from: qkv + i * 3 * d + d + h * hd, count: hd)
                (cache.values(head: h) + (start + i) * hd).update(from: qkv + i * 3 * d + 2 * d + h * hd, count: hd)
            }
        }
        let heads = ws.buffer(.heads, n * d, of: S.self)                                         // [n, d]: head h in columns h·hd…
        // Worked out once, as the scores buffer is sized for it. Heads side by side
        // decoded 20–30 % more tokens/s past 64 positions (`gpt generate`, 256- and
        // 700-token prompts, alternating runs), and cost about what they saved before.
        let workers = n == 1 && total < 64 ? 1 : min(KernelThreads.current, nHead)
        let blockRows = min(n, attentionBlockRows)
        var job = HeadAttention(qkv: qkv, out: heads, scores: ws.buffer(.scores, workers * blockRows * total, of: S.self),
                                cache: cache, rows: n, width: d, patterns: patterns)
        withUnsafeMutablePointer(to: &job) { parallelKernels(nHead, workers: workers, context: $0, S.self == Float.self ? floatHeads : doubleHeads) }
        cProj.apply(heads, rows: n, into: y, backend: backend)                        // [n, d] -> [n, d]
    }
}

/// Rows of queries are taken this many at a time, each block against only
/// the positions it can see, so a prompt does about half the work of the full square.
private let attentionBlockRows = 64

/// One layer's attention for `rows` new positions, head by head: the work
/// handed to the threads, as a C function on a pointer to this (a decoded
/// token allocates nothing).
private struct HeadAttention<S: MatrixScalar> {
    /// `[rows, 3d]` queries, keys and values; `[rows, d]` output; per worker `[blockRows, start + rows]` scores.
    let qkv: UnsafeMutablePointer<S>, out: UnsafeMutablePointer<S>, scores: UnsafeMutablePointer<S>
    let cache: KVCache.Layer<S>
    let rows: Int, width: Int
    /// Where to copy the weights, `[heads, rows, start + rows]`, if anywhere.
    let patterns: UnsafeMutablePointer<Double>?

    /// Head `head`'s attention, in worker `worker`'s scores.
    func run(head: Int, worker: Int) {
        let n = rows, d = width, hd = cache.headSize, start = cache.count, total = start + n
        let k = cache.keys(head: head), v = cache.values(head: head)
        let scores = self.scores + worker * min(n, attentionBlockRows) * total
        let scale = 1 / S(hd).squareRoot()
        var r0 = 0
        while r0 < n {
            let r1 = min(n, r0 + attentionBlockRows), block = r1 - r0, seen = start + r1
            Kernels.multiply(qkv + r0 * 3 * d + head * hd, lda: 3 * d, transposeA: false, k, ldb: hd, transposeB: true,
                             scores, ldc: seen, m: block, n: seen, k: hd, alpha: scale,
                             backend: .swift)                                  // [block, hd] · [seen, hd]ᵀ -> [block, seen]
            for i in 0..<block {                                               // row i sees positions 0…start + r0 + i
                let row = scores + i * seen, visible = start + r0 + i + 1
                Softmax.apply(row, count: visible)
                (row + visible).update(repeating: 0, count: seen - visible)
                if let patterns {
                    let p = patterns + (head * n + r0 + i) * total
                    for j in 0..<seen { p[j] = Double(row[j]) }
                }
            }
            Kernels.multiply(scores, lda: seen, transposeA: false, v, ldb: hd, transposeB: false,
                             out + r0 * d + head * hd, ldc: d, m: block, n: hd, k: seen,
                             backend: .swift)                                  // [block, seen] · [seen, hd] -> [block, hd]
            r0 = r1
        }
    }
}

/// The C functions that run one head of the job their context points to, one per scalar.
private let doubleHeads: ParallelKernelTask = { $0!.assumingMemoryBound(to: HeadAttention<Double>.self).pointee.run(head: $1, worker: $2) }
private let floatHeads: ParallelKernelTask = { $0!.assumingMemoryBound(to: HeadAttention<Float>.self).pointee.run(head: $1, worker: $2) }
