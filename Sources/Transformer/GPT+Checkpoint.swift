import Foundation
import LinearAlgebra

/// Loading and saving GPT-2 checkpoints in the Hugging Face layout: a directory
/// with `config.json` and `model.safetensors`.
extension GPT {
    /// Loads a Hugging Face GPT-2 directory (`config.json` + `model.safetensors`).
    ///
    /// Tensor names are `wte.weight`, `wpe.weight`, `h.{i}.ln_1.weight`, …,
    /// `ln_f.bias`, with or without a `transformer.` prefix; the causal-mask
    /// buffers (`attn.bias`, `attn.masked_bias`) and `lm_head.weight` (tied to
    /// `wte`) are ignored. Weights of any floating-point dtype become `Double`.
    ///
    /// - Throws: ``CheckpointError`` naming the file and tensor for a missing or
    ///   broken directory, file, tensor or shape.
    public init(directory: URL) throws {
        let (config, file) = try GPT.openCheckpoint(directory)
        try self.init(config: config, safetensors: file)
    }

    /// The config and the validated (not yet read) weights file of a Hugging Face GPT-2 directory.
    static func openCheckpoint(_ directory: URL) throws -> (GPTConfig, SafetensorsFile) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CheckpointError(file: directory.path, "no such model directory")
        }
        let configURL = directory.appendingPathComponent("config.json")
        guard let configData = FileManager.default.contents(atPath: configURL.path) else {
            throw CheckpointError(file: configURL.path, "missing or unreadable")
        }
        let config: GPTConfig
        do {
            config = try JSONDecoder().decode(GPTConfig.self, from: configData)
        } catch let error as DecodingError {
            throw CheckpointError(file: configURL.path, ModelError(error).description)
        } catch {
            throw CheckpointError(file: configURL.path, "\(error)")
        }
        let weightsURL = directory.appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            throw CheckpointError(file: weightsURL.path, "missing")
        }
        return (config, try SafetensorsFile(url: weightsURL))
    }

    /// Builds a model from a validated safetensors file and its config.
    public init(config: GPTConfig, safetensors file: SafetensorsFile) throws {
        try config.validate()
        let (prefix, wanted) = GPT.checkpointLayout(of: file, config: config)
        let eps = config.layerNormEpsilon
        let loaded = try file.matrices(wanted.map { (prefix + $0.name, $0.shape) })
        var byName = Dictionary(uniqueKeysWithValues: zip(wanted.map(\.name), loaded))
        func tensor(_ name: String) -> Matrix { byName.removeValue(forKey: name)! }   // moved out: no copy
        func linear(_ name: String) -> Linear { Linear(w: tensor("\(name).weight"), b: tensor("\(name).bias")) }
        func norm(_ name: String) -> LayerNorm { LayerNorm(g: tensor("\(name).weight"), b: tensor("\(name).bias"), eps: eps) }
        let blocks = (0..<config.nLayer).map { i in
            TransformerBlock(
                attn: CausalSelfAttention(c_attn: linear("h.\(i).attn.c_attn"), c_proj: linear("h.\(i).attn.c_proj"), nHead: config.nHead),
                mlp: MLP(c_fc: linear("h.\(i).mlp.c_fc"), c_proj: linear("h.\(i).mlp.c_proj")),
                ln_1: norm("h.\(i).ln_1"), ln_2: norm("h.\(i).ln_2"))
        }
        try self.init(config: config, wte: tensor("wte.weight"), wpe: tensor("wpe.weight"), blocks: blocks, ln_f: norm("ln_f"))
    }

    /// The tensors a GPT-2 checkpoint of `config`'s shape holds (names without
    /// the prefix, which is returned: `"transformer."` when the file uses it, else
    /// `""`), embeddings first. The MLP's width is read from the file.
    static func checkpointLayout(of file: SafetensorsFile, config: GPTConfig) -> (prefix: String, tensors: [(name: String, shape: [Int])]) {
        let prefix = file.tensors["transformer.wte.weight"] != nil ? "transformer." : ""
        let d = config.nEmbd
        let hidden = file.tensors[prefix + "h.0.mlp.c_fc.weight"]?.shape.last ?? 4 * d
        var wanted: [(name: String, shape: [Int])] = [("wte.weight", [config.nVocab, d]), ("wpe.weight", [config.nCtx, d])]
        for i in 0..<config.nLayer {
            for (suffix, shape) in [("ln_1.weight", [d]), ("ln_1.bias", [d]),
                                    ("attn.c_attn.weight", [d, 3 * d]), ("attn.c_attn.bias", [3 * d]),
                                    ("attn.c_proj.weight", [d, d]), ("attn.c_proj.bias", [d]),
                                    ("ln_2.weight", [d]), ("ln_2.bias", [d]),
                                    ("mlp.c_fc.weight", [d, hidden]), ("mlp.c_fc.bias", [hidden]),
                                    ("mlp.c_proj.weight", [hidden, d]), ("mlp.c_proj.bias", [d])] {
                wanted.append(("h.\(i).\(suffix)", shape))
            }
        }
        return (prefix, wanted + [("ln_f.weight", [d]), ("ln_f.bias", [d])])
    }

    /// The tensors of this model under their Hugging Face names (no prefix).
    /// Requires the full GPT-2 structure (layer norms, MLPs and `ln_f`).
    public func checkpointTensors() throws -> [(name: String, shape: [Int], values: [Double])] {
        func m(_ name: String, _ x: Matrix) -> (name: String, shape: [Int], values: [Double]) {
            (name, x.rows == 1 && (name.hasSuffix(".bias") || name.contains("ln_")) ? [x.cols] : [x.rows, x.cols], x.elements)
        }
        guard let ln_f else { throw ModelError.invalidValue(field: "ln_f", reason: "the GPT-2 checkpoint layout needs a final layer norm") }
        var out = [m("wte.weight", wte), m("wpe.weight", wpe)]
        for (i, b) in blocks.enumerated() {
            guard let ln_1 = b.ln_1, let ln_2 = b.ln_2, let mlp = b.mlp else {
                throw ModelError.invalidValue(field: "blocks[\(i)]", reason: "the GPT-2 checkpoint layout needs ln_1, ln_2 and mlp")
            }
            let h = "h.\(i)"
            out += [m("\(h).ln_1.weight", ln_1.g), m("\(h).ln_1.bias", ln_1.b),
                    m("\(h).attn.c_attn.weight", b.attn.c_attn.w), m("\(h).attn.c_attn.bias", b.attn.c_attn.b),
                    m("\(h).attn.c_proj.weight", b.attn.c_proj.w), m("\(h).attn.c_proj.bias", b.attn.c_proj.b),
                    m("\(h).ln_2.weight", ln_2.g), m("\(h).ln_2.bias", ln_2.b),
                    m("\(h).mlp.c_fc.weight", mlp.c_fc.w), m("\(h).mlp.c_fc.bias", mlp.c_fc.b),
                    m("\(h).mlp.c_proj.weight", mlp.c_proj.w), m("\(h).mlp.c_proj.bias", mlp.c_proj.b)]
        }
        return out + [m("ln_f.weight", ln_f.g), m("ln_f.bias", ln_f.b)]
    }

    /// Saves this model as a Hugging Face GPT-2 directory (`config.json` and
    /// `model.safetensors` in `dtype`, F32 or F64), creating the directory.
    public func save(directory: URL, dtype: SafetensorsDType = .F32) throws {
        let tensors = try checkpointTensors()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config: [String: Any] = [
            "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
            "n_embd": self.config.nEmbd, "n_head": self.config.nHead, "n_layer": self.config.nLayer,
            "n_positions": self.config.nCtx, "n_ctx": self.config.nCtx, "vocab_size": self.config.nVocab,
            "layer_norm_epsilon": self.config.layerNormEpsilon,
        ]
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
            .write(to: directory.appendingPathComponent("config.json"))
        try SafetensorsFile.write(tensors, dtype: dtype, metadata: ["format": "pt"],
                                  to: directory.appendingPathComponent("model.safetensors"))
    }

    /// The number of parameters (embeddings, weights, biases, gains).
    public var parameterCount: Int {
        var n = wte.elements.count + wpe.elements.count + (ln_f.map { $0.g.cols * 2 } ?? 0)
        for b in blocks {
            n += b.attn.c_attn.w.elements.count + b.attn.c_attn.b.cols + b.attn.c_proj.w.elements.count + b.attn.c_proj.b.cols
            n += (b.ln_1.map { $0.g.cols * 2 } ?? 0) + (b.ln_2.map { $0.g.cols * 2 } ?? 0)
            if let mlp = b.mlp {
                n += mlp.c_fc.w.elements.count + mlp.c_fc.b.cols + mlp.c_proj.w.elements.count + mlp.c_proj.b.cols
            }
        }
        return n
    }

    /// A model of the given shape with random weights, GPT-2's initialisation
    /// (normal, standard deviation 0.02; layer norms at gain 1, bias 0),
    /// reproducible from `seed`. Each value is a `Float` (held as `Double`), as
    /// in a real F32 checkpoint. For benchmarks and demos, not for text.
    public static func random(config: GPTConfig, seed: UInt64 = 0) throws -> GPT {
        try config.validate()
        var s = seed
        func normal(_ rows: Int, _ cols: Int) -> Matrix {
            s &+= 0x9E37_79B9
            return Matrix.random(rows: rows, cols: cols, seed: s, distribution: .normal(mean: 0, standardDeviation: 0.02))
                .map { Double(Float($0)) }
        }
        let d = config.nEmbd
        let blocks = (0..<config.nLayer).map { _ in
            TransformerBlock(
                attn: CausalSelfAttention(c_attn: Linear(w: normal(d, 3 * d), b: normal(1, 3 * d)),
                                          c_proj: Linear(w: normal(d, d), b: normal(1, d)), nHead: config.nHead),
                mlp: MLP(c_fc: Linear(w: normal(d, 4 * d), b: normal(1, 4 * d)), c_proj: Linear(w: normal(4 * d, d), b: normal(1, d))),
                ln_1: LayerNorm(width: d, eps: config.layerNormEpsilon), ln_2: LayerNorm(width: d, eps: config.layerNormEpsilon))
        }
        return try GPT(config: config, wte: normal(config.nVocab, d), wpe: normal(config.nCtx, d),
                       blocks: blocks, ln_f: LayerNorm(width: d, eps: config.layerNormEpsilon))
    }
}
