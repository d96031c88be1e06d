import Foundation
import LinearAlgebra

/// A decoder-only transformer of the GPT-2 family or of the Llama family
/// (``GPTConfig/modelType``): token embeddings (GPT-2: plus learned position
/// embeddings; Llama: positions rotate queries and keys inside attention), a
/// stack of ``TransformerBlock``s, an optional final ``Norm``, and logits against
/// the token embeddings (tied) or a separate output head.
///
/// There is one forward pass, ``forward(_:cache:logits:allPositions:backend:)``:
/// it walks the blocks' operation models over buffers a ``KVCache`` owns, so
/// decoding a token allocates nothing; calling the model on tokens runs it over
/// a fresh cache. Weight matrices are `WeightMatrix`es, stored
/// as `Double`, lossless `Float`, or both (``storingWeights(_:)``).
///
/// ```swift
/// let gpt = GPT.handmade
/// let logits = try gpt([0, 0, 1])      // [3, 2]
/// ```
public struct GPT: Sendable, Equatable {
    /// The hyperparameters.
    public internal(set) var config: GPTConfig
    /// Token embeddings, `[n_vocab, n_embd]`; also the output projection unless there is an ``lmHead``.
    public internal(set) var wte: WeightMatrix
    /// Position embeddings, `[n_ctx, n_embd]` (GPT-2); nil for the Llama family.
    public internal(set) var wpe: WeightMatrix?
    /// The transformer blocks, `n_layer` of them.
    public internal(set) var blocks: [TransformerBlock]
    /// The final norm, if any (GPT-2 and Llama have one; the hand-set model does not).
    public internal(set) var lnF: Norm?
    /// The output head, `[n_vocab, n_embd]`, when it is not tied to ``wte``
    /// (the Llama family's `lm_head`, unless `tie_word_embeddings`).
    public internal(set) var lmHead: WeightMatrix?
    /// Names of the tokens, for models with a tiny built-in vocabulary.
    public internal(set) var vocabulary: [String]?
    /// The backend this model runs on when a call names none; `nil` follows
    /// `Backend/default`. Not part of the JSON.
    public var backend: Backend?
    /// What it computes in: `Double` (the default) or `Float` weights,
    /// activations and KV cache. ``converted(to:)`` changes it.
    public internal(set) var dtype: DType = .float64

    /// A model from its parts.
    ///
    /// - Throws: ``ModelError`` naming the field when a shape does not fit the config.
    public init(config: GPTConfig, wte: WeightMatrix, wpe: WeightMatrix?, blocks: [TransformerBlock],
                lnF: Norm? = nil, lmHead: WeightMatrix? = nil, vocabulary: [String]? = nil) throws {
        self.config = config
        self.wte = wte
        self.wpe = wpe
        self.blocks = blocks
        self.lnF = lnF
        self.lmHead = lmHead
        self.vocabulary = vocabulary
        try validate()
    }

    /// Throws ``InputError`` unless `tokens` is non-empty, fits the context
    /// after `start` positions already seen, and holds only valid ids.
    public func checkInput(_ tokens: [Int], startingAt start: Int = 0) throws {
        if tokens.isEmpty { throw InputError.empty }
        if start + tokens.count > config.nCtx {
            throw InputError.contextOverflow(count: start + tokens.count, context: config.nCtx)
        }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= config.nVocab }) {
            throw InputError.tokenOutOfRange(token: bad, vocabularySize: config.nVocab)
        }
    }

    /// The next-token logits at every position: `[n_seq] -> [n_seq, n_vocab]`
    /// (the forward pass over a cache sized for these tokens).
    ///
    /// - Throws: ``InputError`` for empty input, unknown ids or more tokens than the context.
    public func callAsFunction(_ tokens: [Int], backend: Backend? = nil) throws -> Matrix {
        try checkInput(tokens)
        var logits = Matrix.zeros(rows: tokens.count, cols: config.nVocab)
        try forward(tokens, cache: KVCache(config: config, capacity: tokens.count, dtype: dtype), logits: &logits,
                    allPositions: true, backend: backend)
        return logits
    }

    /// Runs `tokens` as the next positions of the sequence in `cache`, appends
    /// their keys and values, and writes next-token logits into `logits`:
    /// `[1, n_vocab]` for the last position when `allPositions` is false,
    /// `[n, n_vocab]` otherwise. `logits` is reshaped only when its shape differs.
    ///
    /// - Throws: ``InputError`` for empty input, unknown ids, or more positions
    ///   than the context or the cache holds (the cache is then unchanged).
    public func forward(_ tokens: [Int], cache: KVCache, logits: inout Matrix,
                        allPositions: Bool = false, backend: Backend? = nil) throws {
        try run(tokens, cache: cache, logits: &logits, allPositions: allPositions, backend: backend ?? self.backend ?? .default)
    }

    /// Runs the next tokens of several sequences in one pass: `tokens[s]` are the
    /// next positions of the sequence in `caches[s]` (one cache per sequence, no
    /// cache twice), whose keys and values are appended there. Writes
    /// `[sequences, n_vocab]` into `logits`: row `s` is the next-token logits
    /// after sequence `s`'s last new token.
    ///
    /// Each weight product runs once, on the rows of every sequence together
    /// (the weights stream from memory once for all of them); each sequence's
    /// attention sees only its own positions. Decoding one token for each of up
    /// to 16 sequences, every row of logits is, bit for bit, what that sequence
    /// alone gives (``forward(_:cache:logits:allPositions:backend:)``): what one
    /// sequence decodes does not depend on the others.
    ///
    /// ```swift
    /// let a = try KVCache(config: gpt.config), b = try KVCache(config: gpt.config)
    /// try gpt.forward([promptA], cache: a, logits: &logits)     // prompts one at a time
    /// try gpt.forward([promptB], cache: b, logits: &logits)
    /// try gpt.forward([[nextA], [nextB]], caches: [a, b], logits: &logits)   // [2, n_vocab]
    /// ```
    ///
    /// - Throws: ``InputError`` as the one-sequence pass does, for any sequence,
    ///   or ``ModelError`` when `tokens` and `caches` differ in count, are empty,
    ///   or repeat a cache; no cache changes then.
    public func forward(_ tokens: [[Int]], caches: [KVCache], logits: inout Matrix, backend: Backend? = nil) throws {
        guard !caches.isEmpty, tokens.count == caches.count else {
            throw ModelError.invalidValue(field: "caches", reason: "must be one per sequence and at least one: \(tokens.count) sequences, \(caches.count) caches")
        }
        guard Set(caches.map(ObjectIdentifier.init)).count == caches.count else {
            throw ModelError.invalidValue(field: "caches", reason: "a cache holds one sequence: the same cache appears twice")
        }
        try tokens.withUnsafeBufferPointer { t in
            try caches.withUnsafeBufferPointer { c in
                try run(t, caches: c, logits: &logits, allPositions: false, backend: backend ?? self.backend ?? .default)
            }
        }
    }

    /// The forward pass of one sequence (see ``forward(_:cache:logits:allPositions:backend:)``),
    /// reporting to `recorder` when there is one (``trace(_:top:backend:)``).
    func run(_ tokens: [Int], cache: KVCache, logits: inout Matrix, allPositions: Bool, backend: Backend,
             recorder: TraceRecorder? = nil) throws {
        try withUnsafePointer(to: tokens) { t in
            try withUnsafePointer(to: cache) { c in
                try run(UnsafeBufferPointer(start: t, count: 1), caches: UnsafeBufferPointer(start: c, count: 1), logits: &logits,
                        allPositions: allPositions, backend: backend, recorder: recorder)
            }
        }
    }

    /// The forward pass of one or more sequences, `tokens[s]` after the positions in
    /// `caches[s]`: every input is checked before any cache changes.
    private func run(_ tokens: UnsafeBufferPointer<[Int]>, caches: UnsafeBufferPointer<KVCache>, logits: inout Matrix, allPositions: Bool,
                     backend: Backend, recorder: TraceRecorder? = nil) throws {
        for (sequence, cache) in zip(tokens, caches) {
            let start = cache.count, n = sequence.count
            try checkInput(sequence, startingAt: start)
            guard cache.fits(config) else {
                throw ModelError.invalidValue(field: "cache", reason: "made for \(cache.shapeDescription), the model has \(config.nLayer) layers of \(config.keyValueHeads) key/value heads of width \(config.headSize)")
            }
            if start + n > cache.capacity { throw InputError.contextOverflow(count: start + n, context: cache.capacity) }
            try cache.check(dtype)
        }
        for cache in caches { cache.prepare(for: dtype) }
        switch dtype {
        case .float64: run(tokens, in: Double.self, caches: caches, logits: &logits, allPositions: allPositions, backend: backend, recorder: recorder)
        case .float32: run(tokens, in: Float.self, caches: caches, logits: &logits, allPositions: allPositions, backend: backend, recorder: recorder)
        }
    }

    /// The forward pass in `S` (the model's ``dtype``), on checked input.
    @_specialize(where S == Double)
    @_specialize(where S == Float)
    private func run<S: MatrixScalar>(_ tokens: UnsafeBufferPointer<[Int]>, in: S.Type, caches: UnsafeBufferPointer<KVCache>, logits: inout Matrix,
                                      allPositions: Bool, backend: Backend, recorder: TraceRecorder?) {
        var n = 0                                                                     // rows: every sequence's new positions
        for sequence in tokens { n += sequence.count }
        let d = config.nEmbd, ws = caches[0].workspace
        let x = ws.buffer(.x, n * d, of: S.self)
        var row = 0
        for (sequence, cache) in zip(tokens, caches) {
            embed(sequence, startPosition: cache.count, into: x + row * d)            // [n_s] -> [n_s, d], after the previous sequence's rows
            row += sequence.count
        }
        recorder?.residual.append(TraceRecorder.matrix(x, rows: n, cols: d))
        withUnsafeTemporaryAllocation(of: KVCache.Layer<S>.self, capacity: caches.count) { layers in
            for (l, block) in blocks.enumerated() {
                for s in caches.indices { layers.initializeElement(at: s, to: caches[s].layer(l, of: S.self, adding: tokens[s].count)) }
                block.apply(x, caches: UnsafeBufferPointer(layers), workspace: ws, backend: backend, recorder: recorder)   // [n, d] -> [n, d]
                recorder?.residual.append(TraceRecorder.matrix(x, rows: n, cols: d))
            }
        }
        for s in caches.indices { caches[s].count += tokens[s].count }
        if allPositions { return unembed(x, rows: n, into: &logits, workspace: ws, backend: backend) }   // [n, d] -> [n, n_vocab]
        var last = -1
        for s in tokens.indices {                                                      // each sequence's last row, moved up to row s
            last += tokens[s].count
            if last != s { (x + s * d).update(from: x + last * d, count: d) }
        }
        unembed(x, rows: caches.count, into: &logits, workspace: ws, backend: backend)   // [sequences, d] -> [sequences, n_vocab]
    }

    /// Next-token logits from `rows` rows of the residual stream: the final
    /// norm, then the product with the output head (the token embeddings when tied). `logits` is reshaped
    /// to `[rows, n_vocab]` only when its shape differs.
    func unembed<S: MatrixScalar>(_ x: UnsafePointer<S>, rows: Int, into logits: inout Matrix, workspace ws: Workspace, backend: Backend) {
        let d = config.nEmbd, h = ws.buffer(.h, rows * d, of: S.self)
        lnF.apply(x, rows: rows, width: d, into: h)                                   // [rows, d]
        if logits.rows != rows || logits.cols != config.nVocab {
            logits = Matrix.zeros(rows: rows, cols: config.nVocab)
        }
        logits.elements.withUnsafeMutableBufferPointer { out in
            let wide = S.self == Double.self, count = rows * config.nVocab
            let y: UnsafeMutablePointer<S> = wide ? Kernels.rawMutable(out.baseAddress!) : ws.buffer(.logits, count, of: S.self)
            (lmHead ?? wte).multiply(h, rows: rows, transposed: true, into: y, backend: backend)   // [rows, d] · [n_vocab, d]ᵀ -> [rows, n_vocab]
            if !wide { for i in 0..<count { out[i] = Double(y[i]) } }                // widened for the caller
        }
    }

    /// Writes the embeddings of `tokens` at positions `start…`, `wte[t] + wpe[p]`
    /// (`wte[t]` without position embeddings), into `x` (`[n, n_embd]`, row-major).
    private func embed<S: MatrixScalar>(_ tokens: [Int], startPosition start: Int, into x: UnsafeMutablePointer<S>) {
        let d = config.nEmbd
        for (i, t) in tokens.enumerated() {
            (x + i * d).update(repeating: 0, count: d)
            wte.addRow(t, to: x + i * d)
            wpe?.addRow(start + i, to: x + i * d)                                      // x[i] = wte[t] + wpe[start + i]
        }
    }
}
