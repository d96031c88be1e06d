import LinearAlgebra

/// Walks a model's declared parameters in order (see ``ParameterModule``),
/// handing each to `onWeight` or `onVector` with its names and declared shape.
/// One walk validates, lists, converts, loads and saves.
package struct ParameterWalk: ParameterVisitor {
    /// A parameter's names and the shape its declaration gives it.
    package struct Site {
        /// Its JSON path (`blocks[0].attn.c_attn.w`) and checkpoint name (`h.0.attn.c_attn.weight`).
        let field: String, name: String
        /// The declared shape in the bound dimensions (`-1` where unbound): `[rows, cols]` or `[count]`.
        let shape: [Int]
        /// Whether it is a lookup table (`wte`, `wpe`).
        let embedding: Bool
    }

    /// What the walk does besides handing out parameters.
    package enum Mode {
        /// Checks every shape and setting against the dimensions, binding unbound ones from what it finds.
        case check
        /// Visits what is there.
        case read
        /// Builds the structure `config` gives (`n_layer` blocks of the parts
        /// ``ParameterModule/blank(_:)`` gives, the config's settings), for a loader to fill.
        case build
    }

    let mode: Mode
    /// The model's config, once visited (or given): it binds the dimensions and settings.
    var config: GPTConfig?
    var field = "", name = "", dims = Dims(), rename: [Dim.Symbol: Dim] = [:]
    var onWeight: (Site, inout WeightMatrix) throws -> Void = { _, _ in }
    var onVector: (Site, inout Matrix) throws -> Void = { _, _ in }

    private func field(_ key: String) -> String { field.isEmpty ? key : field + "." + key }
    private func name(_ key: String) -> String { name.isEmpty ? key : name + "." + key }

    /// Hands a parameter on, once its shape `found` fits `shape` and it holds no
    /// NaN or infinity (`nonFinite` finds one), when checking.
    private mutating func visit<P>(_ key: ParameterKey, _ p: inout P, _ shape: [Dim], found: [Int], embedding: Bool = false,
                                   nonFinite: (P) -> (row: Int, col: Int, value: Double)?, _ body: (Site, inout P) throws -> Void) throws {
        let shape = shape.map { $0.renamed(rename) }
        if mode == .check, !zip(shape, found).map({ dims.fit($0, $1) }).allSatisfy({ $0 }) {
            throw ModelError.shapeMismatch(field: field(key.json), expected: dims.describe(shape),
                                           found: "[" + found.map(String.init).joined(separator: ", ") + "]")
        }
        if mode == .check, let bad = nonFinite(p) {
            throw ModelError.invalidValue(field: field(key.json), reason: "\(bad.value) at [\(bad.row), \(bad.col)] (tensor \(name(key.checkpoint)) in a checkpoint): weights must be finite")
        }
        try body(Site(field: field(key.json), name: name(key.checkpoint), shape: shape.map { dims[$0] ?? -1 }, embedding: embedding), &p)
    }

    package mutating func weight(_ key: ParameterKey, _ w: inout WeightMatrix, _ rows: Dim, _ cols: Dim, embedding: Bool) throws {
        try visit(key, &w, [rows, cols], found: [w.rows, w.cols], embedding: embedding, nonFinite: \.nonFinite, onWeight)
    }

    package mutating func vector(_ key: ParameterKey, _ v: inout Matrix, _ count: Dim) throws {
        try visit(key, &v, [count], found: [v.cols], nonFinite: { v in v.elements.firstIndex { !$0.isFinite }.map { (0, $0, v.elements[$0]) } }, onVector)
    }

    package mutating func optional(_ key: ParameterKey, _ w: inout WeightMatrix?, _ rows: Dim, _ cols: Dim) throws {
        if w != nil { try weight(key, &w!, rows, cols, embedding: true) }
    }

    package mutating func optional(_ key: ParameterKey, _ v: inout Matrix?, _ count: Dim) throws {
        if v != nil { try vector(key, &v!, count) }
    }

    package func setting<T: Codable & Equatable>(_ key: String, _ value: inout T, bound: KeyPath<GPTConfig, T>?, fallback: T) throws {
        guard let bound, let config else { return }
        if mode == .build { value = config[keyPath: bound] }
        if mode == .check, value != config[keyPath: bound] {
            throw ModelError.invalidValue(field: field(key), reason: "the config gives \(config[keyPath: bound]), found \(value)")
        }
    }

    package func require(_ holds: Bool, _ key: String, _ reason: @autoclosure () -> String) throws {
        if mode == .check, !holds { throw ModelError.invalidValue(field: field(key), reason: reason()) }
    }

    package mutating func config(_ key: String, _ config: inout GPTConfig) throws {
        if mode == .build, let given = self.config { config = given }
        if mode == .check { try config.validate() }
        (self.config, dims) = (config, Dims(config))
    }

    package mutating func part<M: ParameterModule>(_ key: ParameterKey, _ part: inout M, _ rename: [Dim.Symbol: Dim]) throws {
        let saved = (field, name, self.rename)
        defer { (field, name, self.rename) = saved }
        (field, name) = (field(key.json), name(key.checkpoint))
        self.rename.merge(rename.mapValues { $0.renamed(saved.2) }) { $1 }
        try part.visit(&self)
    }

    package mutating func optional<M: ParameterModule>(_ key: ParameterKey, _ part: inout M?, _ rename: [Dim.Symbol: Dim]) throws {
        if part != nil { try self.part(key, &part!, rename) }
    }

    package mutating func list<M: ParameterModule>(_ key: ParameterKey, _ parts: inout [M], _ count: Dim) throws {
        if mode == .build { parts = Array(repeating: M.blank(config), count: dims[count] ?? 0) }
        if mode == .check, !dims.fit(count, parts.count) {
            throw ModelError.invalidValue(field: field(key.json), reason: "config.\(count.symbol.rawValue) is \(dims[count] ?? 0), found \(parts.count) \(key.json)")
        }
        let saved = (field, name), listField = field(key.json), listName = name(key.checkpoint)
        defer { (field, name) = saved }
        for i in parts.indices {
            (field, name) = (listField + "[\(i)]", listName + ".\(i)")
            try parts[i].visit(&self)
        }
    }
}

extension ParameterModule {
    /// Walks the parameters in `mode` (see ``ParameterWalk``), `config` binding
    /// the dimensions, fields named from `field` on.
    package mutating func walk(_ mode: ParameterWalk.Mode, config: GPTConfig? = nil, field: String = "",
                               weight: @escaping (ParameterWalk.Site, inout WeightMatrix) throws -> Void = { _, _ in },
                               vector: @escaping (ParameterWalk.Site, inout Matrix) throws -> Void = { _, _ in }) throws {
        var walk = ParameterWalk(mode: mode, config: config, field: field, dims: Dims(config), onWeight: weight, onVector: vector)
        try visit(&walk)
    }

    /// Throws ``ModelError`` naming the field when a shape or setting does not fit
    /// its declaration (on its own, each dimension is bound by the first tensor that uses it).
    package func validate(field: String = "") throws {
        var copy = self
        try copy.walk(.check, field: field)
    }
}
