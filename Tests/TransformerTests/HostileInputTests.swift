import Foundation
import SwiftAttention
import TestSupport
import Testing

/// The tiny checkpoint with its config.json and tensors edited, and the
/// message loading it gives (nil if it loaded).
func loadMessage(config edit: (inout [String: Any]) -> Void = { _ in },
                 tensors editTensors: (inout [(name: String, shape: [Int], values: [Double])]) -> Void = { _ in },
                 weights: WeightMatrix.Precision = .both) throws -> String? {
    let tiny = try tinyLoad.get()
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    var config = try JSONSerialization.jsonObject(with: Data(contentsOf: tinyDirectory.appendingPathComponent("config.json"))) as! [String: Any]
    edit(&config)
    try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
    var tensors = try tiny.checkpointTensors()
    editTensors(&tensors)
    try SafetensorsFile.write(tensors, dtype: .float32, to: dir.appendingPathComponent("model.safetensors"))
    do {
        _ = try GPT(directory: dir, weights: weights)
        return nil
    } catch {
        return "\(error)".replacingOccurrences(of: dir.path + "/", with: "")
    }
}

@Suite("Hostile config.json values and files are refused with one line")
struct HostileInputTests {
    let tiny: GPT
    init() throws {
        tiny = try tinyLoad.get()
    }

    @Test func countsOutsideTheirLimits() throws {
        let cases: [(String, Any, String)] = [
            ("n_embd", 1 << 62, "config.json: n_embd: must be an integer in 1…65536, found 4611686018427387904"),
            ("n_layer", 10_000_000, "config.json: n_layer: must be an integer in 1…4096, found 10000000"),
            ("n_layer", Double(1 << 62) * 2, "config.json: n_layer: must be an integer in 1…4096, found 9.223372036854776e+18"),
            ("n_head", 0, "config.json: n_head: must be an integer in 1…4096, found 0"),
            ("n_embd", 1.5, "config.json: n_embd: must be an integer in 1…65536, found 1.5"),
            ("n_embd", 1e300, "config.json: n_embd: must be an integer in 1…65536, found 1e+300"),
            ("n_embd", "64", "config.json: n_embd: must be an integer in 1…65536, found a value that is not a number"),
            ("vocab_size", -97, "config.json: vocab_size: must be an integer in 1…4194304, found -97"),
            ("layer_norm_epsilon", -1e-5, "config.json: config.layer_norm_epsilon: must be in (0, 1], found -1e-05"),
            ("layer_norm_epsilon", "small", "config.json: layer_norm_epsilon: must be a number"),
        ]
        for (key, value, message) in cases {
            #expect(try loadMessage(config: { $0[key] = value }) == message, "\(key) = \(value)")
        }
    }

    /// Missing or null counts are errors, not a silent 1 (the tensors cannot say how many heads there are).
    @Test func requiredCounts() throws {
        for key in ["n_layer", "n_head", "n_embd"] {
            #expect(try loadMessage(config: { $0[key] = nil }) == "config.json: missing field \(key)")
            #expect(try loadMessage(config: { $0[key] = NSNull() }) == "config.json: missing field \(key)")
        }
        #expect(try loadMessage(config: { $0["n_ctx"] = nil; $0["n_positions"] = nil }) == "config.json: missing field n_ctx (or n_positions)")
    }

    /// The config must agree with itself and with the tensors.
    @Test func configAgainstTheTensors() throws {
        #expect(try loadMessage(config: { $0["n_positions"] = 64 }) == "config.json: n_ctx: 32 disagrees with n_positions 64")
        #expect(try loadMessage(config: { $0["n_positions"] = 64; $0["n_ctx"] = nil })
                == "model.safetensors: tensor wpe.weight: expected shape [64, 64], found [32, 64]")
        #expect(try loadMessage(config: { $0["n_layer"] = 1 }) == "model.safetensors: tensor h.1.attn.c_attn.bias: belongs to layer 1, but config.n_layer is 1")
        #expect(try loadMessage(config: { $0["n_layer"] = 3 }) == "model.safetensors: tensor h.2.ln_1.weight: missing")
        #expect(try loadMessage(config: { $0["n_head"] = 3 }) == "config.json: config.n_embd: 64 is not a multiple of n_head 3")
        #expect(try loadMessage(config: { $0["n_inner"] = 128 }) == "model.safetensors: tensor h.0.mlp.c_fc.weight: expected shape [64, 128], found [64, 256]")
        #expect(try loadMessage(config: { $0["n_inner"] = 256 }) == nil)
    }

    @Test func unsupportedVariants() throws {
        #expect(try loadMessage(config: { $0["activation_function"] = "relu" })
                == "config.json: activation_function: \"relu\" is not GPT-2's tanh GELU (gelu_new), the only activation implemented")
        #expect(try loadMessage(config: { $0["activation_function"] = "gelu_pytorch_tanh" }) == nil)
        #expect(try loadMessage(config: { $0["scale_attn_weights"] = false })?.contains("scale_attn_weights: false is not implemented") == true)
        #expect(try loadMessage(config: { $0["scale_attn_by_inverse_layer_idx"] = true })?.contains("scale_attn_by_inverse_layer_idx: true is not implemented") == true)
        let wte = tiny.wte.matrix.elements
        #expect(try loadMessage(tensors: { $0.append((name: "lm_head.weight", shape: [97, 64], values: wte)) }) == nil)
        #expect(try loadMessage(tensors: { $0.append((name: "lm_head.weight", shape: [97, 64], values: wte.map { $0 * 2 })) })
                == "model.safetensors: tensor lm_head.weight: differs from wte.weight: an untied output head is not implemented (GPT-2 ties it to the token embeddings)")
        #expect(try loadMessage(tensors: { $0.append((name: "h.0.attn.rotary", shape: [2], values: [1, 2])) })
                == "model.safetensors: tensor h.0.attn.rotary: is not part of a GPT-2 checkpoint")
    }

    @Test func filesThatAreNotRegularFiles() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: tinyDirectory.appendingPathComponent("config.json"), to: dir.appendingPathComponent("config.json"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("model.safetensors"), withIntermediateDirectories: false)
        #expect(throws: CheckpointError(file: dir.appendingPathComponent("model.safetensors").path, "is a directory, not a file", kind: .unreadable)) {
            try GPT(directory: dir)
        }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("model.safetensors"))
        #expect(mkfifo(dir.appendingPathComponent("model.safetensors").path, 0o600) == 0)
        #expect(throws: CheckpointError(file: dir.appendingPathComponent("model.safetensors").path,
                                        "is not a regular file (a FIFO, socket or device?)", kind: .unreadable)) {
            try GPT(directory: dir)
        }
        #expect(throws: CheckpointError(file: tinyDirectory.appendingPathComponent("config.json").path, "is not a directory", kind: .unreadable)) {
            try GPT(directory: tinyDirectory.appendingPathComponent("config.json"))
        }
    }

    @Test func libraryEntryPointsThrowInsteadOfTrapping() throws {
        var bad = tiny.config
        bad.nEmbd = 1 << 62
        #expect(throws: ModelError.self) { try KVCache(config: bad) }
        #expect(throws: ModelError.self) { try KVCache(config: tiny.config, capacity: 33) }
        #expect(throws: ModelError.self) { try KVCache(config: tiny.config, capacity: 0) }
        #expect(throws: ModelError.self) { try GPT.random(config: bad) }
    }
}
