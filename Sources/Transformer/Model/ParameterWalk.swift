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
        /// Builds the structure the dimensions give (every optional part, `n_layer` blocks, the
        /// config's settings), for a loader to fill.
        case build
        /// Visits what is there and refuses a missing part (a checkpoint has them all).
        case export
    }

    let mode: Mode
    var dims: Dims
    var onWeight: (Site, inout WeightMatrix) throws -> Void
    var onVector: (Site, inout Matrix) throws -> Void
    private var field: String, name = "", rename: [Dim.Symbol: Dim] = [:]

    init(_ mode: Mode, dims: Dims, field: String, onWeight: @escaping (Site, inout WeightMatrix) throws -> Void,
         onVector: @escaping (Site, inout Matrix) throws -> Void) {
        self.mode = mode
        self.dims = dims
        self.field = field
        self.onWeight = onWeight
        self.onVector = onVector
    }

    private func field(_ key: String) -> String { field.isEmpty ? key : field + "." + key }
    private func name(_ key: String) -> String { name.isEmpty ? key : name + "." + key }

    private func site(_ key: ParameterKey, _ shape: [Dim], _ embedding: Bool) -> Site {
        Site(field: field(key.json), name: name(key.checkpoint), shape: shape.map { dims[$0] ?? -1 }, embedding: embedding)
    }

    /// Throws unless `found` fits `shape` (checking only).
    private mutating func check(_ key: ParameterKey, _ shape: [Dim], _ found: [Int]) throws {
        guard mode == .check else { return }
        var fits = true
        for (d, n) in zip(shape, found) where !dims.fit(d, n) { fits = false }
        if !fits {
            throw ModelError.shapeMismatch(field: field(key.json), expected: dims.describe(shape),
                                           found: "[" + found.map(String.init).joined(separator: ", ") + "]")
        }
    }

    package mutating func weight(_ key: ParameterKey, _ w: inout WeightMatrix, _ rows: Dim, _ cols: Dim, embedding: Bool) throws {
        let shape = [rows.renamed(rename), cols.renamed(rename)]
        try check(key, shape, [w.rows, w.cols])
        try onWeight(site(key, shape, embedding), &w)
    }

    package mutating func vector(_ key: ParameterKey, _ v: inout Matrix, _ count: Dim) throws {
        let shape = [count.renamed(rename)]
        try check(key, shape, [v.cols])
        try onVector(site(key, shape, false), &v)
    }

    package mutating func count(_ key: String, _ value: inout Int, _ symbol: Dim.Symbol) throws {
        let dim = Dim(symbol: symbol, factor: 1)
        if mode == .build, let size = dims[dim] { value = size }
        if mode == .check, !dims.fit(dim, value) {
            throw ModelError.invalidValue(field: field(key), reason: dims[dim].map { "config.\(symbol.rawValue) is \($0), found \(value)" }
                                          ?? "must be ≥ 1, found \(value)")
        }
    }

    package mutating func epsilon(_ key: String, _ value: inout Double) throws {
        if mode == .build, let eps = dims.epsilon { value = eps }
        if mode == .check { try GPTConfig.checkEpsilon(value, field: field(key)) }
    }

    package func require(_ holds: Bool, _ key: String, _ reason: @autoclosure () -> String) throws {
        if mode == .check, !holds { throw ModelError.invalidValue(field: field(key), reason: reason()) }
    }

    package mutating func part<M: ParameterModule>(_ key: ParameterKey, _ part: inout M, _ rename: [Dim.Symbol: Dim]) throws {
        let saved = (field, name, self.rename)
        defer { (field, name, self.rename) = saved }
        (field, name) = (field(key.json), name(key.checkpoint))
        self.rename.merge(rename.mapValues { $0.renamed(saved.2) }) { $1 }
        try part.visit(&self)
    }

    package mutating func optional<M: ParameterModule>(_ key: ParameterKey, _ part: inout M?) throws {
        if part == nil {
            switch mode {
            case .check, .read: return
            case .build: part = M.blank
            case .export:
                throw ModelError.invalidValue(field: field(key.json), reason: "missing: a Hugging Face GPT-2 checkpoint has every part of GPT-2")
            }
        }
        try self.part(key, &part!, [:])
    }

    package mutating func list<M: ParameterModule>(_ key: ParameterKey, _ parts: inout [M], _ count: Dim) throws {
        if mode == .build { parts = Array(repeating: M.blank, count: dims[count] ?? 0) }
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

    package mutating func config(_ key: String, _ config: inout GPTConfig) throws {
        if mode == .check { try config.validate() }
        dims = Dims(config)
    }

    package mutating func names(_ key: String, _ names: inout [String]?, _ count: Dim) throws {
        if mode == .check, let names, !dims.fit(count, names.count) {
            throw ModelError.invalidValue(field: field(key), reason: "config.\(count.symbol.rawValue) is \(dims[count] ?? 0), found \(names.count) names")
        }
    }
}

extension ParameterModule {
    /// Walks the parameters in `mode` (see ``ParameterWalk``), with `dims` bound
    /// and fields named from `field` on.
    package mutating func walk(_ mode: ParameterWalk.Mode, dims: Dims = Dims(), field: String = "",
                               weight: @escaping (ParameterWalk.Site, inout WeightMatrix) throws -> Void = { _, _ in },
                               vector: @escaping (ParameterWalk.Site, inout Matrix) throws -> Void = { _, _ in }) throws {
        var walk = ParameterWalk(mode, dims: dims, field: field, onWeight: weight, onVector: vector)
        try visit(&walk)
    }

    /// Throws ``ModelError`` naming the field when a shape or setting does not fit
    /// its declaration (on its own, each dimension is bound by the first tensor that uses it).
    package func validate(field: String = "") throws {
        var copy = self
        try copy.walk(.check, field: field)
    }
}
