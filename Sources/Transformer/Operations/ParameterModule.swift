import LinearAlgebra

/// A part of a model that owns parameters. It declares each parameter once,
/// in ``visit(_:)``: its names (picoGPT's JSON key and the Hugging Face
/// checkpoint key), its shape rule in the model's dimensions, whether it may
/// be absent. JSON coding, validation, checkpoint loading and saving, the
/// parameter listing and storage conversions are visitors walking that one
/// declaration (``ParameterWalk``, ``JSONDecodingVisitor``, ``JSONEncodingVisitor``).
///
/// A new operation is one file: its fields, its `visit`, and its `apply`.
package protocol ParameterModule: Sendable {
    /// The smallest valid instance (1 × 1 weights), for a visitor to fill.
    static var blank: Self { get }
    /// The smallest instance with the parts `config` implies (a Llama-family
    /// block has RMS norms and a gated MLP), for a loader or a decoder to fill.
    /// Default: ``blank``.
    static func blank(_ config: GPTConfig?) -> Self
    /// Declares every parameter, setting and part, in order, to `visitor`.
    mutating func visit<V: ParameterVisitor>(_ visitor: inout V) throws
}

/// What a ``ParameterModule`` declares its parameters to: each method is one
/// kind of declaration, and each visitor does its one job with it.
package protocol ParameterVisitor {
    /// A weight matrix of shape `[rows, cols]`; `embedding` for a lookup table (`wte`, `wpe`).
    mutating func weight(_ key: ParameterKey, _ w: inout WeightMatrix, _ rows: Dim, _ cols: Dim, embedding: Bool) throws
    /// A vector of `count` numbers, held as a `[1, count]` row.
    mutating func vector(_ key: ParameterKey, _ v: inout Matrix, _ count: Dim) throws
    /// A lookup table a model may lack (GPT-2's `wpe`, an untied `lm_head`), of shape `[rows, cols]`.
    mutating func optional(_ key: ParameterKey, _ w: inout WeightMatrix?, _ rows: Dim, _ cols: Dim) throws
    /// A vector a part may lack (a bias of Llama's projections).
    mutating func optional(_ key: ParameterKey, _ v: inout Matrix?, _ count: Dim) throws
    /// A setting (`n_head`, `eps`, token names): inside a model it must equal the
    /// config's value at `bound`, which is also its default; on its own it defaults to `fallback`.
    mutating func setting<T: Codable & Equatable>(_ key: String, _ value: inout T, bound: KeyPath<GPTConfig, T>?, fallback: T) throws
    /// A rule between settings and shapes, checked when validating (`reason` says what is wrong).
    mutating func require(_ holds: Bool, _ key: String, _ reason: @autoclosure () -> String) throws
    /// A model's configuration, which binds every dimension.
    mutating func config(_ key: String, _ config: inout GPTConfig) throws
    /// A part whose shape symbols are renamed (`[.input: .embd, .output: .embd * 3]`).
    mutating func part<M: ParameterModule>(_ key: ParameterKey, _ part: inout M, _ rename: [Dim.Symbol: Dim]) throws
    /// A part a model may lack (a missing layer norm is the identity), its shape symbols renamed.
    mutating func optional<M: ParameterModule>(_ key: ParameterKey, _ part: inout M?, _ rename: [Dim.Symbol: Dim]) throws
    /// `count` parts in a row (a model's blocks).
    mutating func list<M: ParameterModule>(_ key: ParameterKey, _ parts: inout [M], _ count: Dim) throws
}

extension ParameterModule {
    package static func blank(_ config: GPTConfig?) -> Self { blank }
}

extension ParameterVisitor {
    /// A part a model may lack, its symbols as they are.
    package mutating func optional<M: ParameterModule>(_ key: ParameterKey, _ part: inout M?) throws { try optional(key, &part, [:]) }
    package func require(_ holds: Bool, _ key: String, _ reason: @autoclosure () -> String) {}
    package mutating func config(_ key: String, _ config: inout GPTConfig) throws { try setting(key, &config, bound: nil, fallback: config) }
}

/// A name in JSON (picoGPT's layout) and in a Hugging Face checkpoint.
package struct ParameterKey: ExpressibleByStringLiteral, Sendable {
    let json: String, checkpoint: String

    init(_ json: String, checkpoint: String? = nil) {
        self.json = json
        self.checkpoint = checkpoint ?? json
    }

    package init(stringLiteral json: String) { self.init(json) }
}

/// A size in a shape rule: `factor ×` one of the model's dimensions (`.embd * 3`).
package struct Dim: Sendable, Equatable {
    /// The dimensions a shape rule names, each under its config key (see
    /// ``GPTConfig/counts``). A model binds them from its config; an operation
    /// on its own binds each from the first tensor that uses it.
    package enum Symbol: String, Sendable {
        case embd = "n_embd", hidden = "n_inner", vocab = "n_vocab", ctx = "n_ctx", heads = "n_head", layers = "n_layer"
        case kvHeads = "n_kv_head", headDim = "head_dim"
        /// The widths of the queries (`n_head · head_dim`) and of the keys or values (`n_kv_head · head_dim`).
        case query = "n_head * head_dim", keyValue = "n_kv_head * head_dim"
        /// A linear map's sizes, which the operation holding it renames.
        case input, output
    }
    let symbol: Symbol, factor: Int

    init(_ symbol: Symbol, factor: Int = 1) { (self.symbol, self.factor) = (symbol, factor) }

    static let embd = Dim(.embd), hidden = Dim(.hidden), vocab = Dim(.vocab), ctx = Dim(.ctx), layers = Dim(.layers)
    static let query = Dim(.query), keyValue = Dim(.keyValue)
    static let input = Dim(.input), output = Dim(.output)

    static func * (d: Dim, k: Int) -> Dim { Dim(d.symbol, factor: d.factor * k) }

    /// This dimension with `rename` applied.
    func renamed(_ rename: [Symbol: Dim]) -> Dim { rename[symbol].map { $0 * factor } ?? self }
}

/// The sizes of the dimensions bound so far.
package struct Dims: Sendable {
    private var sizes: [Dim.Symbol: Int] = [:]

    /// Every dimension of `config`.
    init(_ config: GPTConfig? = nil) {
        guard let config else { return }
        for row in GPTConfig.counts { sizes[row.dim] = config[keyPath: row.path] }
        (sizes[.hidden], sizes[.kvHeads], sizes[.headDim]) = (config.hiddenSize, config.keyValueHeads, config.headSize)
        (sizes[.query], sizes[.keyValue]) = (config.nHead * config.headSize, config.keyValueHeads * config.headSize)
    }

    /// The size of `d`, if its symbol is bound.
    subscript(d: Dim) -> Int? { sizes[d.symbol].map { $0 * d.factor } }

    /// Whether `found` is `d`'s size; an unbound symbol is bound to fit it when it can.
    mutating func fit(_ d: Dim, _ found: Int) -> Bool {
        if let size = self[d] { return size == found }
        guard found > 0, found % d.factor == 0 else { return false }
        sizes[d.symbol] = found / d.factor
        return true
    }

    /// A shape rule as numbers, `*` where a symbol is unbound: `[64, 192]`.
    func describe(_ shape: [Dim]) -> String { "[" + shape.map { self[$0].map(String.init) ?? "*" }.joined(separator: ", ") + "]" }
}
