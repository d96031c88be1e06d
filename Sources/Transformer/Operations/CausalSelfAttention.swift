import LinearAlgebra

/// Multi-head causal self-attention: projections to queries, keys and values,
/// scaled dot-product attention per head with a causal mask (a position sees
/// itself and earlier positions only), then an output projection.
///
/// One attention serves both families. GPT-2's projects to queries, keys and
/// values with one `c_attn` (`[d, 3d]`) and has a key and value head per query
/// head. The Llama family's has three projections (`q_proj` `[d, n_head·hd]`,
/// `k_proj` and `v_proj` `[d, n_kv_head·hd]`, biases optional), rotates queries
/// and keys by position (``RotaryEmbedding``), and lets `n_head / n_kv_head`
/// query heads share each key and value head (grouped-query attention; the
/// ``KVCache`` holds only the `n_kv_head` heads). The output projection is
/// `c_proj` (Llama's `o_proj`), `[n_head·hd, d]`.
///
/// JSON: `{"c_attn": Linear, "c_proj": Linear, "n_head": 12}` or
/// `{"q_proj": …, "k_proj": …, "v_proj": …, "o_proj": …, "n_head": 9, "n_kv_head": 3, "rope": {…}}`;
/// the counts are optional (a model's config supplies them; alone `n_head`
/// defaults to 1 and `n_kv_head` to `n_head`).
public struct CausalSelfAttention: OperationModel, ParameterModule, Equatable {
    /// GPT-2's projection to queries, keys and values side by side, `[d, 3d]`; nil for the Llama family.
    public private(set) var cAttn: Linear?
    /// The Llama family's projection to queries, `[d, n_head·hd]`; nil for GPT-2.
    public private(set) var qProj: Linear?
    /// The Llama family's projection to keys, `[d, n_kv_head·hd]`; nil for GPT-2.
    public private(set) var kProj: Linear?
    /// The Llama family's projection to values, `[d, n_kv_head·hd]`; nil for GPT-2.
    public private(set) var vProj: Linear?
    /// Projects the concatenated heads back: `[n_head·hd, d]`.
    public private(set) var cProj: Linear
    /// The number of query heads.
    public private(set) var nHead: Int
    /// The number of key and value heads, a divisor of ``nHead`` (GPT-2: equal).
    public private(set) var nKVHead: Int
    /// The rotation of queries and keys by position (the Llama family); nil for GPT-2.
    public private(set) var rope: RotaryEmbedding?

    /// GPT-2's attention from its two projections and head count.
    ///
    /// - Throws: ``ModelError`` when the projections do not fit one width `d`
    ///   (`[d, 3d]` and `[d, d]`) or `d` is not a multiple of `nHead`.
    public init(cAttn: Linear, cProj: Linear, nHead: Int = 1) throws {
        (self.cAttn, self.cProj, self.nHead, self.nKVHead) = (cAttn, cProj, nHead, nHead)
        try validate()
    }

    /// The Llama family's attention from its four projections, head counts and rotation.
    ///
    /// - Throws: ``ModelError`` when the projections do not fit `n_head` query
    ///   heads and `n_kv_head` key and value heads of one width, or `nKVHead`
    ///   does not divide `nHead`.
    public init(qProj: Linear, kProj: Linear, vProj: Linear, oProj: Linear, nHead: Int, nKVHead: Int,
                rope: RotaryEmbedding) throws {
        (self.qProj, self.kProj, self.vProj, self.cProj) = (qProj, kProj, vProj, oProj)
        (self.nHead, self.nKVHead, self.rope) = (nHead, nKVHead, rope)
        try validate()
    }

    package static var blank: CausalSelfAttention {
        try! CausalSelfAttention(cAttn: Linear(w: .zeros(rows: 1, cols: 3), b: .zeros(rows: 1, cols: 3)), cProj: .blank)
    }

    package static func blank(_ config: GPTConfig?) -> CausalSelfAttention {
        guard let config, config.modelType.isLlamaFamily else { return blank }
        let projection = Linear.blank(bias: config.queryKeyValueBias)
        return try! CausalSelfAttention(qProj: projection, kProj: projection, vProj: projection, oProj: .blank(bias: config.outputBias),
                                        nHead: 1, nKVHead: 1, rope: .blank)
    }

    package mutating func visit<V: ParameterVisitor>(_ v: inout V) throws {
        try v.optional("c_attn", &cAttn, [.input: .embd, .output: .embd * 3])
        try v.optional("q_proj", &qProj, [.input: .embd, .output: .query])
        try v.optional("k_proj", &kProj, [.input: .embd, .output: .keyValue])
        try v.optional("v_proj", &vProj, [.input: .embd, .output: .keyValue])
        let fused = cAttn != nil
        try v.require(fused ? qProj == nil && kProj == nil && vProj == nil && rope == nil : qProj != nil && kProj != nil && vProj != nil,
                      fused ? "c_attn" : "q_proj", "needs c_attn, or q_proj, k_proj and v_proj, not both")
        try v.part(fused ? "c_proj" : "o_proj", &cProj, [.input: fused ? .embd : .query, .output: .embd])
        try v.setting("n_head", &nHead, bound: \.nHead, fallback: 1)
        try v.require(nHead > 0 && queryWidth % nHead == 0, "n_head", "width \(queryWidth) is not a positive multiple of n_head \(nHead)")
        if fused {
            nKVHead = nHead
        } else {
            try v.setting("n_kv_head", &nKVHead, bound: \.keyValueHeads, fallback: nHead)
            try v.require(nKVHead > 0 && nHead % nKVHead == 0 && (kProj?.outputSize ?? 0) == nKVHead * headSize, "n_kv_head",
                          "n_head \(nHead) is not a multiple of \(nKVHead), or k_proj's width \(kProj?.outputSize ?? 0) is not \(nKVHead) heads of \(headSize)")
            try v.optional("rope", &rope)
        }
    }

    /// The model width `d`.
    public var width: Int { cProj.outputSize }
    /// The width of the queries, `n_head · hd` (`d` for GPT-2).
    public var queryWidth: Int { cProj.inputSize }
    /// The width of one head, `hd`.
    public var headSize: Int { queryWidth / nHead }

    public func callAsFunction<S: MatrixScalar>(_ x: DenseMatrix<S>, backend: Backend) -> DenseMatrix<S> {
        precondition(x.cols == width, "CausalSelfAttention: input \(x.shapeDescription) does not fit width \(width)")
        let cache = KVCache(layers: 1, heads: nKVHead, headSize: headSize, capacity: x.rows, dtype: .of(S.self))   // these rows only
        return DenseMatrix(rows: x.rows, cols: width) { y in                           // [n, d] -> [n, d]
            x.withElements { xp in
                withUnsafePointer(to: cache.layer(0, of: S.self, adding: x.rows)) {
                    apply(xp, caches: UnsafeBufferPointer(start: $0, count: 1), workspace: cache.workspace, into: y, backend: backend)
                }
            }
        }
    }

    /// Attention of new rows `x` to themselves and to the positions before
    /// them. The rows are those of one or more sequences, one after another:
    /// `caches[s]` holds sequence `s`'s earlier keys and values and says how many
    /// new rows are its (`rows`); `x` is `[n, d]` for `n` the sum of those. Each
    /// sequence's new keys and values are appended to its cache, its rows attend
    /// only to its own positions, and `[n, d]` goes into `y`. The projections run
    /// on all `n` rows at once (one product per weight matrix).
    ///
    /// The heads (of every sequence) run side by side, one thread each on the
    /// pure-Swift kernels, except when decoding one row of one sequence early
    /// on, where handing two tiny matrix–vector products to another thread costs
    /// about what it saves.
    ///
    /// With `patterns` (one sequence: `[n_head, n, cache.count + n]`), each head's
    /// attention weights are copied there as well (for a trace).
    package func apply<S: MatrixScalar>(_ x: UnsafePointer<S>, caches: UnsafeBufferPointer<KVCache.Layer<S>>, workspace ws: Workspace,
                                        into y: UnsafeMutablePointer<S>, backend: Backend,
                                        patterns: UnsafeMutablePointer<Double>? = nil) {
        let hd = headSize, qd = queryWidth, kd = nKVHead * hd
        let n = caches.rows(before: caches.count)                                      // rows in all
        var longest = 0, most = 0                                                      // the most positions, and rows, of one sequence
        for cache in caches {
            precondition(cache.headSize == hd && cache.heads == nKVHead && cache.count + cache.rows <= cache.capacity,
                         "CausalSelfAttention: a cache of \(cache.capacity) positions of \(cache.heads) heads of \(cache.headSize) cannot take \(cache.rows) rows after \(cache.count) of \(nKVHead) heads of \(hd)")
            longest = max(longest, cache.count + cache.rows)
            most = max(most, cache.rows)
        }
        precondition(patterns == nil || caches.count == 1, "CausalSelfAttention: patterns are copied for one sequence")
        let qkv = ws.buffer(.qkv, n * (qd + 2 * kd), of: S.self)
        let q: UnsafeMutablePointer<S>, k: UnsafeMutablePointer<S>, v: UnsafeMutablePointer<S>, ldq: Int, ldk: Int
        if let cAttn {
            cAttn.apply(x, rows: n, into: qkv, backend: backend)                      // [n, d] -> [n, 3d]: q, k, v side by side
            (q, k, v, ldq, ldk) = (qkv, qkv + qd, qkv + qd + kd, qd + 2 * kd, qd + 2 * kd)
        } else {
            (q, k, v, ldq, ldk) = (qkv, qkv + n * qd, qkv + n * (qd + kd), qd, kd)
            qProj!.apply(x, rows: n, into: q, backend: backend)                        // [n, d] -> [n, n_head·hd]
            kProj!.apply(x, rows: n, into: k, backend: backend)                        // [n, d] -> [n, n_kv_head·hd]
            vProj!.apply(x, rows: n, into: v, backend: backend)                        // [n, d] -> [n, n_kv_head·hd]
        }
        var r0 = 0
        for cache in caches {                                                          // sequence by sequence, its rows r0..<r0 + rows
            let start = cache.count, qs = q + r0 * ldq, ks = k + r0 * ldk, vs = v + r0 * ldk
            if let rope {                                                              // rotated by position, in place
                rope.apply(qs, rows: cache.rows, stride: ldq, heads: nHead, headSize: hd, start: start, workspace: ws)
                rope.apply(ks, rows: cache.rows, stride: ldk, heads: nKVHead, headSize: hd, start: start, workspace: ws)
            }
            for h in 0..<nKVHead {                                                     // new keys, values -> the cache
                for i in 0..<cache.rows {
                    (cache.keys(head: h) + (start + i) * hd).update(from: ks + i * ldk + h * hd, count: hd)
                    (cache.values(head: h) + (start + i) * hd).update(from: vs + i * ldk + h * hd, count: hd)
                }
            }
            r0 += cache.rows
        }
        let heads = ws.buffer(.heads, n * qd, of: S.self)                              // [n, n_head·hd]: head h in columns h·hd…
        // Worked out once, as the scores buffer is sized for it. Heads side by side
        // pay for themselves past about 64 positions (docs/PERFORMANCE.md).
        let items = caches.count * nHead
        let workers = caches.count == 1 && n == 1 && longest < 64 ? 1 : min(KernelThreads.current, items)
        let perWorker = min(most, attentionBlockRows) * longest
        var job = HeadAttention(queries: q, ldq: ldq, out: heads, scores: ws.buffer(.scores, workers * perWorker, of: S.self), scoresPerWorker: perWorker,
                                caches: caches, heads: nHead, group: nHead / nKVHead, patterns: patterns)
        withUnsafeMutablePointer(to: &job) { parallelKernels(items, workers: workers, context: $0, S.self == Float.self ? floatHeads : doubleHeads) }
        cProj.apply(heads, rows: n, into: y, backend: backend)                        // [n, n_head·hd] -> [n, d]
    }
}

/// Rows of queries are taken this many at a time, each block against only
/// the positions it can see, so a prompt does about half the work of the full square.
private let attentionBlockRows = 64

/// One layer's attention for the new rows of one or more sequences, head by
/// head: the work handed to the threads, as a C function on a pointer to this
/// (a decoded token allocates nothing).
private struct HeadAttention<S: MatrixScalar> {
    /// `[rows, ldq]` queries (head h at columns h·hd…); `[rows, n_head·hd]` output; per worker
    /// `scoresPerWorker` elements of scores (a block of rows of a sequence, by its positions).
    let queries: UnsafeMutablePointer<S>, ldq: Int, out: UnsafeMutablePointer<S>, scores: UnsafeMutablePointer<S>, scoresPerWorker: Int
    /// Each sequence's cache (its rows follow the previous sequence's).
    let caches: UnsafeBufferPointer<KVCache.Layer<S>>
    /// How many query heads, and how many of them share a key and value head.
    let heads: Int, group: Int
    /// Where to copy the weights (one sequence), `[heads, rows, start + rows]`, if anywhere.
    let patterns: UnsafeMutablePointer<Double>?

    /// Item `item`: query head `item % heads` of sequence `item / heads`, in worker `worker`'s scores.
    func run(item: Int, worker: Int) {
        let sequence = item / heads, head = item % heads, cache = caches[sequence]
        let first = caches.rows(before: sequence)                                     // the sequence's first row
        let n = cache.rows, hd = cache.headSize, ldo = heads * hd, start = cache.count, total = start + n
        let queries = self.queries + first * ldq, out = self.out + first * ldo
        let k = cache.keys(head: head / group), v = cache.values(head: head / group)
        let scores = self.scores + worker * scoresPerWorker
        let scale = 1 / S(hd).squareRoot()
        var r0 = 0
        while r0 < n {
            let r1 = min(n, r0 + attentionBlockRows), block = r1 - r0, seen = start + r1
            Kernels.multiply(queries + r0 * ldq + head * hd, lda: ldq, transposeA: false, k, ldb: hd, transposeB: true,
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
                             out + r0 * ldo + head * hd, ldc: ldo, m: block, n: hd, k: seen,
                             backend: .swift)                                  // [block, seen] · [seen, hd] -> [block, hd]
            r0 = r1
        }
    }
}

/// The C functions that run one item of the job their context points to, one per scalar.
private let doubleHeads: ParallelKernelTask = { $0!.assumingMemoryBound(to: HeadAttention<Double>.self).pointee.run(item: $1, worker: $2) }
private let floatHeads: ParallelKernelTask = { $0!.assumingMemoryBound(to: HeadAttention<Float>.self).pointee.run(item: $1, worker: $2) }
