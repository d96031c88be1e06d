import Foundation
import LinearAlgebra

// Every parameter module is Codable through its declaration: JSON in picoGPT's
// layout (`{"w": [[…]], "b": […]}`, `{"g": […], "b": […], "eps": 1e-5}`, …),
// weights as `Double`, validated after decoding.

extension ParameterModule {
    /// Decodes the declared fields, then validates them (see ``validate(field:)``).
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        self = try JSONDecodingVisitor(container: container).decoded(container)
        try validate(field: decoder.codingPath.isEmpty ? "" : fieldPath(decoder.codingPath))
    }

    /// Encodes the declared fields.
    public func encode(to encoder: Encoder) throws {
        var copy = self
        try JSONEncodingVisitor.encode(&copy, into: encoder.container(keyedBy: AnyKey.self))
    }
}

/// Any JSON object key.
struct AnyKey: CodingKey {
    let stringValue: String
    init(_ string: String) { stringValue = string }
    init(stringValue: String) { self.init(stringValue) }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

/// Reads a module's declared fields from a JSON object.
struct JSONDecodingVisitor: ParameterVisitor {
    let container: KeyedDecodingContainer<AnyKey>
    /// A model's config, once read: the settings' defaults and the blocks' count.
    var config: GPTConfig?

    func weight(_ key: ParameterKey, _ w: inout WeightMatrix, _ rows: Dim, _ cols: Dim, embedding: Bool) throws {
        w = WeightMatrix(try container.decode(Matrix.self, forKey: AnyKey(key.json)))
    }

    func vector(_ key: ParameterKey, _ v: inout Matrix, _ count: Dim) throws {
        v = Matrix(row: try container.decode([Double].self, forKey: AnyKey(key.json)))
    }

    func optional(_ key: ParameterKey, _ w: inout WeightMatrix?, _ rows: Dim, _ cols: Dim) throws {
        w = try container.decodeIfPresent(Matrix.self, forKey: AnyKey(key.json)).map { WeightMatrix($0) }
    }

    func optional(_ key: ParameterKey, _ v: inout Matrix?, _ count: Dim) throws {
        v = try container.decodeIfPresent([Double].self, forKey: AnyKey(key.json)).map { Matrix(row: $0) }
    }

    func setting<T: Codable & Equatable>(_ key: String, _ value: inout T, bound: KeyPath<GPTConfig, T>?, fallback: T) throws {
        let bound = bound.flatMap { config?[keyPath: $0] }
        value = try container.decodeIfPresent(T.self, forKey: AnyKey(key)) ?? bound ?? fallback
    }

    mutating func config(_ key: String, _ config: inout GPTConfig) throws {
        config = try container.decode(GPTConfig.self, forKey: AnyKey(key))
        self.config = config
    }

    /// The part whose fields are in `container`.
    func decoded<M: ParameterModule>(_ container: KeyedDecodingContainer<AnyKey>) throws -> M {
        var visitor = JSONDecodingVisitor(container: container, config: config), part = M.blank(config)
        try part.visit(&visitor)
        return part
    }

    func part<M: ParameterModule>(_ key: ParameterKey, _ part: inout M, _ rename: [Dim.Symbol: Dim]) throws {
        part = try decoded(container.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey(key.json)))
    }

    func optional<M: ParameterModule>(_ key: ParameterKey, _ part: inout M?, _ rename: [Dim.Symbol: Dim]) throws {
        guard container.contains(AnyKey(key.json)), try !container.decodeNil(forKey: AnyKey(key.json)) else { return part = nil }
        part = try decoded(container.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey(key.json))) as M
    }

    func list<M: ParameterModule>(_ key: ParameterKey, _ parts: inout [M], _ count: Dim) throws {
        var list = try container.nestedUnkeyedContainer(forKey: AnyKey(key.json))
        let limit = config.map(Dims.init)?[count]
        parts = []
        while !list.isAtEnd {
            if let limit, parts.count >= limit {   // refused before a hostile file's millionth block is read
                throw ModelError.invalidValue(field: fieldPath(container.codingPath, AnyKey(key.json)),
                                              reason: "config.\(count.symbol.rawValue) is \(limit), found more \(key.json)")
            }
            parts.append(try decoded(list.nestedContainer(keyedBy: AnyKey.self)))
        }
    }
}

/// Writes a module's declared fields as a JSON object.
struct JSONEncodingVisitor: ParameterVisitor {
    var container: KeyedEncodingContainer<AnyKey>

    mutating func weight(_ key: ParameterKey, _ w: inout WeightMatrix, _ rows: Dim, _ cols: Dim, embedding: Bool) throws {
        try container.encode(w.matrix, forKey: AnyKey(key.json))
    }

    mutating func vector(_ key: ParameterKey, _ v: inout Matrix, _ count: Dim) throws {
        try container.encode(v.elements, forKey: AnyKey(key.json))
    }

    mutating func optional(_ key: ParameterKey, _ w: inout WeightMatrix?, _ rows: Dim, _ cols: Dim) throws {
        try container.encodeIfPresent(w?.matrix, forKey: AnyKey(key.json))
    }

    mutating func optional(_ key: ParameterKey, _ v: inout Matrix?, _ count: Dim) throws {
        try container.encodeIfPresent(v?.elements, forKey: AnyKey(key.json))
    }

    mutating func setting<T: Codable & Equatable>(_ key: String, _ value: inout T, bound: KeyPath<GPTConfig, T>?, fallback: T) throws {
        try container.encode(value, forKey: AnyKey(key))
    }

    mutating func part<M: ParameterModule>(_ key: ParameterKey, _ part: inout M, _ rename: [Dim.Symbol: Dim]) throws {
        try JSONEncodingVisitor.encode(&part, into: container.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey(key.json)))
    }

    /// Writes `part`'s fields into `container`.
    static func encode<M: ParameterModule>(_ part: inout M, into container: KeyedEncodingContainer<AnyKey>) throws {
        var visitor = JSONEncodingVisitor(container: container)
        try part.visit(&visitor)
    }

    mutating func optional<M: ParameterModule>(_ key: ParameterKey, _ part: inout M?, _ rename: [Dim.Symbol: Dim]) throws {
        if part != nil { try self.part(key, &part!, [:]) }
    }

    mutating func list<M: ParameterModule>(_ key: ParameterKey, _ parts: inout [M], _ count: Dim) throws {
        var list = container.nestedUnkeyedContainer(forKey: AnyKey(key.json))
        for i in parts.indices { try JSONEncodingVisitor.encode(&parts[i], into: list.nestedContainer(keyedBy: AnyKey.self)) }
    }
}
