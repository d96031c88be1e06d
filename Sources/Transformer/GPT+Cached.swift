import Foundation
import LinearAlgebra

/// The cached forward pass: the same computation as ``GPT/callAsFunction(_:backend:)``
/// (agreeing to ~1e-15), written against buffers the ``KVCache`` preallocates, so
/// decoding a token creates no matrices and runs its products as matrix–vector
/// products.
extension GPT {
    /// Runs `tokens` as the next positions of the sequence in `cache`, appends
    /// their keys and values, and writes next-token logits into `logits`:
    /// `[1, n_vocab]` for the last position when `allPositions` is false,
    /// `[n, n_vocab]` otherwise. `logits` is reshaped only when its shape differs.
    ///
    /// - Throws: ``InputError`` for empty input, unknown ids, or positions past the context.
    public func forward(_ tokens: [Int], cache: KVCache, logits: inout Matrix,
                        allPositions: Bool = false, backend: Backend? = nil) throws {
        let start = cache.count, n = tokens.count
        try checkInput(tokens, startingAt: start)
        precondition(cache.config == config, "KVCache sized for \(cache.config), model is \(config)")
        let backend = backend ?? self.backend ?? .default
        let d = config.nEmbd, ws = cache.workspace
        let x = ws.buffer(.x, n * d), h = ws.buffer(.h, n * d)

        embed(tokens, startPosition: start, into: x)                  // [n] -> [n, d]
        for (l, block) in blocks.enumerated() {
            block.ln_1.apply(x, rows: n, width: d, into: h)                       // [n, d]
            let a = attend(block.attn, h, rows: n, layer: l, cache: cache, backend: backend)   // [n, d] -> [n, d]
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
        ln_f.apply(x + first * d, rows: rows, width: d, into: h)                  // [rows, d]
        if logits.rows != rows || logits.cols != config.nVocab {
            logits = Matrix.zeros(rows: rows, cols: config.nVocab)
        }
        wte.elements.withUnsafeBufferPointer { w in
            logits.elements.withUnsafeMutableBufferPointer { out in
                Kernels.multiply(h, lda: d, transposeA: false, w.baseAddress!, ldb: d, transposeB: true,
                                 out.baseAddress!, ldc: config.nVocab, m: rows, n: config.nVocab, k: d,
                                 backend: backend)                      // [rows, d] · [n_vocab, d]ᵀ -> [rows, n_vocab]
            }
        }
    }

    /// Causal self-attention of `n` new rows against every cached position.
    private func attend(_ attn: CausalSelfAttention, _ h: UnsafeMutablePointer<Double>, rows n: Int,
                        layer l: Int, cache: KVCache, backend: Backend) -> UnsafeMutablePointer<Double> {
        let d = config.nEmbd, hd = d / config.nHead, start = cache.count, total = start + n
        let ws = cache.workspace
        let qkv = ws.buffer(.qkv, n * 3 * d)
        attn.c_attn.apply(h, rows: n, into: qkv, backend: backend)     // [n, d] -> [n, 3d]
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
        let scale = 1 / Double(hd).squareRoot()
        let body = { (head: Int, worker: Int) in
            let k = cache.head(cache.keys, layer: l, head: head), v = cache.head(cache.values, layer: l, head: head)
            let scores = scoresBase + worker * n * total
            // Rows in blocks, each against only the positions it can see (a causal
            // mask hides the rest), so a prefill does about half the work of [n, total].
            var r0 = 0
            while r0 < n {
                let r1 = min(n, r0 + 64), rows = r1 - r0, seen = start + r1
                Kernels.multiply(qkv + r0 * 3 * d + head * hd, lda: 3 * d, transposeA: false, k, ldb: hd, transposeB: true,
                                 scores, ldc: seen, m: rows, n: seen, k: hd, alpha: scale,
                                 backend: backend)                      // [rows, hd] · [seen, hd]ᵀ -> [rows, seen]
                for i in 0..<rows { causalSoftmax(scores + i * seen, visible: start + r0 + i + 1, count: seen) }
                Kernels.multiply(scores, lda: seen, transposeA: false, v, ldb: hd, transposeB: false,
                                 out + r0 * d + head * hd, ldc: d, m: rows, n: hd, k: seen,
                                 backend: backend)                      // [rows, seen] · [seen, hd] -> [rows, hd]
                r0 = r1
            }
        }
        if n == 1 {
            // Decoding: each head is two small matrix-vector products; handing them to
            // other threads costs more than it saves (measured in `bench --filter model`).
            for head in 0..<config.nHead { body(head, 0) }
        } else {
            parallelKernels(config.nHead, body)                         // heads side by side, one thread each
        }
        let p = ws.buffer(.projection, n * d)
        attn.c_proj.apply(out, rows: n, into: p, backend: backend)     // [n, d] -> [n, d]
        return p
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

extension Linear {
    /// `out[n, out] = x[n, in] · w + b` on raw buffers.
    func apply(_ x: UnsafePointer<Double>, rows n: Int, into out: UnsafeMutablePointer<Double>, backend: Backend) {
        let o = outputSize
        b.elements.withUnsafeBufferPointer { bias in
            for i in 0..<n { (out + i * o).update(from: bias.baseAddress!, count: o) }
        }
        w.elements.withUnsafeBufferPointer { w in
            Kernels.multiply(x, lda: inputSize, transposeA: false, w.baseAddress!, ldb: o, transposeB: false,
                             out, ldc: o, m: n, n: o, k: inputSize, beta: 1, backend: backend)
        }
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
