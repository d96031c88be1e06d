import Foundation
@testable import LinearAlgebra
import SwiftAttention
import TestSupport
import Testing

/// Mean negative log-likelihood (nats per token) of `text` under `model`, over
/// windows of the model's context: each window's positions predict the next token.
/// The mean loss over `text` in windows of the model's context; each window's
/// logits from one forward pass or, with `decoding`, from ``decodingLogits(_:_:)``.
func heldOutLoss(_ model: GPT, tokenizer: BPETokenizer, text: String, decoding: Bool = false) throws -> Double {
    let ids = tokenizer.encode(text), window = model.config.nCtx
    var total = 0.0, count = 0
    for start in stride(from: 0, to: ids.count - 1, by: window) {
        let chunk = Array(ids[start..<min(start + window + 1, ids.count)])           // window + 1: the last predicts nothing
        let logits = decoding ? try decodingLogits(model, Array(chunk.dropLast())) : try model(Array(chunk.dropLast()))
        for i in 0..<logits.rows {
            let row = logits[row: i], top = row.max()!
            let logSum = top + log(row.reduce(0) { $0 + exp($1 - top) })
            total += logSum - row[chunk[i + 1]]
            count += 1
        }
    }
    return total / Double(count)
}

/// The logits at every position of `tokens`, run as decoding runs them: 16
/// tokens at a time through the KV cache, so every weight product takes its
/// rows line by line (``WeightMatrix/rowwiseLimit``: with int8 weights each
/// row of activations is quantized too), as a decoded token's do.
func decodingLogits(_ model: GPT, _ tokens: [Int]) throws -> Matrix {
    let cache = try KVCache(config: model.config, capacity: tokens.count, dtype: model.dtype)
    var rows: [Double] = [], logits = Matrix.zeros(rows: 1, cols: model.config.nVocab)
    for start in stride(from: 0, to: tokens.count, by: 16) {
        try model.forward(Array(tokens[start ..< min(start + 16, tokens.count)]), cache: cache, logits: &logits, allPositions: true)
        rows += logits.elements
    }
    return Matrix(rows: tokens.count, cols: model.config.nVocab, elements: rows)
}

@Suite("Models with bfloat16 and int8 weights")
struct NarrowWeightModelTests {
    let tiny: GPT
    init() throws { tiny = try tinyLoad.get() }

    /// On text the shipped models never trained on, perplexity with int8
    /// weights is within 1 % of float32's, with bfloat16 within 0.2 %; and
    /// float32's is the model card's validation loss to within 10 % (a check
    /// that the text is held out and the models work). int8 runs as decoding
    /// does (``decodingLogits(_:_:)``: its activations quantized too), the
    /// others in one pass per window. Measured: int8 moves perplexity by
    /// 0.016 % at most, bfloat16 by 0.0035 %. A slow suite's test (36 forward
    /// passes of 256 tokens, about 70 s in a debug build).
    @Test(slowSuite, arguments: [("shakespeare-tiny", shakespeareDirectory), ("shakespeare-llama", shakespeareLlamaDirectory)])
    func heldOutPerplexity(name: String, directory: URL) throws {
        let text = try String(contentsOf: fixturesDirectory.appendingPathComponent("heldout/\(name).txt"), encoding: .utf8)
        let tokenizer = try BPETokenizer(directory: directory)
        let card = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("training.json"))) as! [String: Any]
        var perplexity: [WeightMatrix.Precision: Double] = [:]
        for weights in [WeightMatrix.Precision.float32, .bfloat16, .int8] {
            let model = try GPT(directory: directory, weights: weights, dtype: .float32)
            perplexity[weights] = exp(try heldOutLoss(model, tokenizer: tokenizer, text: text, decoding: weights == .int8))
        }
        let float32 = perplexity[.float32]!, bfloat16 = perplexity[.bfloat16]!, int8 = perplexity[.int8]!
        #expect(abs(log(float32) / (card["final_val_loss"] as! Double) - 1) < 0.1, "\(name): float32 \(log(float32)) nats/token")
        #expect(abs(bfloat16 / float32 - 1) < 0.002, "\(name): bf16 \(bfloat16) against float32 \(float32)")
        #expect(abs(int8 / float32 - 1) < 0.01, "\(name): int8 \(int8) against float32 \(float32)")
        #expect(bfloat16 != float32 && int8 != float32, "\(name): the narrow weights round")
    }

    /// A random GPT-2 (weights N(0, 0.02) as GPT-2 initialises them, 4 layers of
    /// width 256) with int8 weights gives logits within 3 % of the largest
    /// float32 logit, with bfloat16 within 1 %, whether the 48 tokens run in
    /// one pass or as decoding runs them (``decodingLogits(_:_:)``, where int8
    /// quantizes the activations too). Why: an int8 weight moves by a
    /// uniform error within half a step, the step being its block's largest
    /// magnitude over 127 (about 2.1 σ for 32 normal weights): RMS 2.1 σ / (127 √12),
    /// 0.48 % of a weight; a bfloat16 one by a relative error within 2⁻⁹, RMS 0.11 %.
    /// Independent errors keep that relative size in each product's sums, and
    /// the nine products a token passes through here (two per layer and the
    /// head) add up to about √9 times it: 1.4 % and 0.34 %; quantized
    /// activations add as much again to int8's (√2 times: 2.0 %). The bounds are
    /// 1.5 to 3 times that. Measured: int8 1.84 % (both ways where the CPU
    /// has AVX-512 VNNI; without it a pass of 48 tokens keeps `Float`
    /// activations: 1.15 %); bfloat16 0.43 % both ways.
    @Test func randomGPT2LogitsStayClose() throws {
        let config = GPTConfig(nCtx: 64, nVocab: 500, nEmbd: 256, nHead: 4, nLayer: 4)
        let model = try GPT.random(config: config, seed: 11).converted(to: .float32)
        let tokens = (0..<48).map { ($0 * 37) % 500 }
        let reference = try model(tokens)
        for (weights, bound) in [(WeightMatrix.Precision.int8, 0.03), (.bfloat16, 0.01)] {
            let narrow = model.storingWeights(weights)
            let (absolute, _) = differences(try narrow(tokens), reference)
            let (decoding, _) = differences(try decodingLogits(narrow, tokens), reference)
            let largest = reference.elements.map(abs).max()!
            #expect(absolute / largest < bound && decoding / largest < bound, "\(weights): \(absolute / largest), decoding \(decoding / largest)")
            #expect(absolute > 0, "\(weights) rounds")
        }
    }

    /// The loader narrows as it reads (the same weights as narrowing a float32
    /// model), keeps position embeddings `Float`, and refuses narrow weights
    /// for a float64 model; sizes follow the storage.
    @Test(arguments: [WeightMatrix.Precision.bfloat16, .int8])
    func loadingAndSizes(weights: WeightMatrix.Precision) throws {
        let loaded = try GPT(directory: tinyDirectory, weights: weights, dtype: .float32)
        #expect(loaded == tiny.converted(to: .float32).storingWeights(weights))
        #expect(loaded.wte.precision == weights && loaded.wpe!.precision == .float32)
        #expect(loaded.blocks.flatMap(\.linears).allSatisfy { $0.w.precision == weights && $0.w.floatsTransposed })
        let matrices = loaded.parameters.filter { $0.shape.count == 2 }
        let elements = matrices.filter { $0.storage == weights }.reduce(0) { $0 + $1.count }
        let expected = weights == .int8 ? elements + 4 * elements / 32 : 2 * elements  // the tiny model's lines are multiples of 32
        #expect(matrices.filter { $0.storage == weights }.reduce(0) { $0 + $1.byteCount } == expected)
        #expect(throws: ModelError.invalidValue(field: "weights", reason: "\(weights.rawValue) weights are for a model computing in float32, not float64")) {
            try GPT(directory: tinyDirectory, weights: weights)
        }
        let llama = try GPT(directory: llamaDirectory("llama-gqa"), weights: weights, dtype: .float32)
        #expect(llama.lmHead?.precision == weights && llama.wte.precision == weights)
        #expect(llama == (try GPT(directory: llamaDirectory("llama-gqa"), dtype: .float32)).storingWeights(weights))
        // A BF16 checkpoint (in shards) held as bfloat16 keeps its values exactly.
        let qwen = try GPT(directory: llamaDirectory("qwen2-bias"), weights: weights, dtype: .float32)
        let qwenFloats = try GPT(directory: llamaDirectory("qwen2-bias"), dtype: .float32)
        #expect(qwen == qwenFloats.storingWeights(weights))
        #expect(weights != .bfloat16 || qwen.blocks[0].attn.qProj!.w.matrix == qwenFloats.blocks[0].attn.qProj!.w.matrix)
    }

    /// Decoding from the KV cache equals a full recompute, generation, sampling
    /// and the trace run, with narrow weights in both families.
    @Test(arguments: [WeightMatrix.Precision.bfloat16, .int8])
    func decodingSamplingAndTrace(weights: WeightMatrix.Precision) throws {
        for directory in [tinyDirectory, llamaDirectory("llama-gqa")] {
            let model = try GPT(directory: directory, weights: weights, dtype: .float32)
            let cache = try KVCache(config: model.config, dtype: .float32)
            var logits = Matrix.zeros(rows: 1, cols: 1), tokens = [3, 1, 4]
            try model.forward(tokens, cache: cache, logits: &logits)
            for next in [1, 5, 9] {
                let full = try model(tokens)
                expectClose(logits, full.slicingRows(full.rows - 1 ..< full.rows), relative: 1e-5, "\(directory.lastPathComponent) \(weights)")
                tokens.append(next)
                try model.forward([next], cache: cache, logits: &logits)
            }
            let greedy = try model.generate([3, 1, 4], maxNewTokens: 6)
            #expect(greedy.newTokens.count == 6)
            let sampler = try Sampler(temperature: 0.8, topK: 20)
            let sampled = try model.generate([3, 1, 4], maxNewTokens: 6, sampler: sampler, seed: 3)
            #expect(sampled.newTokens == (try model.generate([3, 1, 4], maxNewTokens: 6, sampler: sampler, seed: 3)).newTokens)
            let trace = try model.trace([3, 1, 4, 1])
            expectClose(trace.logits, try model([3, 1, 4, 1]), relative: 1e-6, "trace")
        }
    }

    /// A model holding bfloat16 saves BF16 matrices (exactly what it holds) and
    /// F32 vectors; it loads back equal. An int8 model saves the Floats it stands for.
    @Test func savingNarrowModels() throws {
        let bfloat16 = try GPT(directory: tinyDirectory, weights: .bfloat16, dtype: .float32)
        let directory = try temporaryDirectory()
        try bfloat16.save(directory: directory)
        let file = try SafetensorsFile(url: directory.appendingPathComponent("model.safetensors"))
        #expect(file.tensors["h.0.attn.c_attn.weight"]?.dtype == .bfloat16 && file.tensors["wte.weight"]?.dtype == .bfloat16)
        #expect(file.tensors["wpe.weight"]?.dtype == .float32 && file.tensors["h.0.ln_1.weight"]?.dtype == .float32)
        #expect(try GPT(directory: directory, weights: .bfloat16, dtype: .float32) == bfloat16)
        let int8 = try GPT(directory: tinyDirectory, weights: .int8, dtype: .float32)
        try int8.save(directory: directory)
        let reloaded = try GPT(directory: directory, dtype: .float32)
        #expect(reloaded.wte.matrix == int8.wte.matrix && reloaded.blocks[1].attn.cProj.w.matrix == int8.blocks[1].attn.cProj.w.matrix)
    }
}
