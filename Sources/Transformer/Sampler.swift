import Foundation
import LinearAlgebra

/// How the next token is chosen from a row of logits.
///
/// Greedy when `temperature` is 0; otherwise the logits are divided by the
/// temperature, optionally cut to the `topK` most likely tokens and to the
/// smallest set whose probability reaches `topP` (nucleus sampling), and a
/// token is drawn from what remains. Draws come from a ``SeededGenerator``,
/// so a run is reproducible from its seed.
public struct Sampler: Sendable, Equatable {
    /// 0 for greedy; larger is more random.
    public var temperature: Double
    /// Keep only the `topK` most likely tokens (nil: all).
    public var topK: Int?
    /// Keep the most likely tokens up to this cumulative probability (nil: all).
    public var topP: Double?

    /// A sampler; throws ``ModelError/invalidValue(field:reason:)`` for out-of-range settings.
    public init(temperature: Double = 1, topK: Int? = nil, topP: Double? = nil) throws {
        guard temperature >= 0, temperature.isFinite else {
            throw ModelError.invalidValue(field: "temperature", reason: "must be ≥ 0, found \(temperature)")
        }
        if let topK, topK < 1 { throw ModelError.invalidValue(field: "top-k", reason: "must be ≥ 1, found \(topK)") }
        if let topP, !(topP > 0 && topP <= 1) { throw ModelError.invalidValue(field: "top-p", reason: "must be in (0, 1], found \(topP)") }
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    /// Always the most likely token.
    public static let greedy = try! Sampler(temperature: 0)

    /// Chooses a token from `logits` (one row of `n_vocab` values).
    public func sample(_ logits: UnsafeBufferPointer<Double>, using generator: inout SeededGenerator) -> Int {
        if temperature == 0 || topK == 1 { return Self.argmax(logits) }
        var order = Array(logits.indices)
        if topK != nil || topP != nil {
            order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        }
        if let topK { order = Array(order.prefix(topK)) }
        let m = order.map { logits[$0] }.max()!
        var weights = order.map { Foundation.exp((logits[$0] - m) / temperature) }
        let total = weights.reduce(0, +)
        if let topP {
            var cumulative = 0.0, keep = weights.count
            for (i, w) in weights.enumerated() {
                cumulative += w / total
                if cumulative >= topP { keep = i + 1; break }
            }
            order = Array(order.prefix(keep))
            weights = Array(weights.prefix(keep))
        }
        var u = generator.nextUnit() * weights.reduce(0, +)
        for (i, w) in weights.enumerated() {
            u -= w
            if u < 0 { return order[i] }
        }
        return order[order.count - 1]
    }

    /// The index of the largest value (the first on ties).
    static func argmax(_ values: UnsafeBufferPointer<Double>) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}

/// What ``GPT/generate(_:maxNewTokens:sampler:seed:backend:cache:onToken:)`` produced, with timings.
public struct Generation: Sendable, Equatable {
    /// The prompt followed by the new tokens.
    public var tokens: [Int]
    /// The new tokens only.
    public var newTokens: [Int]
    /// Seconds spent on the prompt (one cached forward pass).
    public var prefillSeconds: Double
    /// Seconds spent producing the new tokens after the first.
    public var decodeSeconds: Double
}

extension GPT {
    /// Continues `prompt` by `maxNewTokens` tokens with a KV cache: one forward
    /// pass over the prompt (prefill), then one cached step per new token.
    /// `onToken` is called with each new token as it is chosen.
    ///
    /// - Throws: ``InputError`` for an empty prompt, unknown ids, or when
    ///   prompt plus new tokens exceed the context (checked before any work).
    public func generate(_ prompt: [Int], maxNewTokens: Int, sampler: Sampler = .greedy, seed: UInt64 = 0,
                         backend: Backend? = nil, cache: KVCache? = nil,
                         onToken: (Int) -> Void = { _ in }) throws -> Generation {
        try generateTokens(prompt, maxNewTokens: maxNewTokens, sampler: sampler, seed: seed,
                           backend: backend, cache: cache, onToken: onToken)
    }
}

extension CachedDecoder {
    /// See ``GPT/generate(_:maxNewTokens:sampler:seed:backend:cache:onToken:)``.
    func generateTokens(_ prompt: [Int], maxNewTokens: Int, sampler: Sampler, seed: UInt64,
                        backend: Backend?, cache: KVCache?, onToken: (Int) -> Void) throws -> Generation {
        try checkTokens(prompt, startingAt: 0)
        guard maxNewTokens >= 0 else {
            throw ModelError.invalidValue(field: "max-new-tokens", reason: "must be ≥ 0, found \(maxNewTokens)")
        }
        // The last new token is never fed back, so the cache needs prompt + new − 1 positions.
        if prompt.count + maxNewTokens - 1 > config.nCtx {
            throw InputError.contextOverflow(count: prompt.count + maxNewTokens - 1, context: config.nCtx)
        }
        let cache = cache ?? KVCache(config: config)
        cache.reset()
        var generator = SeededGenerator(seed: seed)
        var logits = Matrix.zeros(rows: 1, cols: config.nVocab)
        var tokens = prompt, new: [Int] = []
        new.reserveCapacity(maxNewTokens)
        tokens.reserveCapacity(prompt.count + maxNewTokens)
        let clock = ContinuousClock()
        var prefill = Duration.zero, decode = Duration.zero
        if maxNewTokens > 0 {
            prefill = try clock.measure { try cachedForward(prompt, cache: cache, logits: &logits, allPositions: false, backend: backend) }
        }
        let started = clock.now
        var step = [0]
        for i in 0..<maxNewTokens {
            let next = logits.elements.withUnsafeBufferPointer { sampler.sample($0, using: &generator) }
            tokens.append(next)
            new.append(next)
            onToken(next)
            if i + 1 < maxNewTokens {
                step[0] = next
                try cachedForward(step, cache: cache, logits: &logits, allPositions: false, backend: backend)
            }
        }
        decode = clock.now - started
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        return Generation(tokens: tokens, newTokens: new, prefillSeconds: seconds(prefill), decodeSeconds: seconds(decode))
    }
}
