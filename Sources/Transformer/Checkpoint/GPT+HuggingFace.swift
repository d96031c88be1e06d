import Foundation
import LinearAlgebra

/// Loading and saving GPT-2 checkpoints in the Hugging Face layout: a directory
/// with `config.json` and `model.safetensors`. Tensor names and shapes come from
/// the operations' one declaration of their parameters (see `ParameterModule`).
extension GPT {

    /// Loads a Hugging Face GPT-2 directory (`config.json` + `model.safetensors`),
    /// keeping weight matrices in `weights` (see ``storingWeights(_:)``; an F32,
    /// F16 or BF16 checkpoint is read straight into `Float` where that is asked for).
    ///
    /// Tensor names are `wte.weight`, `wpe.weight`, `h.{i}.ln_1.weight`, …,
    /// `ln_f.bias`, with or without a `transformer.` prefix. Hugging Face's
    /// causal-mask buffers (`h.{i}.attn.bias`, `h.{i}.attn.masked_bias`) are
    /// skipped, and an `lm_head.weight` must equal `wte.weight` (GPT-2 ties them).
    /// Any other tensor, a layer the config does not have, or a config key asking
    /// for a GPT-2 variant this library does not implement, is an error.
    ///
    /// With `dtype` ``DType/float32`` the model computes in `Float` and its
    /// weights are read as `Float`s only (`weights` is then ignored).
    ///
    /// - Throws: ``CheckpointError`` naming the file (and tensor) for a missing or
    ///   broken directory, file, tensor or shape.
    public init(directory: URL, weights: WeightMatrix.Precision = .both, dtype: DType = .float64) throws {
        try checkModelDirectory(directory)
        let config = try GPTConfig(file: directory.appendingPathComponent("config.json"))
        try self.init(config: config, safetensors: SafetensorsFile(url: directory.appendingPathComponent("model.safetensors")),
                      weights: weights, dtype: dtype)
    }

    /// Builds a model of `config`'s shape from a validated safetensors file,
    /// keeping weight matrices in `weights`. Every tensor is checked against the
    /// config before any is read. `dtype` as for ``init(directory:weights:dtype:)``.
    ///
    /// - Throws: ``CheckpointError`` naming the tensor for a missing, misshapen,
    ///   unexpected or unreadable one; ``ModelError`` for an invalid config.
    package init(config: GPTConfig, safetensors file: SafetensorsFile, weights: WeightMatrix.Precision = .both,
                dtype: DType = .float64) throws {
        try config.validate()
        let weights = dtype == .float32 ? .float32 : weights
        let prefix = file.tensors["transformer.wte.weight"] != nil ? "transformer." : ""
        var model = GPT.blank, sites: [ParameterWalk.Site] = []
        try model.walk(.build, config: config) { site, _ in sites.append(site) } vector: { site, _ in sites.append(site) }
        try GPT.checkTensorNames(file, prefix: prefix, names: sites.map(\.name), layers: config.nLayer)
        // All checked before any is read. A Linear keeps its Floats transposed (see Linear.w): they are read in that layout.
        let requests = sites.map { (name: prefix + $0.name, shape: $0.shape) }
        var loaded = try file.read(requests) { i in
            let site = sites[i], name = requests[i].name
            if site.shape.count == 1 { return WeightMatrix(try file.matrix(name)) }
            return try file.weightMatrix(name, shape: site.shape, precision: site.embedding ? GPT.embeddingPrecision(weights) : weights,
                                         floatsTransposed: !site.embedding)
        }[...]
        try model.walk(.read) { _, w in w = loaded.removeFirst() } vector: { _, v in v = loaded.removeFirst().matrix }
        for head in ["lm_head.weight", prefix + "lm_head.weight"] where file.tensors[head] != nil {
            guard try file.sameValues(head, prefix + "wte.weight") else {
                throw CheckpointError(file: file.name, tensor: head, "differs from \(prefix)wte.weight: an untied output head is not implemented (GPT-2 ties it to the token embeddings)")
            }
        }
        try model.validate()
        self = model.converted(to: dtype)
    }

    /// Refuses a file holding tensors other than `names` (besides GPT-2's tied
    /// `lm_head.weight` and Hugging Face's mask buffers): layers past `n_layer`,
    /// or names that are not GPT-2's (so that a config that under-counts the
    /// layers cannot load a different model).
    private static func checkTensorNames(_ file: SafetensorsFile, prefix: String, names: [String], layers: Int) throws {
        let expected = Set(names.map { prefix + $0 } + ["lm_head.weight", prefix + "lm_head.weight"])
        for name in file.tensors.keys.sorted() where !expected.contains(name) {
            let parts = name.dropFirst(prefix.count).split(separator: ".", maxSplits: 2).map(String.init)
            let layer = name.hasPrefix(prefix) && parts.count == 3 && parts[0] == "h" ? Int(parts[1]) : nil
            if let layer, layer >= layers {
                throw CheckpointError(file: file.name, tensor: name, "belongs to layer \(layer), but config.n_layer is \(layers)")
            }
            guard layer != nil, ["attn.bias", "attn.masked_bias"].contains(parts[2]) else {      // else a mask buffer
                throw CheckpointError(file: file.name, tensor: name, "is not part of a GPT-2 checkpoint")
            }
        }
    }

    /// The tensors of this model under their Hugging Face names (no prefix).
    ///
    /// - Throws: ``ModelError`` naming the part when the model lacks one of
    ///   GPT-2's (layer norms, MLPs, `ln_f`).
    package func checkpointTensors() throws -> [(name: String, shape: [Int], values: [Double])] {
        var tensors: [(name: String, shape: [Int], values: [Double])] = [], copy = self
        try copy.walk(.export) { site, w in tensors.append((site.name, [w.rows, w.cols], w.matrix.elements)) }
                        vector: { site, v in tensors.append((site.name, [v.cols], v.elements)) }
        return tensors
    }

    /// Saves this model as a Hugging Face GPT-2 directory (`config.json` and
    /// `model.safetensors` in `dtype`, F32 or F64), creating the directory.
    ///
    /// - Throws: ``ModelError`` when the model lacks part of GPT-2's structure;
    ///   ``CheckpointError`` (`.unreadable`) when a file cannot be written.
    public func save(directory: URL, dtype: SafetensorsDType = .float32) throws {
        let tensors = try checkpointTensors()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try JSONSerialization.data(withJSONObject: config.huggingFaceKeys, options: [.prettyPrinted, .sortedKeys])
                .write(to: directory.appendingPathComponent("config.json"))
            try SafetensorsFile.write(tensors, dtype: dtype, metadata: ["format": "pt"],
                                      to: directory.appendingPathComponent("model.safetensors"))
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError(file: directory.path, "cannot write: \((error as NSError).localizedDescription)", kind: .unreadable)
        }
    }
}
