import Foundation
import LinearAlgebra

/// Loading and saving checkpoints in the Hugging Face layout: a directory with
/// `config.json` and `model.safetensors` (or shards listed in
/// `model.safetensors.index.json`). Tensor names and shapes come from the
/// operations' one declaration of their parameters (see `ParameterModule`).
extension GPT {

    /// Loads a Hugging Face directory of a GPT-2 or a Llama-family model
    /// (`config.json`, and `model.safetensors` or the shards of
    /// `model.safetensors.index.json`), keeping weight matrices in `weights`
    /// (see ``storingWeights(_:)``; an F32, F16 or BF16 checkpoint is read
    /// straight into `Float` where that is asked for).
    ///
    /// GPT-2's tensors are `wte.weight`, `wpe.weight`, `h.{i}.ln_1.weight`, …,
    /// `ln_f.bias`, with or without a `transformer.` prefix; its causal-mask
    /// buffers (`h.{i}.attn.bias`, `h.{i}.attn.masked_bias`) are skipped, and an
    /// `lm_head.weight` must equal `wte.weight`. The Llama family's are
    /// `model.embed_tokens.weight`, `model.layers.{i}.self_attn.q_proj.weight`, …,
    /// `model.norm.weight`, and `lm_head.weight` unless `tie_word_embeddings`
    /// (then an `lm_head.weight` present must equal the embeddings); old
    /// checkpoints' `rotary_emb.inv_freq` buffers are skipped. Any other
    /// tensor, a layer the config does not have, or a config key asking for a
    /// variant this library does not implement, is an error.
    ///
    /// With `dtype` ``DType/float32`` the model computes in `Float` and its
    /// weights are read as `Float`s, or, with `weights` `.bfloat16` or `.int8`,
    /// narrowed one tensor at a time as they are read (the loader never holds
    /// a `Float` copy of the model; see ``storingWeights(_:)`` for what stays
    /// wider). Other `weights` are ignored in `Float`.
    ///
    /// - Throws: ``CheckpointError`` naming the file (and tensor) for a missing or
    ///   broken directory, file, tensor or shape; ``ModelError`` for narrow
    ///   `weights` with `dtype` ``DType/float64``.
    public init(directory: URL, weights: WeightMatrix.Precision = .both, dtype: DType = .float64) throws {
        try checkModelDirectory(directory)
        let config = try GPTConfig(file: directory.appendingPathComponent("config.json"))
        try self.init(config: config, checkpoint: CheckpointFiles(directory: directory), weights: weights, dtype: dtype)
    }

    /// Builds a model of `config`'s shape from one validated safetensors file
    /// (see ``init(config:checkpoint:weights:dtype:)``).
    package init(config: GPTConfig, safetensors file: SafetensorsFile, weights: WeightMatrix.Precision = .both,
                 dtype: DType = .float64) throws {
        try self.init(config: config, checkpoint: CheckpointFiles(file), weights: weights, dtype: dtype)
    }

    /// Builds a model of `config`'s shape from validated safetensors files,
    /// keeping weight matrices in `weights`. Every tensor is checked against the
    /// config before any is read. `dtype` as for ``init(directory:weights:dtype:)``.
    ///
    /// - Throws: ``CheckpointError`` naming the tensor for a missing, misshapen,
    ///   unexpected or unreadable one; ``ModelError`` for an invalid config.
    package init(config: GPTConfig, checkpoint files: CheckpointFiles, weights: WeightMatrix.Precision = .both,
                 dtype: DType = .float64) throws {
        try config.validate()
        if weights.isNarrow && dtype != .float32 {
            throw ModelError.invalidValue(field: "weights", reason: "\(weights.rawValue) weights are for a model computing in float32, not \(dtype.rawValue)")
        }
        let weights = dtype == .float32 && !weights.isNarrow ? .float32 : weights, llama = config.modelType.isLlamaFamily
        let prefix = !llama && files.file("transformer.wte.weight") != nil ? "transformer." : ""
        let skeleton = try GPT.skeleton(config), sites = skeleton.sites
        var model = skeleton.model
        let tiedHead = llama ? "lm_head.weight" : prefix + "lm_head.weight", embeddings = prefix + sites[0].name
        try GPT.checkTensorNames(files, expected: Set(sites.map { prefix + $0.name } + (config.tiedHead ? [tiedHead, "lm_head.weight"] : [])),
                                 layers: llama ? "model.layers." : prefix + "h.", count: config.nLayer, llama: llama)
        // All checked before any is read. A Linear keeps its Floats transposed (see Linear.w): they are read in that
        // layout; the Llama family's checkpoints store a projection as [out, in], which is that layout already.
        let requests = sites.map { site in (name: prefix + site.name, shape: config.storesTransposed(site) ? site.shape.reversed() : site.shape) }
        // Narrow storages are read one tensor at a time, each narrowed on all threads: one chunk
        // of one tensor in flight, as little held beside the narrow weights as can be.
        var loaded = try files.read(requests, concurrently: !weights.isNarrow) { i, file in
            let site = sites[i], name = requests[i].name
            if site.shape.count == 1 { return WeightMatrix(try file.matrix(name)) }
            return try file.weightMatrix(name, shape: site.shape, precision: GPT.precision(weights, for: site),
                                         floatsTransposed: !site.embedding, fileTransposed: config.storesTransposed(site))
        }[...]
        try model.walk(.read) { _, w in w = loaded.removeFirst() } vector: { _, v in v = loaded.removeFirst().matrix }
        for head in Set([tiedHead, "lm_head.weight"]) where config.tiedHead {
            guard let file = files.file(head) else { continue }
            guard let source = files.file(embeddings), try file.name == source.name ? file.sameValues(head, embeddings)
                    : file.matrix(head) == source.matrix(embeddings) else {
                throw CheckpointError(file: file.name, tensor: head, llama ? "differs from \(embeddings), but the config ties them (tie_word_embeddings)"
                                      : "differs from \(embeddings): an untied output head is not implemented (GPT-2 ties it to the token embeddings)")
            }
        }
        try model.validate()
        self = model.converted(to: dtype)
    }

    /// The model `config` implies, its parts blank, and every tensor it
    /// declares, in the walk's order: what a checkpoint of it holds.
    private static func skeleton(_ config: GPTConfig) throws -> (model: GPT, sites: [ParameterWalk.Site]) {
        var model = GPT.blank(config), sites: [ParameterWalk.Site] = []
        try model.walk(.build, config: config) { site, _ in sites.append(site) } vector: { site, _ in sites.append(site) }
        return (model, sites)
    }

    /// Refuses a checkpoint holding tensors other than `expected` (besides
    /// GPT-2's mask buffers and old Llama checkpoints' rotary frequencies):
    /// layers past `count`, or names that are not the family's (so that a config
    /// that under-counts the layers cannot load a different model).
    private static func checkTensorNames(_ files: CheckpointFiles, expected: Set<String>, layers: String, count: Int, llama: Bool) throws {
        let buffers: Set<String> = llama ? ["self_attn.rotary_emb.inv_freq"] : ["attn.bias", "attn.masked_bias"]
        for name in files.names.sorted() where !expected.contains(name) {
            let parts = name.hasPrefix(layers) ? name.dropFirst(layers.count).split(separator: ".", maxSplits: 1).map(String.init) : []
            let layer = parts.count == 2 ? Int(parts[0]) : nil
            if let layer, layer >= count {
                throw CheckpointError(file: files.file(name)!.name, tensor: name, "belongs to layer \(layer), but config.\(llama ? "num_hidden_layers" : "n_layer") is \(count)")
            }
            guard layer != nil, buffers.contains(parts[1]) else {
                throw CheckpointError(file: files.file(name)!.name, tensor: name, "is not part of a \(llama ? "Llama-family" : "GPT-2") checkpoint")
            }
        }
    }

    /// The tensors of this model under their Hugging Face names (no prefix),
    /// each in its family's layout (a Llama-family projection as `[out, in]`).
    ///
    /// - Throws: ``ModelError`` naming the part when the model lacks one of its
    ///   family's (norms, MLPs, the final norm).
    package func checkpointTensors() throws -> [(name: String, shape: [Int], values: [Double])] {
        var tensors: [(name: String, shape: [Int], values: [Double])] = [], copy = self
        try copy.walk(.read) { site, w in
            let m = config.storesTransposed(site) ? w.matrix.transposed() : w.matrix
            tensors.append((site.name, [m.rows, m.cols], m.elements))
        } vector: { site, v in tensors.append((site.name, [v.cols], v.elements)) }
        let names = Set(tensors.map(\.name))
        if let part = try GPT.skeleton(config).sites.first(where: { !names.contains($0.name) }) {
            throw ModelError.invalidValue(field: part.field, reason: "missing: a Hugging Face checkpoint has every part of its model")
        }
        return tensors
    }

    /// Saves this model as a Hugging Face directory of its family
    /// (`config.json` and `model.safetensors` in `dtype`: F64, F32, F16 or
    /// BF16), creating the directory. Without a `dtype`, matrices held as
    /// bfloat16 are written as BF16 (exactly) and every other tensor as F32;
    /// int8 matrices are written as the `Float`s they stand for (int8 is
    /// chosen when loading, ``init(directory:weights:dtype:)``).
    ///
    /// - Throws: ``ModelError`` when the model lacks part of its family's
    ///   structure; ``CheckpointError`` for a `dtype` that is not floating-point,
    ///   or (`.unreadable`) when a file cannot be written.
    public func save(directory: URL, dtype: SafetensorsDType? = nil) throws {
        let tensors = try checkpointTensors()
        let bfloat16 = parameters.filter { $0.storage == .bfloat16 }.map { ($0.name, SafetensorsDType.bfloat16) }
        let dtypes = dtype == nil ? Dictionary(uniqueKeysWithValues: bfloat16) : [:]
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try JSONSerialization.data(withJSONObject: config.huggingFaceKeys(), options: [.prettyPrinted, .sortedKeys])
                .write(to: directory.appendingPathComponent("config.json"))
            try SafetensorsFile.write(tensors, dtype: dtype ?? .float32, dtypes: dtypes, metadata: ["format": "pt"],
                                      to: directory.appendingPathComponent("model.safetensors"))
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError(file: directory.path, "cannot write: \((error as NSError).localizedDescription)", kind: .unreadable)
        }
    }
}

extension GPTConfig {
    /// Whether a checkpoint of this family stores the matrix at `site` transposed
    /// (`[out, in]`): the Llama family's projections do, GPT-2's Conv1D weights and
    /// every embedding do not.
    func storesTransposed(_ site: ParameterWalk.Site) -> Bool { modelType.isLlamaFamily && !site.embedding }
}
