import Foundation
@testable import LinearAlgebra
import SwiftAttention
import TestSupport
import Testing

@Suite("GPT with weights stored as Double, Float or both")
struct WeightStorageTests {
    let tiny: GPT
    let tinyExpected: TinyGPT2Expected
    init() throws {
        tiny = try tinyLoad.get()
        tinyExpected = try tinyExpectedLoad.get()
    }

    @Test(arguments: Backend.allCases, wideStorages)
    func logitsAndTokensMatchNumPy(backend: Backend, precision: WeightMatrix.Precision) throws {
        let model = try GPT(directory: tinyDirectory, weights: precision)
        var logits = Matrix.zeros(rows: 1, cols: 1)
        try model.forward(tinyExpected.prompt, cache: KVCache(config: model.config), logits: &logits, allPositions: true, backend: backend)
        expectClose(logits, tinyExpected.logits, relative: 1e-9, "\(precision) \(backend)")
        expectClose(try model(tinyExpected.prompt, backend: backend), tinyExpected.logits, relative: 1e-9, "\(precision) \(backend)")
        let g = try model.generate(tinyExpected.prompt, maxNewTokens: tinyExpected.greedy.count, backend: backend)
        #expect(g.newTokens == tinyExpected.greedy)
    }

    @Test(arguments: wideStorages)
    func storageAndSize(precision: WeightMatrix.Precision) throws {
        let model = try GPT(directory: tinyDirectory, weights: precision)
        let converted = tiny.storingWeights(precision)
        #expect(model == converted)
        #expect(model.parameterCount == tinyExpected.parameter_count)
        let matrices = model.parameters.filter { $0.shape.count == 2 }
        // The tiny checkpoint is F32, so every matrix has a Float copy unless Double was asked for.
        #expect(matrices.count == 10 && matrices.filter { $0.storage != .float64 }.count == (precision == .float64 ? 0 : 10))
        #expect(model.wte.precision == (precision == .float64 ? .float64 : .float32))
        #expect(matrices.dropFirst(2).allSatisfy { $0.storage == precision })
        #expect(model.wte.matrix == tiny.wte.matrix && model.blocks[0].attn.cAttn!.w.matrix == tiny.blocks[0].attn.cAttn!.w.matrix)
        #expect(model.byteCount == model.parameters.reduce(0) { $0 + $1.byteCount })
    }

    /// Every linear layer keeps its Float weights transposed for decoding, however
    /// they got there (loading, a change of storage or of dtype); the embeddings do not.
    @Test(arguments: wideStorages)
    func linearWeightsKeepFloatsTransposed(precision: WeightMatrix.Precision) throws {
        let loaded = try GPT(directory: tinyDirectory, weights: precision)
        for model in [loaded, tiny.storingWeights(precision), loaded.converted(to: .float32)] {
            let linears = model.blocks.flatMap(\.linears)
            #expect(linears.count == 8 && linears.allSatisfy { $0.w.floatsTransposed })
            #expect(!model.wte.floatsTransposed && !model.wpe!.floatsTransposed)
        }
    }

    /// Every Float copy starts a cache line, whichever way it was made (loading,
    /// a change of storage or of dtype), so a GEMV's 32-byte loads never straddle two.
    @Test(arguments: wideStorages)
    func floatWeightsAreCacheLineAligned(precision: WeightMatrix.Precision) throws {
        let loaded = try GPT(directory: tinyDirectory, weights: precision)
        for model in [loaded, tiny.storingWeights(precision), loaded.converted(to: .float32)] {
            let matrices = [model.wte, model.wpe!] + model.blocks.flatMap { $0.linears.map(\.w) }
            let addresses = matrices.compactMap { matrix -> Int? in
                switch matrix.storage {
                case .double: return nil
                case let .float(floats), let .both(_, floats): return floats.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }
                case let .bfloat16(values): return values.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }
                case let .int8(values, _): return values.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }
                }
            }
            #expect(addresses.count == (model.dtype == .float32 || precision != .float64 ? 10 : 0))
            #expect(addresses.allSatisfy { $0 % 64 == 0 }, "\(precision) \(model.dtype)")
        }
    }

    @Test func parameterListing() throws {
        let names = tiny.parameters.map(\.name)
        #expect(names.prefix(4) == ["wte.weight", "wpe.weight", "h.0.ln_1.weight", "h.0.ln_1.bias"])
        #expect(names.last == "ln_f.bias" && names.count == 2 + 2 * 12 + 2)
        #expect(tiny.parameters.first { $0.name == "h.1.mlp.c_fc.weight" }?.shape == [64, 256])
        #expect(tiny.parameters.first { $0.name == "h.1.mlp.c_fc.bias" }?.shape == [256])
        // The hand-set model has no layer norms or MLP: only what it has is listed.
        #expect(GPT.handmade.parameters.map(\.name) == ["wte.weight", "wpe.weight", "h.0.attn.c_attn.weight", "h.0.attn.c_attn.bias",
                                                        "h.0.attn.c_proj.weight", "h.0.attn.c_proj.bias"])
        #expect(GPT.handmade.parameterCount == 2 * 8 + 5 * 8 + 8 * 24 + 24 + 8 * 8 + 8)
    }

    @Test func cachedDecodeEqualsFullRecompute() throws {
        let model = tiny.storingWeights(.both)
        let cache = try KVCache(config: model.config)
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
    @Test(arguments: Backend.allCases, wideStorages)
    func longDecodeEqualsRecompute(backend: Backend, precision: WeightMatrix.Precision) throws {
        let gpt = try GPT.random(config: GPTConfig(nCtx: 96, nVocab: 50, nEmbd: 32, nHead: 4, nLayer: 2), seed: 5)
        let model = gpt.storingWeights(precision)
        let cache = try KVCache(config: gpt.config)
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
        var tensors = try tiny.checkpointTensors()
        let i = tensors.firstIndex { $0.name == "h.0.attn.c_attn.weight" }!
        tensors[i].values[0] = 0.1
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: tinyDirectory.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
        try SafetensorsFile.write(tensors, dtype: .float64, to: dir.appendingPathComponent("model.safetensors"))
        let model = try GPT(directory: dir, weights: .float64)
        #expect(model.blocks[0].attn.cAttn!.w.matrix[0, 0] == 0.1)
        let loaded = try GPT(directory: dir, weights: .float32)
        #expect(loaded.blocks[0].attn.cAttn!.w.precision == .float64)
        #expect(loaded.parameters.filter { $0.shape.count == 2 && $0.storage == .float32 }.count == 9)
        expectClose(try loaded([1, 2, 3]), try model([1, 2, 3]), relative: 1e-9)
    }
}
