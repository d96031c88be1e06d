import LinearAlgebra
import TestSupport
import Testing
@testable import Transformer

/// Several sequences through one forward pass (``GPT/forward(_:caches:logits:backend:)``):
/// every sequence gets what it would get alone.
@Suite("Several sequences in one forward pass")
struct BatchedDecodingTests {
    /// The two families' shapes, small: GPT-2's, and the Llama family's with grouped-query attention.
    static let configs = [
        GPTConfig(nCtx: 64, nVocab: 97, nEmbd: 64, nHead: 4, nLayer: 2),
        GPTConfig(llama: 64, nVocab: 97, nEmbd: 64, nHead: 4, nKVHead: 2, nLayer: 2, nInner: 160),
    ]

    /// Each way of computing: float64 with each wide storage, float32 with each storage.
    static func variants(_ gpt: GPT) -> [(String, GPT)] {
        let float32 = gpt.converted(to: .float32)
        return wideStorages.map { ("float64 \($0)", gpt.storingWeights($0)) }
            + [("float32", float32)] + [WeightMatrix.Precision.bfloat16, .int8].map { ("float32 \($0)", float32.storingWeights($0)) }
    }

    /// Sequences join and leave a running batch (continuous batching): four
    /// start together after prompts of different lengths, a fifth joins two
    /// steps later, one leaves after three. Every step's logits row equals, bit for
    /// bit, the one the same sequence gets decoding alone, on both backends.
    @Test(arguments: configs)
    func batchedStepsEqualDecodingAlone(config: GPTConfig) throws {
        let prompts = [[1], [5, 9, 2], [7, 7, 7, 7, 7, 7, 7], [3, 4], [11, 12, 13, 14, 15]]
        let joins = [0, 0, 0, 0, 2], leaves = [6, 3, 6, 6, 6]                         // the step each sequence joins, and the one it is gone by
        for (name, gpt) in Self.variants(try GPT.random(config: config, seed: 4)) {
            for backend in Backend.allCases {
                // Alone: each sequence's prompt, then greedy steps, one at a time.
                var alone: [[[Double]]] = []                                           // [sequence][step] logits row
                for (s, prompt) in prompts.enumerated() {
                    let cache = try KVCache(config: config, dtype: gpt.dtype)
                    var logits = Matrix.zeros(rows: 1, cols: 1), rows: [[Double]] = []
                    try gpt.forward(prompt, cache: cache, logits: &logits, backend: backend)
                    for _ in joins[s]..<leaves[s] {
                        try gpt.forward([logits.rowArgmax()[0]], cache: cache, logits: &logits, backend: backend)
                        rows.append(logits.elements)
                    }
                    alone.append(rows)
                }
                // Together: prompts alone as each joins, then one pass per step for all that are running.
                var caches: [KVCache?] = Array(repeating: nil, count: prompts.count)
                var next = Array(repeating: 0, count: prompts.count)
                var logits = Matrix.zeros(rows: 1, cols: 1)
                for step in 0..<6 {
                    for s in prompts.indices where joins[s] == step {
                        caches[s] = try KVCache(config: config, dtype: gpt.dtype)
                        try gpt.forward(prompts[s], cache: caches[s]!, logits: &logits, backend: backend)
                        next[s] = logits.rowArgmax()[0]
                    }
                    let running = prompts.indices.filter { joins[$0] <= step && step < leaves[$0] }
                    try gpt.forward(running.map { [next[$0]] }, caches: running.map { caches[$0]! }, logits: &logits, backend: backend)
                    #expect(logits.rows == running.count && logits.cols == config.nVocab)
                    for (row, s) in running.enumerated() {
                        let got = Array(logits.elements[row * config.nVocab ..< (row + 1) * config.nVocab])
                        let same = got == alone[s][step - joins[s]]
                        #expect(same, "\(config.modelType) \(name) \(backend): sequence \(s) at step \(step) differs from decoding alone")
                        next[s] = logits.rowArgmax()[row]
                    }
                }
                #expect(caches.map { $0!.count } == prompts.indices.map { prompts[$0].count + leaves[$0] - joins[$0] })
            }
        }
    }

    /// Prompts of several lengths prefilled in one pass give each sequence's
    /// last-position logits and cache as prefilling it alone does (within
    /// rounding: longer products take a GEMM), and decoding continues from there.
    @Test(arguments: configs)
    func promptsTogether(config: GPTConfig) throws {
        let prompts = [[1, 2, 3], [4], (0..<20).map { $0 * 3 % 97 }]
        for (name, gpt) in [("float64", try GPT.random(config: config, seed: 5)), ("float32", try GPT.random(config: config, seed: 5).converted(to: .float32))] {
            let caches = try prompts.map { _ in try KVCache(config: config, dtype: gpt.dtype) }
            var together = Matrix.zeros(rows: 1, cols: 1)
            try gpt.forward(prompts, caches: caches, logits: &together)
            #expect(caches.map(\.count) == prompts.map(\.count))
            for (s, prompt) in prompts.enumerated() {
                var alone = Matrix.zeros(rows: 1, cols: 1)
                let cache = try KVCache(config: config, dtype: gpt.dtype)
                try gpt.forward(prompt, cache: cache, logits: &alone)
                let row = Matrix(rows: 1, cols: config.nVocab, elements: Array(together.elements[s * config.nVocab ..< (s + 1) * config.nVocab]))
                expectClose(row, alone, relative: gpt.dtype == .float64 ? 1e-12 : 1e-4, "\(name) sequence \(s)")
                // The caches hold the same keys and values: the next token's logits agree too.
                try gpt.forward([7], cache: cache, logits: &alone)
                var after = Matrix.zeros(rows: 1, cols: 1)
                try gpt.forward([7], cache: caches[s], logits: &after)
                expectClose(after, alone, relative: gpt.dtype == .float64 ? 1e-12 : 1e-4, "\(name) sequence \(s), next token")
            }
        }
    }

    /// Bad batches throw before any cache changes.
    @Test func badBatchesChangeNothing() throws {
        let config = Self.configs[0], gpt = try GPT.random(config: config, seed: 6)
        let a = try KVCache(config: config), b = try KVCache(config: config), small = try KVCache(config: config, capacity: 4)
        var logits = Matrix.zeros(rows: 1, cols: 1)
        try gpt.forward([[1, 2]], caches: [a], logits: &logits)
        func fails(_ tokens: [[Int]], _ caches: [KVCache], _ message: String) {
            #expect(throws: (any Error).self, "\(message)") { try gpt.forward(tokens, caches: caches, logits: &logits) }
            #expect(a.count == 2 && b.count == 0 && small.count == 0, "\(message): a cache changed")
        }
        fails([], [], "no sequences")
        fails([[1], [2]], [a], "more sequences than caches")
        fails([[1], [2]], [a, a], "one cache twice")
        fails([[1], []], [a, b], "an empty sequence")
        fails([[1], [97]], [a, b], "an unknown token")
        fails([[1], [1, 2, 3, 4, 5]], [a, small], "past a cache's capacity")
        fails([[1], Array(repeating: 1, count: 65)], [a, b], "past the context")
        #expect(logits.rows == 1, "a failed pass leaves the logits as they were")
    }
}
