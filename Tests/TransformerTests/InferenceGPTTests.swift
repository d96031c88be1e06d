import Foundation
import SwiftAttention
import TestSupport
import Testing

@Suite("InferenceGPT: the cached forward pass on Double, Float or both")
struct InferenceGPTTests {
    @Test(arguments: Backend.allCases, WeightMatrix.Precision.allCases)
    func logitsAndTokensMatchNumPy(backend: Backend, precision: WeightMatrix.Precision) throws {
        let model = try InferenceGPT(directory: tinyDirectory, precision: precision)
        var logits = Matrix.zeros(rows: 1, cols: 1)
        try model.forward(tinyExpected.prompt, cache: KVCache(config: model.config), logits: &logits, allPositions: true, backend: backend)
        expectClose(logits, tinyExpected.logits, relative: 1e-9, "\(precision) \(backend)")
        let g = try model.generate(tinyExpected.prompt, maxNewTokens: tinyExpected.greedy.count, backend: backend)
        #expect(g.newTokens == tinyExpected.greedy)
    }

    @Test(arguments: WeightMatrix.Precision.allCases)
    func storageAndSize(precision: WeightMatrix.Precision) throws {
        let model = try InferenceGPT(directory: tinyDirectory, precision: precision)
        let converted = InferenceGPT(tiny, precision: precision)
        #expect(model.parameterCount == tinyExpected.parameter_count && converted.parameterCount == tinyExpected.parameter_count)
        #expect(model.byteCount == converted.byteCount)
        // The tiny checkpoint is F32, so every matrix has a Float copy unless Double was asked for.
        #expect(model.compactMatrixCount == (precision == .double ? 0 : 10) && model.weightMatrices.count == 10)
        #expect(model.wte.precision == (precision == .double ? .double : .float32))
        #expect(model.weightMatrices.dropFirst(2).allSatisfy { $0.precision == precision })
        #expect(model.wte.matrix == tiny.wte && model.weightMatrices[2].matrix == tiny.blocks[0].attn.c_attn.w)
    }

    @Test func cachedDecodeEqualsTheReadableModel() throws {
        let model = InferenceGPT(tiny)
        let cache = KVCache(config: model.config)
        var logits = Matrix.zeros(rows: 1, cols: model.config.nVocab)
        var tokens = [3, 1, 4]
        try model.forward(tokens, cache: cache, logits: &logits)
        for next in [1, 5, 9, 2, 6] {
            let full = try tiny(tokens)
            expectClose(logits, full.slicingRows(full.rows - 1 ..< full.rows), relative: 1e-9, "after \(tokens.count) tokens")
            tokens.append(next)
            try model.forward([next], cache: cache, logits: &logits)
        }
        #expect(throws: InputError.tokenOutOfRange(token: 97, vocabularySize: 97)) { try model.forward([97], cache: cache, logits: &logits) }
        #expect(throws: InputError.empty) { try model.generate([], maxNewTokens: 2) }
    }

    /// Past 64 positions, decoding runs the heads side by side: still equal to a recompute.
    @Test(arguments: Backend.allCases, WeightMatrix.Precision.allCases)
    func longDecodeEqualsRecompute(backend: Backend, precision: WeightMatrix.Precision) throws {
        let gpt = try GPT.random(config: GPTConfig(nCtx: 96, nVocab: 50, nEmbd: 32, nHead: 4, nLayer: 2), seed: 5)
        let model = InferenceGPT(gpt, precision: precision)
        let cache = KVCache(config: gpt.config)
        var logits = Matrix.zeros(rows: 1, cols: 50)
        var tokens = (0..<60).map { ($0 * 7) % 50 }
        try model.forward(tokens, cache: cache, logits: &logits, backend: backend)
        for next in [3, 14, 15, 9, 26, 5, 35, 8] {
            tokens.append(next)
            try model.forward([next], cache: cache, logits: &logits, backend: backend)
            let full = try gpt(tokens, backend: backend)
            expectClose(logits, full.slicingRows(full.rows - 1 ..< full.rows), relative: 1e-9, "after \(tokens.count) tokens")
        }
    }

    /// An F64 checkpoint of values that are not Floats keeps them as Double whatever is asked.
    @Test func inexactWeightsStayDouble() throws {
        var model = tiny
        model.blocks[0].attn.c_attn.w[0, 0] = 0.1
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try model.save(directory: dir, dtype: .F64)
        let loaded = try InferenceGPT(directory: dir, precision: .float32)
        #expect(loaded.weightMatrices[2].precision == .double)
        #expect(loaded.compactMatrixCount == 9)
        var logits = Matrix.zeros(rows: 1, cols: 1)
        try loaded.forward([1, 2, 3], cache: KVCache(config: loaded.config), logits: &logits, allPositions: true)
        expectClose(logits, try model([1, 2, 3]), relative: 1e-9)
    }
}
