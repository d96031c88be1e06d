import Foundation
import LinearAlgebra
import TestSupport
import Testing
@testable import Transformer

/// Many requests through one ``ContinuousBatcher``: each gets what it would alone.
@Suite("Continuous batching")
struct ContinuousBatcherTests {
    static let config = GPTConfig(nCtx: 64, nVocab: 97, nEmbd: 64, nHead: 4, nLayer: 2)

    /// Collects a request's tokens.
    static func run(_ batcher: ContinuousBatcher, _ request: GenerationRequest) async throws -> [GeneratedToken] {
        var tokens: [GeneratedToken] = []
        for try await token in try batcher.submit(request) { tokens.append(token) }
        return tokens
    }

    /// Eight requests at once on four sequences (the rest queue and join as others
    /// finish): greedy and sampled, with and without a stop token, prompts of
    /// different lengths; each equals `GPT.generate` on its own, tokens and
    /// finish reason, in float64 and float32.
    @Test(arguments: [DType.float64, .float32])
    func requestsEqualGeneratingAlone(dtype: DType) async throws {
        let gpt = try GPT.random(config: Self.config, seed: 11).converted(to: dtype)
        let batcher = try ContinuousBatcher(model: gpt, parallel: 4)
        defer { batcher.close() }
        let sampled = try Sampler(temperature: 0.9, topK: 20)
        let requests = (0..<8).map { i in
            GenerationRequest(prompt: (0...i).map { ($0 * 13 + i) % 97 }, maxNewTokens: 5 + 3 * i, sampler: i % 2 == 0 ? .greedy : sampled,
                              seed: UInt64(i), stopTokens: i == 3 ? [42] : [])
        }
        let results = try await withThrowingTaskGroup(of: (Int, [GeneratedToken]).self) { group in
            for (i, request) in requests.enumerated() { group.addTask { (i, try await Self.run(batcher, request)) } }
            var results = [[GeneratedToken]](repeating: [], count: requests.count)
            for try await (i, tokens) in group { results[i] = tokens }
            return results
        }
        for (request, got) in zip(requests, results) {
            let alone = try gpt.generate(request.prompt, maxNewTokens: request.maxNewTokens, sampler: request.sampler,
                                         seed: request.seed, stopTokens: request.stopTokens)
            #expect(got.map(\.token) == alone.newTokens, "prompt \(request.prompt)")
            let stopped = request.stopTokens.contains(alone.newTokens.last!)
            #expect(got.last?.finish == (stopped ? .stop : .length) && got.dropLast().allSatisfy { $0.finish == nil })
        }
        #expect(batcher.load == (0, 0))
    }

    /// Log-probabilities: the greedy token is the most likely, its log-probability
    /// that of the softmax of the logits, the alternatives in order.
    @Test func logprobs() async throws {
        let gpt = try GPT.random(config: Self.config, seed: 12)
        let batcher = try ContinuousBatcher(model: gpt, parallel: 2)
        defer { batcher.close() }
        let prompt = [1, 2, 3]
        let tokens = try await Self.run(batcher, GenerationRequest(prompt: prompt, maxNewTokens: 2, logprobs: 3))
        let logits = try gpt(prompt)
        let row = (0..<97).map { logits[2, $0] }, m = row.max()!
        let logSum = m + log(row.reduce(0) { $0 + exp($1 - m) })
        #expect(abs(tokens[0].logprob! - (m - logSum)) < 1e-9)
        #expect(tokens[0].alternatives.count == 3 && tokens[0].alternatives[0].token == tokens[0].token)
        #expect(tokens[0].alternatives.map(\.logprob) == tokens[0].alternatives.map(\.logprob).sorted(by: >))
        let plain = try await Self.run(batcher, GenerationRequest(prompt: prompt, maxNewTokens: 1))
        #expect(plain[0].logprob == nil && plain[0].alternatives.isEmpty)
    }

    /// A request whose stream ends early frees its sequence; the batcher goes on serving.
    @Test func droppedRequestsFreeTheirSequence() async throws {
        let gpt = try GPT.random(config: Self.config, seed: 13)
        let batcher = try ContinuousBatcher(model: gpt, parallel: 1, queueLimit: 0)
        defer { batcher.close() }
        var seen = 0
        for try await _ in try batcher.submit(GenerationRequest(prompt: [1], maxNewTokens: 60)) {
            seen += 1
            if seen == 2 { break }
        }
        var waited = 0
        while batcher.load.running > 0 && waited < 500 { try await Task.sleep(for: .milliseconds(10)); waited += 1 }
        #expect(batcher.load == (0, 0), "the dropped request's sequence is free")
        #expect(try await Self.run(batcher, GenerationRequest(prompt: [1], maxNewTokens: 3)).count == 3)
    }

    /// Bad requests, a full queue and a closed batcher are errors at submission.
    @Test func refusals() async throws {
        let gpt = try GPT.random(config: Self.config, seed: 14)
        let batcher = try ContinuousBatcher(model: gpt, parallel: 1, queueLimit: 1)
        #expect(throws: InputError.self) { try batcher.submit(GenerationRequest(prompt: [], maxNewTokens: 1)) }
        #expect(throws: InputError.self) { try batcher.submit(GenerationRequest(prompt: [97], maxNewTokens: 1)) }
        #expect(throws: InputError.self) { try batcher.submit(GenerationRequest(prompt: [1, 2], maxNewTokens: 64)) }
        #expect(throws: ModelError.self) { try batcher.submit(GenerationRequest(prompt: [1], maxNewTokens: 0)) }
        #expect(throws: ModelError.self) { try batcher.submit(GenerationRequest(prompt: [1], maxNewTokens: 1, logprobs: -1)) }
        #expect(throws: ModelError.self) { try ContinuousBatcher(model: gpt, parallel: 0) }
        // One running, one waiting: the third is refused.
        let long = GenerationRequest(prompt: [1], maxNewTokens: 63)
        let first = try batcher.submit(long), second = try batcher.submit(long)
        do {
            _ = try batcher.submit(long)
            Issue.record("a third request was taken")
        } catch let error as BatcherError {
            guard case let .full(running, waiting) = error, running + waiting == 2 else { Issue.record("\(error)"); return }
        }
        for stream in [first, second] { for try await _ in stream {} }
        batcher.close()
        #expect(throws: BatcherError.closed) { try batcher.submit(long) }
    }
}
