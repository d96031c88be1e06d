import Foundation
import SwiftAttention
import TestSupport
import Testing

/// The Llama-family fixtures (`scripts/make_llama_fixtures.py`): random-init
/// `LlamaForCausalLM` and `Qwen2ForCausalLM` checkpoints from `transformers`,
/// with logits from a float64 NumPy reference that equals `transformers` to
/// about 1e-15 once its float32 upcasts are patched out.
let llamaFixtures = ["llama-gqa", "qwen2-bias", "llama-bias"]

/// A fixture's reference: token ids, their logits, and a greedy continuation.
struct LlamaReference: Decodable {
    let tokens: [Int], logits: [[Double]], prompt: [Int], greedy: [Int]
    let transformers_patched_relative_difference: Double

    init(_ name: String) throws {
        self = try JSONDecoder().decode(LlamaReference.self, from: Data(contentsOf: fixturesDirectory.appendingPathComponent("\(name)/reference.json")))
    }

    var matrix: Matrix { Matrix(rows: logits.count, cols: logits[0].count, elements: logits.flatMap { $0 }) }
}

func llamaDirectory(_ name: String) -> URL { fixturesDirectory.appendingPathComponent(name) }

@Suite("The Llama family: Llama, Qwen2 and Mistral checkpoints run through the same operations as GPT-2")
struct LlamaFamilyTests {
    /// The configs in both forms found in the wild, read as they say.
    @Test func configsInBothForms() throws {
        let gqa = try GPTConfig(file: llamaDirectory("llama-gqa").appendingPathComponent("config.json"))   // rope_theta + rope_scaling
        #expect(gqa.modelType == .llama && gqa.nHead == 4 && gqa.keyValueHeads == 2 && gqa.headSize == 16 && !gqa.tiedHead)
        #expect(gqa.ropeTheta == 500_000 && gqa.ropeScaling == GPTConfig.RopeScaling(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 64))
        #expect(gqa.nCtx == 128 && gqa.nVocab == 96 && gqa.hiddenSize == 96 && gqa.layerNormEpsilon == 1e-5)
        let qwen = try GPTConfig(file: llamaDirectory("qwen2-bias").appendingPathComponent("config.json"))  // rope_parameters
        #expect(qwen.modelType == .qwen2 && qwen.keyValueHeads == 1 && qwen.ropeTheta == 10_000 && qwen.ropeScaling == nil && qwen.tiedHead)
        let bias = try GPTConfig(file: llamaDirectory("llama-bias").appendingPathComponent("config.json"))
        #expect(bias.headSize == 12 && bias.nEmbd == 32 && bias.attentionBias && bias.mlpBias)
    }

    /// Logits equal the float64 reference to 1e-9 of the largest logit in
    /// float64 (every storage, both backends) and to 1e-4 in float32.
    @Test(arguments: llamaFixtures)
    func logitsMatchTheReference(name: String) throws {
        let reference = try LlamaReference(name)
        #expect(reference.transformers_patched_relative_difference < 1e-13)
        for weights in wideStorages {
            let model = try GPT(directory: llamaDirectory(name), weights: weights)
            for backend in Backend.allCases {
                expectClose(try model(reference.tokens, backend: backend), reference.matrix, relative: 1e-9, "\(name) \(weights) \(backend)")
            }
        }
        let float32 = try GPT(directory: llamaDirectory(name), dtype: .float32)
        for backend in Backend.allCases {
            expectClose(try float32(reference.tokens, backend: backend), reference.matrix, relative: 1e-4, "\(name) float32 \(backend)")
        }
    }

    /// Greedy decoding (prefill, then one token at a time from the cache)
    /// picks the reference's tokens, and cached logits equal a full recompute.
    @Test(arguments: llamaFixtures)
    func cachedDecodingEqualsRecompute(name: String) throws {
        let reference = try LlamaReference(name), model = try GPT(directory: llamaDirectory(name))
        #expect(try model.generate(reference.prompt, maxNewTokens: reference.greedy.count).newTokens == reference.greedy)
        let cache = try KVCache(config: model.config)
        var logits = Matrix.zeros(rows: 1, cols: 1), rows: [Double] = []
        try model.forward(Array(reference.tokens.prefix(7)), cache: cache, logits: &logits, allPositions: true)
        rows += logits.elements
        for token in reference.tokens.dropFirst(7) {
            try model.forward([token], cache: cache, logits: &logits)
            rows += logits.elements
        }
        expectClose(Matrix(rows: reference.tokens.count, cols: model.config.nVocab, elements: rows), try model(reference.tokens),
                    relative: 1e-12, "\(name) cached")
    }

    /// The trace's attention patterns are causal and normalised, one per query head.
    @Test func tracePatternsAreCausalAndNormalised() throws {
        let model = try GPT(directory: llamaDirectory("llama-gqa")), tokens = try LlamaReference("llama-gqa").tokens
        let trace = try model.trace(tokens)
        #expect(trace.attention.count == 2 && trace.attention.allSatisfy { $0.count == 4 })
        for head in trace.attention.joined() {
            for i in 0..<tokens.count {
                let row = (0..<tokens.count).map { head.weights[i, $0] }
                #expect(abs(row.reduce(0, +) - 1) < 1e-12 && row[(i + 1)...].allSatisfy { $0 == 0 })
            }
        }
        expectClose(trace.logits, try model(tokens), relative: 1e-12, "trace logits")
    }

    /// A model saves as its family's checkpoint and loads back equal; in JSON too.
    @Test func saveAndJSONRoundTrips() throws {
        let model = try GPT(directory: llamaDirectory("llama-gqa"), weights: .float64)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try model.save(directory: directory)
        #expect(try GPT(directory: directory, weights: .float64) == model)
        #expect(try GPT(json: JSONEncoder().encode(model)) == model)
        for name in ["llama-bias", "qwen2-bias"] {
            let other = try GPT(directory: llamaDirectory(name), weights: .float64)
            #expect(try GPT(json: JSONEncoder().encode(other)) == other, "\(name)")
        }
        let random = try GPT.random(config: GPTConfig(llama: 32, nVocab: 50, nEmbd: 24, nHead: 6, nKVHead: 2, nLayer: 2, nInner: 40,
                                                      modelType: .qwen2), seed: 9)
        try random.save(directory: directory, dtype: .bfloat16)
        let bf16 = try GPT(directory: directory, weights: .float64)
        expectClose(try bf16([1, 2, 3]), try random([1, 2, 3]), relative: 0.05, "bf16 round trip")
    }

    /// The new operations run the same code on `Float` and `Double` matrices.
    @Test func operationsAreGenericOverTheScalar() throws {
        let block = try GPT(directory: llamaDirectory("qwen2-bias"), weights: .float64).blocks[0]
        let x = Matrix.random(rows: 5, cols: 32, seed: 4)
        let ops: [any OperationModel] = [block.ln1!, block.attn, block.mlp!, block, block.attn.qProj!, try RotaryEmbedding(theta: 100)]
        for op in ops {
            expectClose(Matrix(op(FloatMatrix(x))), op(x), relative: 1e-4, "\(type(of: op))")
        }
    }

    /// RMS norm and the rotary embedding on their own, against their formulas.
    @Test func normAndRotaryByHand() throws {
        let norm = try RMSNorm(g: Matrix(row: [1, 2, 3, 4]), eps: 1e-6)
        let x = Matrix(row: [1, -2, 3, -4]), scale = 1 / ((1 + 4 + 9 + 16) / 4 + 1e-6).squareRoot()
        expectClose(norm(x), Matrix(row: [1 * scale, -4 * scale, 9 * scale, -16 * scale]), relative: 1e-15, "RMSNorm")
        let rope = try RotaryEmbedding(theta: 100)
        let y = rope(Matrix(rows: 2, cols: 4, elements: [1, 2, 3, 4, 1, 2, 3, 4]))   // position 0 unchanged; position 1 rotated
        let (f0, f1) = (1.0, 1 / 10.0)                                                  // 100^(-0/4), 100^(-2/4)
        expectClose(y, Matrix(rows: 2, cols: 4, elements: [1, 2, 3, 4, 1 * cos(f0) - 3 * sin(f0), 2 * cos(f1) - 4 * sin(f1),
                                                           3 * cos(f0) + 1 * sin(f0), 4 * cos(f1) + 2 * sin(f1)]), relative: 1e-15, "RoPE")
    }
}

/// The message of loading a copy of Llama-family fixture `name` with its
/// `config.json` edited and files changed by `files` (nil when it loads).
func llamaLoadMessage(_ name: String = "llama-gqa", config edit: (inout [String: Any]) -> Void = { _ in },
                      files: (URL) throws -> Void = { _ in }) throws -> String? {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    for file in try FileManager.default.contentsOfDirectory(atPath: llamaDirectory(name).path) {
        try FileManager.default.copyItem(at: llamaDirectory(name).appendingPathComponent(file), to: dir.appendingPathComponent(file))
    }
    var config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as! [String: Any]
    edit(&config)
    try FileManager.default.removeItem(at: dir.appendingPathComponent("config.json"))
    try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
    try files(dir)
    do {
        _ = try GPT(directory: dir)
        return nil
    } catch {
        return "\(error)".replacingOccurrences(of: dir.path + "/", with: "")
    }
}

/// Rewrites `model.safetensors` in `dir` with `edit` applied to its tensors.
func editTensors(_ dir: URL, _ edit: (inout [(name: String, shape: [Int], values: [Double])]) -> Void) throws {
    let file = try SafetensorsFile(url: dir.appendingPathComponent("model.safetensors"))
    var tensors = try file.tensors.keys.sorted().map { name in (name: name, shape: file.tensors[name]!.shape, values: try file.doubles(name)) }
    edit(&tensors)
    try SafetensorsFile.write(tensors, dtype: .float32, to: dir.appendingPathComponent("model.safetensors"))
}

@Suite("Llama-family checkpoints are loaded as strictly as GPT-2's")
struct LlamaRefusalTests {
    @Test func configVariantsThatAreNotImplemented() throws {
        let cases: [((inout [String: Any]) -> Void, String)] = [
            ({ $0["model_type"] = "gemma" }, "config.json: model_type: \"gemma\" is not a model type this library runs (gpt2, llama, qwen2, mistral)"),
            ({ $0["hidden_act"] = "gelu" }, "config.json: hidden_act: \"gelu\" is not implemented (the Llama family's MLP gates with silu)"),
            ({ $0["rope_scaling"] = ["rope_type": "yarn", "factor": 4] }, "config.json: rope_scaling.rope_type: \"yarn\" is not implemented (default and llama3 are)"),
            ({ $0["rope_scaling"] = nil; $0["rope_parameters"] = ["rope_type": "dynamic", "rope_theta": 10_000] },
             "config.json: rope_parameters.rope_type: \"dynamic\" is not implemented (default and llama3 are)"),
            ({ $0["model_type"] = "mistral"; $0["sliding_window"] = 16 }, "config.json: sliding_window: 16 is below the context 128: windowed attention is not implemented"),
            ({ $0["use_sliding_window"] = true }, "config.json: use_sliding_window: true is not implemented (attention sees every earlier position)"),
            ({ $0["layer_types"] = ["full_attention", "sliding_attention"] }, "config.json: layer_types: \"sliding_attention\" is not implemented (every layer must be full_attention)"),
            ({ $0["num_key_value_heads"] = 3 }, "config.json: config.n_kv_head: n_head 4 is not a multiple of 3"),
            ({ $0["hidden_size"] = nil }, "config.json: missing field hidden_size (or n_embd)"),
            ({ $0["tie_word_embeddings"] = "yes" }, "config.json: tie_word_embeddings: must be true or false"),
        ]
        for (edit, message) in cases { #expect(try llamaLoadMessage(config: edit) == message) }
        #expect(try llamaLoadMessage(config: { $0["model_type"] = "mistral"; $0["sliding_window"] = 4096 }) == nil)   // out of reach
    }

    @Test func tensorsTheConfigDoesNotHave() throws {
        #expect(try llamaLoadMessage(files: { try editTensors($0) { $0.removeAll { $0.name == "model.layers.1.self_attn.q_proj.weight" } } })
                == "model.safetensors: tensor model.layers.1.self_attn.q_proj.weight: missing")
        #expect(try llamaLoadMessage(files: { try editTensors($0) { $0.append(("model.layers.0.self_attn.q_proj.bias", [64], Array(repeating: 0, count: 64))) } })
                == "model.safetensors: tensor model.layers.0.self_attn.q_proj.bias: is not part of a Llama-family checkpoint")
        #expect(try llamaLoadMessage(config: { $0["num_hidden_layers"] = 1 })
                == "model.safetensors: tensor model.layers.1.input_layernorm.weight: belongs to layer 1, but config.num_hidden_layers is 1")
        #expect(try llamaLoadMessage(config: { $0["tie_word_embeddings"] = true })
                == "model.safetensors: tensor lm_head.weight: differs from model.embed_tokens.weight, but the config ties them (tie_word_embeddings)")
        #expect(try llamaLoadMessage(config: { $0["num_key_value_heads"] = 4 })
                == "model.safetensors: tensor model.layers.0.self_attn.k_proj.weight: expected shape [64, 64], found [32, 64]")
        #expect(try llamaLoadMessage(files: { try editTensors($0) { $0.append(("model.layers.0.self_attn.rotary_emb.inv_freq", [8], Array(repeating: 1, count: 8))) } }) == nil)
    }

    /// A sharded checkpoint's missing shard is a missing file (exit 66); a broken index is named.
    @Test func shards() throws {
        let missing = try llamaLoadMessage("qwen2-bias", files: { try FileManager.default.removeItem(at: $0.appendingPathComponent("model-00002-of-00003.safetensors")) })
        #expect(missing == "model-00002-of-00003.safetensors: missing")
        let traversal = try llamaLoadMessage("qwen2-bias", files: { dir in
            let index = dir.appendingPathComponent("model.safetensors.index.json")
            try Data(#"{"weight_map": {"model.norm.weight": "../model.safetensors"}}"#.utf8).write(to: index)
        })
        #expect(traversal == "model.safetensors.index.json: tensor model.norm.weight: must name a file in the model directory, found ../model.safetensors")
    }
}
