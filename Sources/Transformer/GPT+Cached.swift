import Foundation
import LinearAlgebra

/// The cached forward pass: the same computation as ``GPT/callAsFunction(_:backend:)``
/// (agreeing to ~1e-15), written against buffers the ``KVCache`` preallocates, so
/// decoding a token creates no matrices and runs its products as matrix–vector
/// products. Shared by ``GPT`` and ``InferenceGPT`` through ``CachedDecoder``.
extension GPT: CachedDecoder {
    var tokenEmbeddings: WeightMatrix { WeightMatrix(wte) }
    var positionEmbeddings: WeightMatrix { WeightMatrix(wpe) }
    var finalNorm: LayerNorm? { ln_f }
    func layer(_ l: Int) -> DecoderLayer { DecoderLayer(blocks[l]) }

    /// Runs `tokens` as the next positions of the sequence in `cache`, appends
    /// their keys and values, and writes next-token logits into `logits`:
    /// `[1, n_vocab]` for the last position when `allPositions` is false,
    /// `[n, n_vocab]` otherwise. `logits` is reshaped only when its shape differs.
    ///
    /// - Throws: ``InputError`` for empty input, unknown ids, or positions past the context.
    public func forward(_ tokens: [Int], cache: KVCache, logits: inout Matrix,
                        allPositions: Bool = false, backend: Backend? = nil) throws {
        try cachedForward(tokens, cache: cache, logits: &logits, allPositions: allPositions, backend: backend)
    }
}

extension CachedDecoder {
    /// Throws ``InputError`` unless `tokens` is non-empty, fits the context
    /// after `start` positions already seen, and holds only valid ids.
    func checkTokens(_ tokens: [Int], startingAt start: Int) throws {
        if tokens.isEmpty { throw InputError.empty }
        if start + tokens.count > config.nCtx {
            throw InputError.contextOverflow(count: start + tokens.count, context: config.nCtx)
        }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= config.nVocab }) {
            throw InputError.tokenOutOfRange(token: bad, vocabularySize: config.nVocab)
        }
    }

    /// Writes the embeddings of `tokens` at positions `start…`, `wte[t] + wpe[p]`,
    /// into `x` (`[n, n_embd]`, row-major).
    func embed(_ tokens: [Int], startPosition start: Int = 0, into x: UnsafeMutablePointer<Double>) {
        let d = config.nEmbd, wte = tokenEmbeddings, wpe = positionEmbeddings
        for (i, t) in tokens.enumerated() {
            (x + i * d).update(repeating: 0, count: d)
            wte.addRow(t, to: x + i * d)
            wpe.addRow(start + i, to: x + i * d)                        // x[i] = wte[t] + wpe[start + i]
        }
    }

    /// See ``GPT/forward(_:cache:logits:allPositions:backend:)``.
    func cachedForward(_ tokens: [Int], cache: KVCache, logits: inout Matrix,
                       allPositions: Bool, backend: Backend?) throws {
        let start = cache.count, n = tokens.count
        try checkTokens(tokens, startingAt: start)
        precondition(cache.config == config, "KVCache sized for \(cache.config), model is \(config)")
        let backend = backend ?? self.backend ?? .default
        let d = config.nEmbd, ws = cache.workspace
        let x = ws.buffer(.x, n * d), h = ws.buffer(.h, n * d)

        embed(tokens, startPosition: start, into: x)                  // [n] -> [n, d]
        for l in 0..<config.nLayer {
            let block = layer(l)
            block.ln_1.apply(x, rows: n, width: d, into: h)                       // [n, d]
            let a = attend(block, h, rows: n, layer: l, cache: cache, backend: backend)   // [n, d] -> [n, d]
            add(a, into: x, count: n * d)                               // x += attn(ln_1(x))
            if let mlp = block.mlp {
                block.ln_2.apply(x, rows: n, width: d, into: h)                   // [n, d]
                let hidden = ws.buffer(.hidden, n * mlp.c_fc.outputSize)
                mlp.c_fc.apply(h, rows: n, into: hidden, backend: backend)       // [n, d] -> [n, 4d]
                gelu(hidden, count: n * mlp.c_fc.outputSize)
                let p = ws.buffer(.projection, n * d)
                mlp.c_proj.apply(hidden, rows: n, into: p, backend: backend)     // [n, 4d] -> [n, d]
                add(p, into: x, count: n * d)                           // x += mlp(ln_2(x))
            }
        }
        cache.count = start + n

        let first = allPositions ? 0 : n - 1, rows = n - first
        finalNorm.apply(x + first * d, rows: rows, width: d, into: h)             // [rows, d]
        if logits.rows != rows || logits.cols != config.nVocab {
            logits = Matrix.zeros(rows: rows, cols: config.nVocab)
        }
        logits.elements.withUnsafeMutableBufferPointer { out in
            tokenEmbeddings.multiply(h, rows: rows, transposed: true, into: out.baseAddress!,
                                     backend: backend)                  // [rows, d] · [n_vocab, d]ᵀ -> [rows, n_vocab]
        }
    }

    /// Causal self-attention of `n` new rows against every cached position.
    private func attend(_ block: DecoderLayer, _ h: UnsafeMutablePointer<Double>, rows n: Int,
                        layer l: Int, cache: KVCache, backend: Backend) -> UnsafeMutablePointer<Double> {
        let d = config.nEmbd, hd = d / config.nHead, start = cache.count, total = start + n
        let ws = cache.workspace
        let qkv = ws.buffer(.qkv, n * 3 * d)
        block.c_attn.apply(h, rows: n, into: qkv, backend: backend)    // [n, d] -> [n, 3d]
        for head in 0..<config.nHead {                                  // append k, v rows to the cache
            let k = cache.head(cache.keys, layer: l, head: head), v = cache.head(cache.values, layer: l, head: head)
            for i in 0..<n {
                (k + (start + i) * hd).update(from: qkv + i * 3 * d + d + head * hd, count: hd)
                (v + (start + i) * hd).update(from: qkv + i * 3 * d + 2 * d + head * hd, count: hd)
            }
        }
        let out = ws.buffer(.attention, n * d)
        let workers = parallelKernelWorkers(config.nHead)
        let scoresBase = ws.buffer(.scores, workers * n * total)
        var heads = HeadAttention(qkv: qkv, out: out, scores: scoresBase,
                                  keys: cache.head(cache.keys, layer: l, head: 0), values: cache.head(cache.values, layer: l, head: 0),
                                  headStride: config.nCtx * hd, rows: n, start: start, width: d, headSize: hd, backend: backend)
        if n == 1 && total < 64 {
            // Decoding early in a sequence: each head is two tiny matrix-vector products,
            // and handing them to other threads costs about what it saves. Past that,
            // heads side by side decoded 20–30 % more tokens/s (`gpt generate`, 256- and
            // 700-token prompts, alternating runs).
            for head in 0..<config.nHead { heads.run(head: head, worker: 0) }
        } else {
            withUnsafeMutablePointer(to: &heads) {                     // heads side by side, one thread each
                parallelKernels(config.nHead, context: $0, HeadAttention.task)
            }
        }
        let p = ws.buffer(.projection, n * d)
        block.c_proj.apply(out, rows: n, into: p, backend: backend)    // [n, d] -> [n, d]
        return p
    }
}

/// One layer's attention for `rows` new positions, head by head: the work the
/// cached pass hands to threads (as a C function on a pointer to this, so a
/// decoded token allocates nothing).
private struct HeadAttention {
    /// `[rows, 3d]` queries, keys and values; `[rows, d]` output; per-worker `[rows, start + rows]` scores.
    let qkv: UnsafeMutablePointer<Double>, out: UnsafeMutablePointer<Double>, scores: UnsafeMutablePointer<Double>
    /// Head 0's cached keys and values, `[n_ctx, headSize]`; head `h`'s start `h * headStride` later.
    let keys: UnsafeMutablePointer<Double>, values: UnsafeMutablePointer<Double>, headStride: Int
    let rows: Int, start: Int, width: Int, headSize: Int, backend: Backend

    static let task: ParallelKernelTask = { heads, head, worker in
        heads!.assumingMemoryBound(to: HeadAttention.self).pointee.run(head: head, worker: worker)
    }

    /// Head `head`'s attention, using worker `worker`'s scores.
    func run(head: Int, worker: Int) {
        let n = rows, d = width, hd = headSize, total = start + n
        let k = keys + head * headStride, v = values + head * headStride
        let scores = self.scores + worker * n * total
        let scale = 1 / Double(hd).squareRoot()
        // Rows in blocks, each against only the positions it can see (a causal
        // mask hides the rest), so a prefill does about half the work of [n, total].
        var r0 = 0
        while r0 < n {
            let r1 = min(n, r0 + 64), rows = r1 - r0, seen = start + r1
            Kernels.multiply(qkv + r0 * 3 * d + head * hd, lda: 3 * d, transposeA: false, k, ldb: hd, transposeB: true,
                             scores, ldc: seen, m: rows, n: seen, k: hd, alpha: scale,
                             backend: backend)                          // [rows, hd] · [seen, hd]ᵀ -> [rows, seen]
            for i in 0..<rows { causalSoftmax(scores + i * seen, visible: start + r0 + i + 1, count: seen) }
            Kernels.multiply(scores, lda: seen, transposeA: false, v, ldb: hd, transposeB: false,
                             out + r0 * d + head * hd, ldc: d, m: rows, n: hd, k: seen,
                             backend: backend)                          // [rows, seen] · [seen, hd] -> [rows, hd]
            r0 = r1
        }
    }
}

/// Softmax over the first `visible` entries of a row; the rest become 0.
private func causalSoftmax(_ row: UnsafeMutablePointer<Double>, visible: Int, count: Int) {
    var m = -Double.infinity
    for j in 0..<visible { m = max(m, row[j]) }
    for j in 0..<visible { row[j] -= m }
    vectorExp(row, count: visible)
    var sum = 0.0
    for j in 0..<visible { sum += row[j] }
    let inv = 1 / sum
    for j in 0..<visible { row[j] *= inv }
    for j in visible..<count { row[j] = 0 }
}

/// `x[i] += y[i]`.
private func add(_ y: UnsafePointer<Double>, into x: UnsafeMutablePointer<Double>, count: Int) {
    for i in 0..<count { x[i] += y[i] }
}

/// ``GELU`` in place, four at a time with ``vectorExp(_:)``, split across
/// threads for long inputs.
private func gelu(_ x: UnsafeMutablePointer<Double>, count: Int) {
    let c = -2 * (2 / Double.pi).squareRoot()
    parallelRanges(count, minimum: 1 << 14) { range in
        let raw = UnsafeMutableRawPointer(x)
        var i = range.lowerBound
        while i + 4 <= range.upperBound {
            let v = raw.loadUnaligned(fromByteOffset: i * 8, as: SIMD4<Double>.self)
            let e = vectorExp(c * (v + 0.044715 * v * v * v))
            raw.storeBytes(of: v / (1 + e), toByteOffset: i * 8, as: SIMD4<Double>.self)
            i += 4
        }
        while i < range.upperBound { x[i] = GELU.value(x[i]); i += 1 }
    }
}

extension Optional where Wrapped == LayerNorm {
    /// Layer norm of `n` rows of width `d` into `out`, or a copy when there is no layer norm.
    func apply(_ x: UnsafePointer<Double>, rows n: Int, width d: Int, into out: UnsafeMutablePointer<Double>) {
        if let norm = self { norm.apply(x, rows: n, into: out) } else { out.update(from: x, count: n * d) }
    }
}

extension LayerNorm {
    /// `out = g · (x − mean) / √(variance + eps) + b`, row by row, on raw buffers.
    func apply(_ x: UnsafePointer<Double>, rows n: Int, into out: UnsafeMutablePointer<Double>) {
        let d = g.cols
        g.elements.withUnsafeBufferPointer { g in
            b.elements.withUnsafeBufferPointer { b in
                for i in 0..<n {
                    let row = x + i * d, o = out + i * d
                    var mean = 0.0
                    for j in 0..<d { mean += row[j] }
                    mean /= Double(d)
                    var variance = 0.0
                    for j in 0..<d { variance += (row[j] - mean) * (row[j] - mean) }
                    let inv = 1 / (variance / Double(d) + eps).squareRoot()
                    for j in 0..<d { o[j] = g[j] * ((row[j] - mean) * inv) + b[j] }
                }
            }
        }
    }
}
