import Foundation

/// One sequence to generate with a ``ContinuousBatcher``: a prompt and how to continue it.
public struct GenerationRequest: Sendable, Equatable {
    /// The token ids to continue (at least one).
    public var prompt: [Int]
    /// How many tokens to add at most (at least one).
    public var maxNewTokens: Int
    /// How each token is chosen (greedy by default).
    public var sampler: Sampler
    /// Seeds the sampler's draws: the same request gives the same tokens, whatever runs beside it.
    public var seed: UInt64
    /// Generation ends right after one of these is chosen (it is the last token), e.g. an end-of-text token.
    public var stopTokens: Set<Int>
    /// With a value `k`, each token carries its log-probability and the `k`
    /// most likely tokens' (``GeneratedToken/logprob``, ``GeneratedToken/alternatives``).
    public var logprobs: Int?

    /// A request; ``ContinuousBatcher/submit(_:)`` checks it against the model.
    public init(prompt: [Int], maxNewTokens: Int, sampler: Sampler = .greedy, seed: UInt64 = 0,
                stopTokens: Set<Int> = [], logprobs: Int? = nil) {
        (self.prompt, self.maxNewTokens, self.sampler, self.seed) = (prompt, maxNewTokens, sampler, seed)
        (self.stopTokens, self.logprobs) = (stopTokens, logprobs)
    }
}

/// A token id with its log-probability under the model (the softmax of the
/// logits, before any temperature).
public struct TokenLogprob: Sendable, Equatable {
    /// The token id.
    public var token: Int
    /// Its natural log-probability.
    public var logprob: Double
}

/// Why a generation ended.
public enum FinishReason: String, Sendable, Equatable {
    /// A stop token was chosen (or the caller stopped it).
    case stop
    /// It reached its `maxNewTokens`.
    case length
}

/// One token a ``ContinuousBatcher`` generated for a request.
public struct GeneratedToken: Sendable, Equatable {
    /// The token id.
    public var token: Int
    /// Its log-probability, when the request asked for ``GenerationRequest/logprobs``.
    public var logprob: Double?
    /// The most likely tokens at this step, most likely first (as many as the request asked for).
    public var alternatives: [TokenLogprob]
    /// Set on the last token: why the generation ended.
    public var finish: FinishReason?
}
