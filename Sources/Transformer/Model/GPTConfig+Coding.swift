import Foundation

// A config reads picoGPT's keys and Hugging Face's (GPT-2's and the Llama
// family's, including both forms of the rotary settings: `rope_theta` +
// `rope_scaling` at the top level, and transformers 5's `rope_parameters`), and
// writes picoGPT's, or a family's Hugging Face keys for a saved checkpoint.

extension GPTConfig {
    public init(from decoder: Decoder) throws {
        let json = ConfigReader(container: try decoder.container(keyedBy: AnyKey.self))
        self.init(nCtx: 0, nVocab: 0, nEmbd: 0)
        if let type = try json.string("model_type") {
            guard let known = ModelType(rawValue: type) else {
                throw json.invalid("model_type", "\"\(type)\" is not a model type this library runs (\(ModelType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            modelType = known
        }
        for row in GPTConfig.counts {
            let names = modelType.isLlamaFamily ? [row.llama, row.dim.rawValue] : [row.dim.rawValue] + (row.gpt2.map { [$0] } ?? [])
            let keys = names.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }      // the family's names first
            if let value = try json.agreeing(keys, { try json.count($0, row.limits) }) {
                self[keyPath: row.path] = value
            } else if [.ctx, .vocab, .embd, .heads, .layers].contains(row.dim) {
                throw ModelError.invalidJSON("missing field \(json.field(keys[0]))" + (keys.count > 1 ? " (or \(keys[1]))" : ""))
            }
        }
        layerNormEpsilon = try json.agreeing([GPTConfig.epsilonKey, "rms_norm_eps"], json.number) ?? (modelType.isLlamaFamily ? 1e-6 : 1e-5)
        try modelType.isLlamaFamily ? readLlamaKeys(json) : refuseGPT2Variants(json)
        try validate(path: json.path == "(top level)" ? "config" : json.path)
    }

    /// Hugging Face's keys for GPT-2 variants this library does not implement, refused when they ask for one.
    private func refuseGPT2Variants(_ json: ConfigReader) throws {
        if let activation = try json.string("activation_function"), !["gelu_new", "gelu_pytorch_tanh"].contains(activation) {
            throw json.invalid("activation_function", "\"\(activation)\" is not GPT-2's tanh GELU (gelu_new), the only activation implemented")
        }
        if try json.bool("scale_attn_weights") == false {
            throw json.invalid("scale_attn_weights", "false is not implemented (GPT-2 scales attention by 1/√head_size)")
        }
        if try json.bool("scale_attn_by_inverse_layer_idx") == true { throw json.invalid("scale_attn_by_inverse_layer_idx", "true is not implemented") }
    }

    /// The Llama family's settings, and refusals of what it may ask for that is not implemented.
    private mutating func readLlamaKeys(_ json: ConfigReader) throws {
        if let activation = try json.string("hidden_act"), activation != "silu" {
            throw json.invalid("hidden_act", "\"\(activation)\" is not implemented (the Llama family's MLP gates with silu)")
        }
        tieWordEmbeddings = try json.bool("tie_word_embeddings") ?? false
        attentionBias = try json.bool("attention_bias") ?? false
        mlpBias = try json.bool("mlp_bias") ?? false
        if try json.bool("use_sliding_window") == true {
            throw json.invalid("use_sliding_window", "true is not implemented (attention sees every earlier position)")
        }
        if let types = try json.strings("layer_types"), let other = types.first(where: { $0 != "full_attention" }) {
            throw json.invalid("layer_types", "\"\(other)\" is not implemented (every layer must be full_attention)")
        }
        if let window = try json.count("sliding_window", 1...Int.max), window < nCtx, modelType == .mistral {
            throw json.invalid("sliding_window", "\(window) is below the context \(nCtx): windowed attention is not implemented")
        }
        // transformers 5 writes `rope_parameters`; earlier versions `rope_theta` and `rope_scaling`.
        let parameters = try json.object("rope_parameters")
        let rope = try parameters ?? json.object("rope_scaling")
        let ropeKey = parameters != nil ? "rope_parameters" : "rope_scaling"
        if let theta = try json.agreeing(["rope_theta"], json.number) ?? rope?.number("rope_theta") { ropeTheta = theta }
        switch try rope?.string("rope_type") ?? rope?.string("type") ?? "default" {
        case "default": ropeScaling = nil
        case "llama3":
            guard let rope else { break }
            guard let original = try rope.count("original_max_position_embeddings", 1...(1 << 24)) else {
                throw rope.invalid("original_max_position_embeddings", "missing")
            }
            ropeScaling = try RopeScaling(factor: rope.required("factor"), lowFreqFactor: rope.required("low_freq_factor"),
                                          highFreqFactor: rope.required("high_freq_factor"),
                                          originalContext: original)
        case let other: throw json.invalid(ropeKey + ".rope_type", "\"\(other)\" is not implemented (default and llama3 are)")
        }
    }

    /// Writes picoGPT's keys, in `counts`' order (the optional ones when given),
    /// then the epsilon; for the Llama family, its settings after.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        if modelType.isLlamaFamily { try c.encode(modelType, forKey: AnyKey("model_type")) }
        for row in GPTConfig.counts where self[keyPath: row.path] != GPTConfig.unset {
            try c.encode(self[keyPath: row.path], forKey: AnyKey(row.dim.rawValue))
        }
        try c.encode(layerNormEpsilon, forKey: AnyKey(GPTConfig.epsilonKey))
        guard modelType.isLlamaFamily else { return }
        try c.encode(ropeTheta, forKey: AnyKey("rope_theta"))
        try c.encodeIfPresent(ropeScaling, forKey: AnyKey("rope_scaling"))
        for (key, flag) in [("tie_word_embeddings", tieWordEmbeddings), ("attention_bias", attentionBias), ("mlp_bias", mlpBias)] {
            try c.encode(flag, forKey: AnyKey(key))
        }
    }

    /// The keys of a Hugging Face `config.json` for this model: GPT-2's (picoGPT's
    /// and their aliases), or the Llama family's.
    func huggingFaceKeys() throws -> [String: Any] {
        var keys: [String: Any]
        if modelType.isLlamaFamily {
            let architecture = ["llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "mistral": "MistralForCausalLM"][modelType.rawValue]!
            keys = ["model_type": modelType.rawValue, "architectures": [architecture], "hidden_act": "silu", "rms_norm_eps": layerNormEpsilon,
                    "rope_theta": ropeTheta, "tie_word_embeddings": tieWordEmbeddings, "attention_bias": attentionBias, "mlp_bias": mlpBias,
                    "num_key_value_heads": keyValueHeads, "head_dim": headSize, "intermediate_size": hiddenSize]
            keys["rope_scaling"] = try ropeScaling.map { try JSONSerialization.jsonObject(with: JSONEncoder().encode($0)) } ?? NSNull()
            if modelType == .mistral { keys["sliding_window"] = NSNull() }
        } else {
            keys = ["model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "activation_function": "gelu_new", GPTConfig.epsilonKey: layerNormEpsilon]
        }
        for row in GPTConfig.counts where self[keyPath: row.path] != GPTConfig.unset {
            let names = modelType.isLlamaFamily ? [row.llama] : [row.dim.rawValue] + (row.gpt2.map { [$0] } ?? [])
            for key in names where keys[key] == nil { keys[key] = self[keyPath: row.path] }
        }
        return keys
    }

    /// Reads a Hugging Face `config.json` (a regular file of at most 1 MiB).
    ///
    /// - Throws: ``CheckpointError`` naming the file.
    public init(file url: URL) throws {
        try self.init(huggingFace: readRegularFile(url, limit: 1 << 20), file: url.path)
    }

    /// Decodes a Hugging Face `config.json`; every problem is a ``CheckpointError``
    /// naming `file`, a key given twice in one object among them.
    public init(huggingFace data: Data, file: String = "config.json") throws {
        do {
            try refuseRepeatedKeys(data)
            self = try JSONDecoder().decode(GPTConfig.self, from: data)
        } catch {
            throw CheckpointError(file: file, (error as? DecodingError).map { ModelError($0).description } ?? "\(error)")
        }
    }
}

/// Typed reads of a config object's keys, each error naming the field.
private struct ConfigReader {
    let container: KeyedDecodingContainer<AnyKey>
    var path: String { fieldPath(container.codingPath) }

    func field(_ key: String) -> String { path == "(top level)" ? key : "\(path).\(key)" }
    func invalid(_ key: String, _ reason: String) -> ModelError { .invalidValue(field: field(key), reason: reason) }

    /// Whether `key` holds a value other than null.
    private func has(_ key: String) throws -> Bool { try container.contains(AnyKey(key)) && !container.decodeNil(forKey: AnyKey(key)) }

    /// The value of `key`, nil when absent or null; an error naming `what` it must be otherwise.
    private func read<T: Decodable>(_ key: String, _ type: T.Type, _ what: String) throws -> T? {
        guard try has(key) else { return nil }
        guard let value = try? container.decode(T.self, forKey: AnyKey(key)) else { throw invalid(key, "must be \(what)") }
        return value
    }

    func string(_ key: String) throws -> String? { try read(key, String.self, "a string") }
    func bool(_ key: String) throws -> Bool? { try read(key, Bool.self, "true or false") }
    func number(_ key: String) throws -> Double? { try read(key, Double.self, "a number") }
    func strings(_ key: String) throws -> [String]? { try read(key, [String].self, "an array of strings") }
    func required(_ key: String) throws -> Double {
        guard let value = try number(key) else { throw invalid(key, "missing") }
        return value
    }

    /// A nested object, nil when absent or null.
    func object(_ key: String) throws -> ConfigReader? {
        guard try has(key) else { return nil }
        guard let nested = try? container.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey(key)) else { throw invalid(key, "must be an object") }
        return ConfigReader(container: nested)
    }

    /// An integer in `range`, nil when absent or null.
    func count(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
        guard try has(key) else { return nil }
        let int = try? container.decode(Int.self, forKey: AnyKey(key))
        if let int, range.contains(int) { return int }
        let found = int.map(String.init) ?? (try? container.decode(Double.self, forKey: AnyKey(key))).map { "\($0)" } ?? "a value that is not a number"
        throw invalid(key, "must be an integer in \(range.lowerBound)…\(range.upperBound), found \(found)")
    }

    /// The one value the `keys` given give (`read` reads each), nil when none is given.
    func agreeing<T: Equatable>(_ keys: [String], _ read: (String) throws -> T?) throws -> T? {
        var found: (key: String, value: T)?
        for key in keys {
            guard let value = try read(key) else { continue }
            if let found, found.value != value { throw invalid(found.key, "\(found.value) disagrees with \(key) \(value)") }
            found = found ?? (key, value)
        }
        return found?.value
    }
}
