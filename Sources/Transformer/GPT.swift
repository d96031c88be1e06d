import Foundation
import LinearAlgebra

/// A GPT-2-style decoder: token and position embeddings, a stack of
/// ``TransformerBlock``s, an optional final ``LayerNorm``, and logits against
/// the (tied) token embeddings.
///
/// JSON, in picoGPT's parameter layout (see `handmade-model.json`):
/// `{"config": {…}, "wte": [[…]], "wpe": [[…]], "blocks": [ … ], "ln_f": {…}}`;
/// `ln_f` and `vocabulary` are optional.
///
/// ```swift
/// let gpt = GPT.handmade
/// let logits = try gpt([0, 0, 1])      // [3, 2]
/// ```
public struct GPT: Codable, Sendable, Equatable {
    /// The hyperparameters.
    public var config: GPTConfig
    /// Token embeddings, `[n_vocab, n_embd]`; also the output projection.
    public var wte: Matrix
    /// Position embeddings, `[n_ctx, n_embd]`.
    public var wpe: Matrix
    /// The transformer blocks, `n_layer` of them.
    public var blocks: [TransformerBlock]
    /// The final layer norm, if any (GPT-2 has one; the hand-set model does not).
    public var ln_f: LayerNorm?
    /// Names of the tokens, for models with a tiny built-in vocabulary.
    public var vocabulary: [String]?
    /// The backend this model runs on when a call names none; `nil` follows
    /// ``LinearAlgebra/Backend/default``. Not part of the JSON.
    public var backend: Backend?

    /// A model from its parts; throws ``ModelError`` when a shape does not fit the config.
    public init(config: GPTConfig, wte: Matrix, wpe: Matrix, blocks: [TransformerBlock],
                ln_f: LayerNorm? = nil, vocabulary: [String]? = nil) throws {
        self.config = config
        self.wte = wte
        self.wpe = wpe
        self.blocks = blocks
        self.ln_f = ln_f
        self.vocabulary = vocabulary
        try validate()
    }

    /// Decodes a model from JSON data, with errors that name the field.
    public init(json data: Data) throws {
        do {
            self = try JSONDecoder().decode(GPT.self, from: data)
        } catch let error as DecodingError {
            throw ModelError(error)
        }
    }

    /// Checks every weight's shape against the config.
    public func validate() throws {
        try config.validate()
        let d = config.nEmbd
        func check(_ field: String, _ m: Matrix, _ rows: Int, _ cols: Int) throws {
            if m.rows != rows || m.cols != cols {
                throw ModelError.shapeMismatch(field: field, expected: "[\(rows), \(cols)]", found: m.shapeDescription)
            }
        }
        try check("wte", wte, config.nVocab, d)
        try check("wpe", wpe, config.nCtx, d)
        if blocks.count != config.nLayer {
            throw ModelError.invalidValue(field: "blocks", reason: "config.n_layer is \(config.nLayer), found \(blocks.count) blocks")
        }
        for (i, block) in blocks.enumerated() {
            try check("blocks[\(i)].attn.c_attn.w", block.attn.c_attn.w, d, 3 * d)
            try check("blocks[\(i)].attn.c_proj.w", block.attn.c_proj.w, d, d)
            if block.attn.nHead != config.nHead {
                throw ModelError.invalidValue(field: "blocks[\(i)].attn.n_head", reason: "config.n_head is \(config.nHead), found \(block.attn.nHead)")
            }
            for (name, norm) in [("ln_1", block.ln_1), ("ln_2", block.ln_2)] {
                if let norm { try check("blocks[\(i)].\(name).g", norm.g, 1, d) }
            }
            if let mlp = block.mlp {
                try check("blocks[\(i)].mlp.c_fc.w", mlp.c_fc.w, d, mlp.c_fc.outputSize)
            }
        }
        if let ln_f { try check("ln_f.g", ln_f.g, 1, d) }
        if let vocabulary, vocabulary.count != config.nVocab {
            throw ModelError.invalidValue(field: "vocabulary", reason: "config.n_vocab is \(config.nVocab), found \(vocabulary.count) names")
        }
    }

    /// Throws ``InputError`` unless `tokens` is non-empty, fits the context
    /// after `start` positions already seen, and holds only valid ids.
    public func checkInput(_ tokens: [Int], startingAt start: Int = 0) throws {
        try checkTokens(tokens, startingAt: start)
    }

    /// The most likely next token after the last position of `logits` (`[n, n_vocab]`).
    func mostLikelyNext(_ logits: Matrix) -> Int {
        logits.elements.withUnsafeBufferPointer { all in
            Sampler.argmax(UnsafeBufferPointer(rebasing: all[(logits.rows - 1) * logits.cols ..< logits.rows * logits.cols]))
        }
    }

    /// The next-token logits at every position: `[n_seq] -> [n_seq, n_vocab]`.
    ///
    /// - Throws: ``InputError`` for empty input, unknown ids or more tokens than the context.
    public func callAsFunction(_ tokens: [Int], backend: Backend? = nil) throws -> Matrix {
        try checkInput(tokens)
        let backend = backend ?? self.backend ?? .default
        var x = Matrix.zeros(rows: tokens.count, cols: config.nEmbd)
        x.elements.withUnsafeMutableBufferPointer { embed(tokens, into: $0.baseAddress!) }   // [n_seq] -> [n_seq, n_embd]
        for block in blocks { x = block(x, backend: backend) } // [n_seq, n_embd] -> [n_seq, n_embd]
        if let ln_f { x = ln_f(x, backend: backend) }          // [n_seq, n_embd]
        return x.matmul(wte, transposeOther: true, backend: backend)   // [n_seq, n_embd] · [n_vocab, n_embd]ᵀ -> [n_seq, n_vocab]
    }

    /// Greedy continuation: appends the most likely next token `count` times.
    /// When the text outgrows the context, only its last `n_ctx` tokens are
    /// given to the model (a sliding window). Returns the new tokens only.
    public func greedyContinuation(of tokens: [Int], count: Int, backend: Backend? = nil) throws -> [Int] {
        try checkInput(Array(tokens.suffix(config.nCtx)))
        var text = tokens, out: [Int] = []
        for _ in 0..<max(count, 0) {
            let logits = try self(Array(text.suffix(config.nCtx)), backend: backend)   // [≤n_ctx, n_vocab]
            let next = mostLikelyNext(logits)
            text.append(next)
            out.append(next)
        }
        return out
    }

    private enum CodingKeys: String, CodingKey { case config, wte, wpe, blocks, ln_f, vocabulary }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let config = try c.decode(GPTConfig.self, forKey: .config)
        var list = try c.nestedUnkeyedContainer(forKey: .blocks)
        var blocks: [TransformerBlock] = []
        while !list.isAtEnd {
            blocks.append(try TransformerBlock(from: try list.superDecoder(), defaultHeads: config.nHead))
        }
        try self.init(config: config,
                      wte: try c.decodeMatrix(.wte, shape: (config.nVocab, config.nEmbd)),
                      wpe: try c.decodeMatrix(.wpe, shape: (config.nCtx, config.nEmbd)),
                      blocks: blocks, ln_f: try c.decodeIfPresent(LayerNorm.self, forKey: .ln_f),
                      vocabulary: try c.decodeIfPresent([String].self, forKey: .vocabulary))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(config, forKey: .config)
        try c.encode(wte, forKey: .wte)
        try c.encode(wpe, forKey: .wpe)
        try c.encode(blocks, forKey: .blocks)
        try c.encodeIfPresent(ln_f, forKey: .ln_f)
        try c.encodeIfPresent(vocabulary, forKey: .vocabulary)
    }
}

extension GPT {
    /// Next-token accuracy: for every position `i` from `start` to the
    /// second-to-last, the model sees the (at most `n_ctx`) tokens ending at
    /// `i` and its most likely next token is compared with `tokens[i + 1]`.
    public func nextTokenAccuracy(on tokens: [Int], from start: Int, backend: Backend? = nil) throws -> (correct: Int, total: Int) {
        var correct = 0, total = 0
        for i in max(start, 0) ..< max(tokens.count - 1, 0) {
            let context = Array(tokens[max(0, i + 1 - config.nCtx) ... i])
            let logits = try self(context, backend: backend)                     // [≤n_ctx, n_vocab]
            if mostLikelyNext(logits) == tokens[i + 1] { correct += 1 }
            total += 1
        }
        return (correct, total)
    }
}
