import Foundation
import LinearAlgebra

/// A GPT-2 laid out for running rather than reading: the same computation as
/// ``GPT``'s cached forward pass, with each weight matrix a
/// ``LinearAlgebra/WeightMatrix``. By default (``LinearAlgebra/WeightMatrix/Precision/both``)
/// each block matrix is kept as `Double` for the prompt's matrix–matrix products
/// and, wherever that is lossless (every F32, F16 or BF16 checkpoint), also as
/// `Float` for decoding's matrix–vector products; the embeddings as `Float` alone.
///
/// All arithmetic stays in `Double`: a `Float` weight is widened exactly as it
/// is read, so logits match the all-`Double` model to summation order (~1e-15).
/// What changes is memory traffic: decoding a token streams every weight once,
/// and half the bytes take half the time on a memory-bound machine.
///
/// ```swift
/// let model = try InferenceGPT(directory: URL(fileURLWithPath: "gpt2"))
/// let result = try model.generate([15496, 11], maxNewTokens: 20)
/// ```
public struct InferenceGPT: Sendable {
    /// The hyperparameters.
    public let config: GPTConfig
    /// Token embeddings, `[n_vocab, n_embd]`; also the output projection.
    public let wte: WeightMatrix
    /// Position embeddings, `[n_ctx, n_embd]`.
    public let wpe: WeightMatrix
    /// The final layer norm, if any.
    public let ln_f: LayerNorm?
    let layers: [DecoderLayer]
    /// The backend this model runs on when a call names none; `nil` follows
    /// ``LinearAlgebra/Backend/default``.
    public var backend: Backend?

    /// `gpt`'s weights in `precision` (see ``LinearAlgebra/WeightMatrix/init(_:precision:)``;
    /// `.double` shares them, no copy). With `.both`, the embeddings are kept
    /// as `Float` only: they take part in matrix–vector products and lookups.
    public init(_ gpt: GPT, precision: WeightMatrix.Precision = .both) {
        let embeddings = InferenceGPT.embeddingPrecision(precision)
        config = gpt.config
        wte = WeightMatrix(gpt.wte, precision: embeddings)
        wpe = WeightMatrix(gpt.wpe, precision: embeddings)
        ln_f = gpt.ln_f
        layers = gpt.blocks.map { DecoderLayer($0, precision: precision) }
        backend = gpt.backend
    }

    /// Loads a Hugging Face GPT-2 directory, as ``GPT/init(directory:)`` does,
    /// keeping the weights in `precision` where that is lossless (with
    /// `.float32`, an F32 checkpoint's weights are never widened in memory).
    ///
    /// - Throws: ``CheckpointError`` as ``GPT/init(directory:)`` does.
    public init(directory: URL, precision: WeightMatrix.Precision = .both) throws {
        let (config, file) = try GPT.openCheckpoint(directory)
        try self.init(config: config, safetensors: file, precision: precision)
    }

    /// Builds a model from a validated safetensors file and its config.
    public init(config: GPTConfig, safetensors file: SafetensorsFile, precision: WeightMatrix.Precision = .both) throws {
        try config.validate()
        let (prefix, wanted) = GPT.checkpointLayout(of: file, config: config)
        func requests(_ keep: ((name: String, shape: [Int])) -> Bool) -> [(name: String, shape: [Int])] {
            wanted.filter(keep).map { (prefix + $0.name, $0.shape) }
        }
        let isEmbedding = { (t: (name: String, shape: [Int])) in t.name == "wte.weight" || t.name == "wpe.weight" }
        let embeddings = requests(isEmbedding), matrices = requests { $0.shape.count == 2 && !isEmbedding($0) }
        let vectors = requests { $0.shape.count == 1 }
        let loaded = try file.weightMatrices(embeddings, precision: InferenceGPT.embeddingPrecision(precision))
            + file.weightMatrices(matrices, precision: precision)
        var byName = Dictionary(uniqueKeysWithValues: zip((embeddings + matrices).map(\.name), loaded))
        var rows = Dictionary(uniqueKeysWithValues: zip(vectors.map(\.name), try file.matrices(vectors)))
        func weight(_ name: String) -> WeightMatrix { byName.removeValue(forKey: prefix + name)! }   // moved out: no copy
        func row(_ name: String) -> Matrix { rows.removeValue(forKey: prefix + name)! }
        func linear(_ name: String) -> DecoderLinear { DecoderLinear(w: weight("\(name).weight"), b: row("\(name).bias")) }
        func norm(_ name: String) -> LayerNorm { LayerNorm(g: row("\(name).weight"), b: row("\(name).bias"), eps: config.layerNormEpsilon) }
        self.config = config
        wte = weight("wte.weight")
        wpe = weight("wpe.weight")
        layers = (0..<config.nLayer).map { i in
            DecoderLayer(ln_1: norm("h.\(i).ln_1"), c_attn: linear("h.\(i).attn.c_attn"), c_proj: linear("h.\(i).attn.c_proj"),
                         ln_2: norm("h.\(i).ln_2"), mlp: (linear("h.\(i).mlp.c_fc"), linear("h.\(i).mlp.c_proj")))
        }
        ln_f = norm("ln_f")
    }

    /// The embeddings' precision for a model in `precision`: `Float` alone
    /// serves their lookups and the one-row logits product, so `.both` keeps only that.
    static func embeddingPrecision(_ precision: WeightMatrix.Precision) -> WeightMatrix.Precision {
        precision == .both ? .float32 : precision
    }

    /// Every weight matrix: embeddings first, then each block's.
    public var weightMatrices: [WeightMatrix] { [wte, wpe] + layers.flatMap(\.weights) }

    /// The number of parameters (embeddings, weights, biases, gains).
    public var parameterCount: Int {
        weightMatrices.reduce(0) { $0 + $1.rows * $1.cols } + vectorParameterCount
    }

    /// The bytes the parameters occupy as stored (biases and gains as `Double`).
    public var byteCount: Int {
        weightMatrices.reduce(0) { $0 + $1.byteCount } + 8 * vectorParameterCount
    }

    /// The biases, gains and layer-norm parameters.
    private var vectorParameterCount: Int {
        layers.reduce(0) { $0 + $1.vectorParameterCount } + (ln_f.map { 2 * $0.g.cols } ?? 0)
    }

    /// How many of ``weightMatrices`` have a `Float` copy (alone or beside a `Double` one).
    public var compactMatrixCount: Int { weightMatrices.filter { $0.precision != .double }.count }

    /// Throws ``InputError`` unless `tokens` is non-empty, fits the context
    /// after `start` positions already seen, and holds only valid ids.
    public func checkInput(_ tokens: [Int], startingAt start: Int = 0) throws {
        try checkTokens(tokens, startingAt: start)
    }

    /// As ``GPT/forward(_:cache:logits:allPositions:backend:)``.
    public func forward(_ tokens: [Int], cache: KVCache, logits: inout Matrix,
                        allPositions: Bool = false, backend: Backend? = nil) throws {
        try cachedForward(tokens, cache: cache, logits: &logits, allPositions: allPositions, backend: backend)
    }

    /// As ``GPT/generate(_:maxNewTokens:sampler:seed:backend:cache:onToken:)``.
    public func generate(_ prompt: [Int], maxNewTokens: Int, sampler: Sampler = .greedy, seed: UInt64 = 0,
                         backend: Backend? = nil, cache: KVCache? = nil,
                         onToken: (Int) -> Void = { _ in }) throws -> Generation {
        try generateTokens(prompt, maxNewTokens: maxNewTokens, sampler: sampler, seed: seed,
                           backend: backend, cache: cache, onToken: onToken)
    }
}

extension InferenceGPT: CachedDecoder {
    var tokenEmbeddings: WeightMatrix { wte }
    var positionEmbeddings: WeightMatrix { wpe }
    var finalNorm: LayerNorm? { ln_f }
    func layer(_ l: Int) -> DecoderLayer { layers[l] }
}
