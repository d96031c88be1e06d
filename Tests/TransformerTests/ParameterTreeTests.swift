import Foundation
import SwiftAttention
import TestSupport
import Testing

/// `object` (a JSON model) as a GPT, or the error's message.
func decodeMessage(_ object: [String: Any]) -> String? {
    decodeError(String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self))
}

@Suite("Each parameter declared once: one walk drives JSON, checkpoints, validation and saving")
struct ParameterTreeTests {
    let smallModel: GPT
    let tiny: GPT
    init() throws {
        smallModel = try smallModelLoad.get()
        tiny = try tinyLoad.get()
    }

    /// The tiny model as a JSON object, round-tripped through the encoder.
    func tinyJSON() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(tiny)) as! [String: Any]
    }

    /// An MLP wider than the config's n_inner is refused when decoded, naming the
    /// field (it used to validate and then stop the process when saved).
    @Test func mlpWidthMustMatchTheConfig() throws {
        var model = try tinyJSON()
        var config = model["config"] as! [String: Any]
        config["n_inner"] = 128
        model["config"] = config
        #expect(decodeMessage(model) == "blocks[0].mlp.c_fc.w: expected shape [64, 128], found [64, 256]")
        config["n_inner"] = 256
        model["config"] = config
        #expect(decodeMessage(model) == nil)
    }

    @Test func jsonRoundTripOfEveryOperation() throws {
        #expect(try GPT(json: JSONEncoder().encode(tiny)) == tiny)
        let block = tiny.blocks[1]
        #expect(try JSONDecoder().decode(TransformerBlock.self, from: JSONEncoder().encode(block)) == block)
        #expect(try JSONDecoder().decode(FeedForward.self, from: JSONEncoder().encode(block.mlp!)) == block.mlp!)
        #expect(try JSONDecoder().decode(CausalSelfAttention.self, from: JSONEncoder().encode(block.attn)).nHead == 4)
    }

    /// An operation on its own binds each dimension from the first tensor that uses it.
    @Test func operationsCheckTheirShapesWhenBuilt() {
        #expect(throws: ModelError.shapeMismatch(field: "b", expected: "[3]", found: "[2]")) {
            try Linear(w: .zeros(rows: 2, cols: 3), b: .zeros(rows: 1, cols: 2))
        }
        #expect(throws: ModelError.shapeMismatch(field: "c_attn.w", expected: "[4, 12]", found: "[4, 11]")) {
            try CausalSelfAttention(cAttn: Linear(w: .zeros(rows: 4, cols: 11), b: .zeros(rows: 1, cols: 11)),
                                    cProj: Linear(w: .zeros(rows: 4, cols: 4), b: .zeros(rows: 1, cols: 4)))
        }
        #expect(throws: ModelError.invalidValue(field: "n_head", reason: "width 4 is not a positive multiple of n_head 3")) {
            try CausalSelfAttention(cAttn: Linear(w: .zeros(rows: 4, cols: 12), b: .zeros(rows: 1, cols: 12)),
                                    cProj: Linear(w: .zeros(rows: 4, cols: 4), b: .zeros(rows: 1, cols: 4)), nHead: 3)
        }
        #expect(throws: ModelError.shapeMismatch(field: "c_proj.w", expected: "[8, 4]", found: "[4, 4]")) {
            try MLP(cFc: Linear(w: .zeros(rows: 4, cols: 8), b: .zeros(rows: 1, cols: 8)),
                    cProj: Linear(w: .zeros(rows: 4, cols: 4), b: .zeros(rows: 1, cols: 4)))
        }
        #expect(throws: ModelError.invalidValue(field: "eps", reason: "must be in (0, 1], found 0.0")) { try LayerNorm(width: 4, eps: 0) }
        #expect(throws: ModelError.shapeMismatch(field: "attn.c_attn.w", expected: "[8, 24]", found: "[64, 192]")) {   // ln_1 came first
            try TransformerBlock(attn: tiny.blocks[0].attn, ln1: .layerNorm(LayerNorm(width: 8)))
        }
        #expect(throws: ModelError.invalidValue(field: "blocks[0].attn.n_head", reason: "the config gives 4, found 1")) {
            let attn = tiny.blocks[0].attn
            try GPT(config: tiny.config, wte: tiny.wte, wpe: tiny.wpe,
                    blocks: [try TransformerBlock(attn: CausalSelfAttention(cAttn: attn.cAttn!, cProj: attn.cProj)), tiny.blocks[1]])
        }
    }

    /// Saving in F16 or BF16 writes (it used to stop the process); other dtypes throw.
    @Test func saveInEveryFloatingPointType() throws {
        for dtype in [SafetensorsDType.float16, .bfloat16, .float32, .float64] {
            let dir = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            try tiny.save(directory: dir, dtype: dtype)
            let loaded = try GPT(directory: dir, weights: .float64)
            let tolerance: Double = [SafetensorsDType.float16: 1e-3, .bfloat16: 1e-2][dtype] ?? 0
            expectClose(loaded.wte.matrix, tiny.wte.matrix, relative: tolerance, "\(dtype)")
        }
        #expect(BFloat16.bits(1.00390625) == 0x3F80)          // a tie rounds to even
        #expect(BFloat16.bits(1.01171875) == 0x3F82)
        #expect(throws: CheckpointError.self) { try tiny.save(directory: temporaryDirectory(), dtype: .int8) }
    }

    /// A cache made for another model is an error, not a stop (and leaves the cache as it was).
    @Test func cacheFromAnotherModel() throws {
        let cache = try KVCache(config: smallModel.config)
        var logits = Matrix.zeros(rows: 1, cols: 1)
        #expect(throws: ModelError.invalidValue(field: "cache", reason: "made for 2 layers of 2 key/value heads of width 8, the model has 2 layers of 4 key/value heads of width 16")) {
            try tiny.forward([1, 2], cache: cache, logits: &logits)
        }
        #expect(cache.count == 0)
    }

    /// The operations run on Float matrices with the same code.
    @Test func operationsAreGenericOverTheScalar() throws {
        let x = Matrix.random(rows: 5, cols: 64, seed: 3)
        let block = tiny.blocks[0]
        let ops: [any OperationModel] = [block.ln1!, block.attn, block.mlp!, block, block.attn.cAttn!, GELU(), Softmax()]
        for op in ops {
            expectClose(Matrix(op(FloatMatrix(x))), op(x), relative: 1e-4, "\(type(of: op))")
        }
    }

    /// The listing, loading and saving agree on every name and shape.
    @Test func checkpointNamesComeFromTheDeclarations() throws {
        let saved = try tiny.checkpointTensors()
        #expect(saved.map(\.name) == tiny.parameters.map(\.name))
        #expect(saved.map(\.shape) == tiny.parameters.map(\.shape))
        #expect(throws: ModelError.invalidValue(field: "blocks[0].ln_1.g", reason: "missing: a Hugging Face checkpoint has every part of its model")) {
            try GPT.handmade.save(directory: temporaryDirectory())
        }
    }
}
