import Foundation
import SwiftAttention
import TestSupport
import Testing

/// What `scripts/make_float32_fixture.py` recorded: Hugging Face `transformers`
/// running the tiny checkpoint in torch.float32.
struct TinyFloat32Expected: Decodable {
    let prompt: [Int]
    let logits: Matrix
    let greedy: [Int]
}

/// `--dtype float32`: the same model computing in `Float`, against a float32
/// reference, the float64 path, and itself on the other backend.
@Suite("GPT-2 in Float")
struct Float32Tests {
    let tinyExpected: TinyGPT2Expected, expected: TinyFloat32Expected, model: GPT
    init() throws {
        tinyExpected = try tinyExpectedLoad.get()
        expected = try loadFixture("tiny-gpt2-float32.json")
        model = try GPT(directory: tinyDirectory, dtype: .float32)
    }

    @Test func loadsAsFloat() throws {
        let model = model
        #expect(model.dtype == .float32)
        #expect(model.parameters.filter { $0.shape.count == 2 }.allSatisfy { $0.storage == .float32 })
        let double = try tinyLoad.get()
        #expect(double.dtype == .float64)
        #expect(model.byteCount < double.byteCount)
    }

    @Test("logits within 1e-4 of the largest against transformers in float32, and against float64", arguments: Backend.allCases)
    func logitsMatchFloat32Reference(backend: Backend) throws {
        let logits = try model(expected.prompt, backend: backend)
        expectClose(logits, expected.logits, relative: 1e-4, "vs transformers float32 (\(backend))")
        expectClose(logits, tinyExpected.logits, relative: 1e-4, "vs NumPy float64 (\(backend))")
    }

    @Test("both backends agree in Float to 1e-5")
    func backendsAgree() throws {
        let prompt = expected.prompt
        expectClose(try model(prompt, backend: .swift), try model(prompt, backend: .blas),
                    relative: 1e-5, "swift vs blas")
    }

    @Test("greedy tokens equal the float64 path's and transformers' float32", arguments: Backend.allCases)
    func greedyMatches(backend: Backend) throws {
        let tokens = try model.greedyContinuation(of: expected.prompt, count: 12, backend: backend)
        #expect(tokens == tinyExpected.greedy)
        #expect(tokens == expected.greedy)
    }

    @Test("KV-cached decoding equals a full recompute; the cache holds Floats", arguments: Backend.allCases)
    func cachedDecode(backend: Backend) throws {
        let model = model, prompt = expected.prompt
        let cache = try KVCache(config: model.config, dtype: .float32)
        var logits = Matrix.zeros(rows: 1, cols: model.config.nVocab)
        try model.forward(Array(prompt.prefix(3)), cache: cache, logits: &logits, backend: backend)
        for t in prompt.dropFirst(3) { try model.forward([t], cache: cache, logits: &logits, backend: backend) }
        let full = try model(prompt, backend: backend)
        expectClose(logits, full.slicingRows(prompt.count - 1 ..< prompt.count), relative: 1e-5, "cached vs full (\(backend))")
        #expect(cache.byteCount == (try KVCache(config: model.config)).byteCount / 2)
    }

    @Test("a cache of the other dtype: reallocated when empty, refused when it holds positions")
    func cacheOfTheOtherDType() throws {
        let model = model, prompt = expected.prompt
        let cache = try KVCache(config: model.config)                      // float64
        var logits = Matrix.zeros(rows: 1, cols: model.config.nVocab)
        try model.forward(prompt, cache: cache, logits: &logits)
        #expect(cache.dtype == .float32)
        let double = model.converted(to: .float64)
        #expect(throws: ModelError.self) { try double.forward([1], cache: cache, logits: &logits) }
    }

    @Test("the shipped Shakespeare model: logits against transformers in float32, greedy text as in float64", arguments: Backend.allCases)
    func shakespeare(backend: Backend) throws {
        let model = try GPT(directory: shakespeareDirectory, dtype: .float32)
        let expected: ShakespeareExpected = try loadFixture("shakespeare-tiny-expected.json")
        expectClose(try model(expected.ids, backend: backend), expected.logits_float32, relative: 1e-4, "vs transformers float32")
        let eos = try BPETokenizer(directory: shakespeareDirectory).endOfText.map { Set([$0]) } ?? []
        #expect(try model.generate(expected.ids, maxNewTokens: 40, backend: backend, stopTokens: eos).newTokens == expected.greedy)
    }

    @Test("a trace in Float: its logits are the forward pass's")
    func trace() throws {
        let prompt = expected.prompt
        let trace = try model.trace(prompt)
        #expect(trace.logits == (try model(prompt)))
        #expect(trace.attention.count == model.config.nLayer)
    }
}
