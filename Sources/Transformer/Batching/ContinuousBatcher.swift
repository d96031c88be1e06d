import Foundation
import LinearAlgebra
import Synchronization

/// Generates for many requests at once with one model: up to `parallel`
/// sequences decode together, each with its own ``KVCache``, and new requests
/// join between steps (continuous batching).
///
/// Each step runs one forward pass over the next token of every running
/// sequence (``GPT/forward(_:caches:logits:backend:)``): the weights stream from
/// memory once for all of them, which is where decoding many sequences pays,
/// as decoding one is bound by that stream. A request that arrives is prefilled
/// on its own between two steps, then decodes with the others. What a request
/// generates does not depend on what runs beside it: a step of up to 16
/// sequences gives each the logits it would get alone, and each request draws
/// from its own seeded generator (`GPT.generate` with the same prompt, sampler
/// and seed gives the same tokens).
///
/// Requests past `parallel` wait in a queue of `queueLimit`; past that,
/// ``submit(_:)`` throws ``BatcherError/full``. A request whose stream is
/// dropped or cancelled (its client went away) frees its sequence at the next step.
///
/// ```swift
/// let batcher = try ContinuousBatcher(model: gpt, parallel: 8)
/// for try await token in try batcher.submit(GenerationRequest(prompt: ids, maxNewTokens: 32)) {
///     print(token.token)
/// }
/// ```
///
/// The model runs on one thread of the batcher's own (its products use all of
/// ``LinearAlgebra/threadCount``'s threads), never on the caller's.
public final class ContinuousBatcher: Sendable {
    /// The model every request runs on.
    public let model: GPT
    /// How many sequences decode together at most.
    public let parallel: Int
    /// How many requests may wait for a free sequence.
    public let queueLimit: Int
    private let backend: Backend?
    private let state = Mutex(State())
    /// Signalled when there is work (or the batcher closes), for the loop waiting on it.
    private let work = DispatchSemaphore(value: 0)

    /// What the submitting threads and the loop share.
    private struct State: ~Copyable {
        var waiting: [InFlight] = []
        var running = 0
        var closed = false
    }

    /// Makes the `parallel` sequences' KV caches (each the whole context:
    /// `parallel` × ``KVCache/byteCount``, held until the batcher goes) and starts
    /// the batcher's thread for `model`.
    ///
    /// - Throws: ``ModelError/invalidValue(field:reason:)`` for `parallel` outside
    ///   1…64 or a negative `queueLimit`.
    public init(model: GPT, parallel: Int, queueLimit: Int = 64, backend: Backend? = nil) throws {
        guard (1...64).contains(parallel) else {
            throw ModelError.invalidValue(field: "parallel", reason: "must be in 1…64, found \(parallel)")
        }
        guard queueLimit >= 0 else { throw ModelError.invalidValue(field: "queueLimit", reason: "must be ≥ 0, found \(queueLimit)") }
        (self.model, self.parallel, self.queueLimit, self.backend) = (model, parallel, queueLimit, backend)
        // Every sequence's cache is made now, the whole context each: writing their memory
        // the first time is slow (hundreds of milliseconds per cache on some machines), and
        // the first requests should not wait for it.
        nonisolated(unsafe) let caches = try (0..<parallel).map { _ in try KVCache(config: model.config, dtype: model.dtype) }
        let thread = Thread { [self] in loop(spare: caches) }
        thread.name = "swiftattention-batcher"
        thread.stackSize = 16 << 20
        thread.start()
    }

    /// How many requests are generating, and how many wait for a free sequence.
    public var load: (running: Int, waiting: Int) {
        state.withLock { ($0.running, $0.waiting.count) }
    }

    /// Queues `request` and returns its tokens as they are generated; the
    /// stream ends after the token marked with a ``GeneratedToken/finish`` reason.
    /// Ending the iteration early (or cancelling its task) stops the request.
    ///
    /// - Throws: ``InputError`` for an empty prompt, unknown ids, or a prompt and
    ///   `maxNewTokens` that together pass the model's context;
    ///   ``ModelError`` for `maxNewTokens` < 1 or `logprobs` outside 0…n_vocab;
    ///   ``BatcherError`` when the queue is full or the batcher closed.
    public func submit(_ request: GenerationRequest) throws -> AsyncThrowingStream<GeneratedToken, any Error> {
        try check(request)
        let (stream, continuation) = AsyncThrowingStream<GeneratedToken, any Error>.makeStream()
        let sequence = InFlight(request, continuation)
        continuation.onTermination = { [work] termination in
            if case .cancelled = termination {
                sequence.cancelled.store(true, ordering: .relaxed)
                work.signal()
            }
        }
        try state.withLock { state in
            if state.closed { throw BatcherError.closed }
            state.waiting.removeAll { $0.cancelled.load(ordering: .relaxed) }
            if state.running + state.waiting.count >= parallel + queueLimit {
                throw BatcherError.full(running: state.running, waiting: state.waiting.count)
            }
            state.waiting.append(sequence)
        }
        work.signal()
        return stream
    }

    /// Takes no more requests; those running or waiting finish, then the thread ends.
    public func close() {
        state.withLock { $0.closed = true }
        work.signal()
    }

    /// Throws unless `request` fits the model.
    private func check(_ request: GenerationRequest) throws {
        try model.checkInput(request.prompt)
        guard request.maxNewTokens >= 1 else {
            throw ModelError.invalidValue(field: "maxNewTokens", reason: "must be ≥ 1, found \(request.maxNewTokens)")
        }
        // The last new token is never fed back: the cache holds prompt + new − 1 positions.
        let positions = request.prompt.count + request.maxNewTokens - 1
        if positions > model.config.nCtx { throw InputError.contextOverflow(count: positions + 1, context: model.config.nCtx) }
        if let k = request.logprobs, !(0...model.config.nVocab).contains(k) {
            throw ModelError.invalidValue(field: "logprobs", reason: "must be in 0…\(model.config.nVocab), found \(k)")
        }
    }

    /// The batcher's thread: admits waiting requests into free sequences
    /// (prefilling each), then runs one step for all that are running, until
    /// it is closed and nothing is left.
    private func loop(spare: [KVCache]) {
        var running: [InFlight] = [], spare = spare
        var logits = Matrix.zeros(rows: 1, cols: model.config.nVocab)
        while true {
            let admitted: [InFlight]? = state.withLock { state in
                if running.isEmpty && state.waiting.isEmpty && state.closed { return nil }
                let count = min(parallel - running.count, state.waiting.count)
                defer { state.waiting.removeFirst(count) }
                state.running = running.count + count
                return Array(state.waiting.prefix(count))
            }
            guard let admitted else { return }
            if running.isEmpty && admitted.isEmpty {
                work.wait()                                                            // nothing to do until a request or a cancellation
                continue
            }
            for sequence in admitted {
                if sequence.cancelled.load(ordering: .relaxed) { sequence.finish(nil); continue }
                let cache = spare.removeLast()                                         // one per sequence: never fewer than the admitted
                cache.reset()
                sequence.cache = cache
                let ok = Result { try model.forward(sequence.request.prompt, cache: cache, logits: &logits, backend: backend) }   // the prompt, alone
                if sequence.emit(ok.map { logits }, row: 0) { running.append(sequence) } else { spare.append(cache) }
            }
            // One step for every running sequence that is still wanted, 16 rows per pass at most.
            running.removeAll { sequence in
                guard sequence.cancelled.load(ordering: .relaxed) else { return false }
                sequence.finish(nil)
                spare.append(sequence.cache!)
                return true
            }
            var finished: Set<ObjectIdentifier> = []
            for first in stride(from: 0, to: running.count, by: WeightMatrix.rowwiseLimit) {
                let part = running[first ..< min(running.count, first + WeightMatrix.rowwiseLimit)]
                let ok = Result { try model.forward(part.map { [$0.next] }, caches: part.map { $0.cache! }, logits: &logits, backend: backend) }
                for (row, sequence) in part.enumerated() where !sequence.emit(ok.map { logits }, row: row) {
                    finished.insert(ObjectIdentifier(sequence))
                    spare.append(sequence.cache!)
                }
            }
            running.removeAll { finished.contains(ObjectIdentifier($0)) }
        }
    }
}

/// One request as the batcher runs it.
private final class InFlight: @unchecked Sendable {
    let request: GenerationRequest
    let continuation: AsyncThrowingStream<GeneratedToken, any Error>.Continuation
    /// Set when its stream is dropped or cancelled.
    let cancelled = Atomic<Bool>(false)
    /// The loop's own (never touched elsewhere): its cache while it runs, its draws, tokens so far, the token to feed next.
    var cache: KVCache?
    var generator: SeededGenerator
    var produced = 0, next = 0

    init(_ request: GenerationRequest, _ continuation: AsyncThrowingStream<GeneratedToken, any Error>.Continuation) {
        (self.request, self.continuation) = (request, continuation)
        generator = SeededGenerator(seed: request.seed)
    }

    /// Chooses its next token from row `row` of `logits` (or ends with the pass's
    /// error) and hands it to the stream; whether it goes on.
    func emit(_ logits: Result<Matrix, any Error>, row: Int) -> Bool {
        do {
            let logits = try logits.get()
            let width = logits.cols
            var out = try logits.elements.withUnsafeBufferPointer { all in
                let values = UnsafeBufferPointer(rebasing: all[row * width ..< (row + 1) * width])
                var out = GeneratedToken(token: try request.sampler.sample(values, using: &generator), alternatives: [])
                if let k = request.logprobs { (out.logprob, out.alternatives) = Self.logprobs(values, of: out.token, top: k, limit: request.sampler.limit) }
                return out
            }
            produced += 1
            if request.stopTokens.contains(out.token) { out.finish = .stop } else if produced == request.maxNewTokens { out.finish = .length }
            if case .terminated = continuation.yield(out) { return false }
            if out.finish != nil { finish(nil); return false }
            next = out.token
            return true
        } catch {
            finish(error)
            return false
        }
    }

    /// Ends its stream, with `error` if there is one.
    func finish(_ error: (any Error)?) {
        continuation.finish(throwing: error)
    }

    /// The log-probability of `token` under the softmax of `row` (its first `limit` values), and the `top` most likely.
    static func logprobs(_ row: UnsafeBufferPointer<Double>, of token: Int, top: Int, limit: Int?) -> (Double, [TokenLogprob]) {
        let values = UnsafeBufferPointer(rebasing: row.prefix(limit ?? row.count))
        let m = values.max()!
        let logSum = m + Foundation.log(values.reduce(0) { $0 + Foundation.exp($1 - m) })
        let alternatives = top == 0 ? [] : Ranking.top(top, of: values).map { TokenLogprob(token: $0, logprob: values[$0] - logSum) }
        return (row[token] - logSum, alternatives)
    }
}

/// Why a ``ContinuousBatcher`` did not take a request.
public enum BatcherError: Error, Equatable, CustomStringConvertible {
    /// Every sequence is running and the queue is full.
    case full(running: Int, waiting: Int)
    /// ``ContinuousBatcher/close()`` was called.
    case closed

    public var description: String {
        switch self {
        case let .full(running, waiting): "the server is busy: \(running) requests generating and \(waiting) waiting; try again later"
        case .closed: "the server is shutting down"
        }
    }
}
