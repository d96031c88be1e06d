import Foundation
import LinearAlgebra

/// How the next token is chosen from a row of logits.
///
/// Greedy when `temperature` is 0; otherwise the logits are divided by the
/// temperature, optionally cut to the `topK` most likely tokens and to the
/// smallest set whose probability reaches `topP` (nucleus sampling), and a
/// token is drawn from what remains. Draws come from a `SeededGenerator`,
/// so a run is reproducible from its seed.
public struct Sampler: Sendable, Equatable {
    /// 0 for greedy; larger is more random.
    public private(set) var temperature: Double
    /// Keep only the `topK` most likely tokens (nil: all).
    public private(set) var topK: Int?
    /// Keep the most likely tokens up to this cumulative probability (nil: all).
    public private(set) var topP: Double?
    /// Choose only among ids below this (nil: all): for a model whose vocabulary
    /// is padded past its tokenizer's, as Qwen2's is. See ``choosing(amongFirst:)``.
    public private(set) var limit: Int?

    /// A sampler; throws ``ModelError/invalidValue(field:reason:)`` for out-of-range settings.
    public init(temperature: Double = 1, topK: Int? = nil, topP: Double? = nil) throws {
        guard temperature >= 0, temperature.isFinite else {
            throw ModelError.invalidValue(field: "temperature", reason: "must be ≥ 0, found \(temperature)")
        }
        if let topK, topK < 1 { throw ModelError.invalidValue(field: "topK", reason: "must be ≥ 1, found \(topK)") }
        if let topP, !(topP > 0 && topP <= 1) { throw ModelError.invalidValue(field: "topP", reason: "must be in (0, 1], found \(topP)") }
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }

    /// Always the most likely token.
    public static let greedy = try! Sampler(temperature: 0)

    /// The same sampler choosing only among ids `0..<count` (a tokenizer's
    /// vocabulary, when the model's is padded beyond it).
    public func choosing(amongFirst count: Int) -> Sampler {
        var copy = self
        copy.limit = max(1, count)
        return copy
    }

    /// Chooses a token from `logits` (one row of `n_vocab` values).
    ///
    /// - Throws: ``ModelError/invalidValue(field:reason:)`` when `logits` is
    ///   empty or holds a NaN or +∞ (which would otherwise pick a token silently).
    package func sample(_ row: UnsafeBufferPointer<Double>, using generator: inout SeededGenerator) throws -> Int {
        let logits = limit.map { UnsafeBufferPointer(rebasing: row.prefix($0)) } ?? row
        if logits.isEmpty { throw ModelError.invalidValue(field: "logits", reason: "no values to choose from") }
        if let bad = logits.firstIndex(where: { $0.isNaN || $0 == .infinity }) {
            throw ModelError.invalidValue(field: "logits", reason: "\(logits[bad]) at token id \(bad): the model's weights or activations are not finite")
        }
        if temperature == 0 || topK == 1 { return Ranking.argmax(logits) }
        var order = topK != nil || topP != nil ? Ranking.top(topK, of: logits) : Array(logits.indices)
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
}
