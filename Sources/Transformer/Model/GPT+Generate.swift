import Foundation
import LinearAlgebra

/// What ``GPT/generate(_:maxNewTokens:sampler:seed:backend:cache:stopTokens:onToken:)`` produced, with timings.
public struct Generation: Sendable, Equatable {
    /// The prompt followed by the new tokens.
    public var tokens: [Int]
    /// The new tokens only.
    public var newTokens: [Int]
    /// Seconds spent on the prompt (one forward pass over it).
    public var prefillSeconds: Double
    /// Seconds spent producing the new tokens after the first.
    public var decodeSeconds: Double
    /// How many steps re-ran the last `n_ctx` tokens from scratch because the
    /// sequence had outgrown the context (see ``GPT/generate(_:maxNewTokens:sampler:seed:backend:cache:stopTokens:onToken:)``);
    /// 0 while everything fits.
    public var windowRecomputations: Int
}

extension GPT {
    /// Continues `prompt` by `maxNewTokens` tokens with a KV cache: one forward
    /// pass over the prompt (prefill), then one cached step per new token.
    /// `onToken` is called with each new token as it is chosen; an error it throws
    /// ends the generation and is rethrown (a caller's output that failed, say).
    ///
    /// **Context.** The model always sees the last `n_ctx` tokens of the text
    /// (a sliding window): a longer prompt is cut to its last `n_ctx` tokens, and
    /// once prompt and new tokens fill the context, each further token re-runs
    /// the window from scratch (a full prefill per token, counted in
    /// ``Generation/windowRecomputations``), because positions change when the
    /// window moves (GPT-2's embeddings, the Llama family's rotations) and
    /// cached keys cannot be reused.
    ///
    /// - Parameters:
    ///   - prompt: the token ids to continue.
    ///   - maxNewTokens: how many tokens to add at most.
    ///   - sampler: how each token is chosen from the logits (greedy by default).
    ///   - seed: seeds the sampler's draws (the same seed gives the same tokens).
    ///   - backend: the backend of every product; the model's, or `Backend.default`, when `nil`.
    ///   - cache: where keys and values go; a new one sized for this
    ///     generation (at most `n_ctx` positions) when `nil`.
    ///   - stopTokens: generation ends right after one of these is chosen (it is
    ///     part of ``Generation/newTokens``), e.g. an end-of-text token.
    ///   - onToken: called with each new token as it is chosen.
    /// - Throws: ``InputError`` for an empty prompt or unknown ids;
    ///   ``ModelError`` for a negative `maxNewTokens`, a cache too small for the
    ///   window, or logits that are not finite. All but the last are checked
    ///   before any work.
    public func generate(_ prompt: [Int], maxNewTokens: Int, sampler: Sampler = .greedy, seed: UInt64 = 0,
                         backend: Backend? = nil, cache: KVCache? = nil, stopTokens: Set<Int> = [],
                         onToken: (Int) throws -> Void = { _ in }) throws -> Generation {
        try checkInput(Array(prompt.suffix(config.nCtx)))
        if let bad = prompt.first(where: { $0 < 0 || $0 >= config.nVocab }) {
            throw InputError.tokenOutOfRange(token: bad, vocabularySize: config.nVocab)
        }
        guard maxNewTokens >= 0 else {
            throw ModelError.invalidValue(field: "maxNewTokens", reason: "must be ≥ 0, found \(maxNewTokens)")
        }
        // The last new token is never fed back: the cache holds prompt + new − 1 positions, at most n_ctx.
        let window = config.nCtx
        let needed = maxNewTokens > window ? window : min(window, prompt.count + max(maxNewTokens - 1, 0))
        let cache = try cache ?? KVCache(config: config, capacity: needed, dtype: dtype)
        guard cache.capacity >= needed else {
            throw ModelError.invalidValue(field: "cache", reason: "holds \(cache.capacity) positions, this generation needs \(needed)")
        }
        cache.reset()
        var generator = SeededGenerator(seed: seed)
        var logits = Matrix.zeros(rows: 1, cols: config.nVocab)
        var tokens = prompt, new: [Int] = []
        new.reserveCapacity(min(maxNewTokens, 1 << 16))
        tokens.reserveCapacity(prompt.count + min(maxNewTokens, 1 << 16))
        let clock = ContinuousClock()
        var prefill = Duration.zero, recomputations = 0
        if maxNewTokens > 0 {
            prefill = try clock.measure {
                try forward(Array(prompt.suffix(window)), cache: cache, logits: &logits, backend: backend)
            }
        }
        let started = clock.now
        var step = [0]
        for i in 0..<maxNewTokens {
            let next = try logits.elements.withUnsafeBufferPointer { try sampler.sample($0, using: &generator) }
            tokens.append(next)
            new.append(next)
            try onToken(next)
            guard i + 1 < maxNewTokens, !stopTokens.contains(next) else { break }
            if cache.count < window {
                step[0] = next
                try forward(step, cache: cache, logits: &logits, backend: backend)      // one cached step
            } else {
                cache.reset()                                                          // the window moves on
                try forward(Array(tokens.suffix(window)), cache: cache, logits: &logits, backend: backend)
                recomputations += 1
            }
        }
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        return Generation(tokens: tokens, newTokens: new, prefillSeconds: seconds(prefill),
                          decodeSeconds: seconds(maxNewTokens > 0 ? clock.now - started : .zero),
                          windowRecomputations: recomputations)
    }

    /// The `count` most likely next tokens, one after another: ``generate(_:maxNewTokens:sampler:seed:backend:cache:stopTokens:onToken:)``
    /// with the greedy sampler (and its context policy).
    public func greedyContinuation(of tokens: [Int], count: Int, backend: Backend? = nil) throws -> [Int] {
        try generate(tokens, maxNewTokens: count, sampler: .greedy, backend: backend).newTokens
    }

    /// Next-token accuracy: for every position `i` from `start` to the
    /// second-to-last, the model sees the (at most `n_ctx`) tokens ending at
    /// `i` and its most likely next token is compared with `tokens[i + 1]`.
    public func nextTokenAccuracy(on tokens: [Int], from start: Int, backend: Backend? = nil) throws -> (correct: Int, total: Int) {
        var correct = 0, total = 0
        for i in max(start, 0) ..< max(tokens.count - 1, 0) {
            let context = Array(tokens[max(0, i + 1 - config.nCtx) ... i])
            let next = try greedyContinuation(of: context, count: 1, backend: backend)[0]
            if next == tokens[i + 1] { correct += 1 }
            total += 1
        }
        return (correct, total)
    }
}
